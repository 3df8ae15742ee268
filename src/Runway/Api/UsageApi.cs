using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Runway.Auth;
using Runway.Storage;

namespace Runway.Api;

/// <summary>Accounting (issue 16): who used how much, from the runs table in one indexed query (<see cref="UsageQuery"/>).</summary>
public static class UsageApi
{
    public static readonly TimeSpan DefaultRange = TimeSpan.FromDays(30);

    private static readonly Dictionary<string, UsageGrouping> Groupings =
        Enum.GetValues<UsageGrouping>().ToDictionary(g => g.ToString().ToLowerInvariant(), StringComparer.Ordinal);

    public static IEndpointRouteBuilder MapUsage(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/admin/usage", AdminUsageAsync).WithTags("Admin").RequireAuthorization(Scopes.Admin)
            .WithSummary("Finished runs in [from, to) (ISO 8601; default the last 30 days) per user, pipeline, group, node or day (?group_by=, default user): runs by final state, wall and CPU hours, peak memory p50/p95/max");
        app.MapGet("/api/v1/me/usage", MyUsageAsync).WithTags("Account").RequireAuthorization(Scopes.RunsRead)
            .WithSummary("The caller's own usage, as /api/v1/admin/usage answers it");
        return app;
    }

    public static Task<Results<Ok<UsageResponse>, ProblemHttpResult>> AdminUsageAsync(
        string? from, string? to, string? group_by, UsageQuery query, StorageUse storage, TimeProvider clock, CancellationToken ct) =>
        AnswerAsync(from, to, group_by, owner: null, query, storage, clock, ct);

    public static Task<Results<Ok<UsageResponse>, ProblemHttpResult>> MyUsageAsync(
        string? from, string? to, string? group_by, ClaimsPrincipal user, UsageQuery query, StorageUse storage, TimeProvider clock, CancellationToken ct) =>
        AnswerAsync(from, to, group_by, Caller.NameOf(user), query, storage, clock, ct);

    private static async Task<Results<Ok<UsageResponse>, ProblemHttpResult>> AnswerAsync(
        string? fromText, string? toText, string? groupText, string? owner, UsageQuery query, StorageUse storage, TimeProvider clock, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var to = Time(toText, "to", errors) ?? clock.GetUtcNow();
        var from = Time(fromText, "from", errors) ?? to - DefaultRange;
        if (errors.Count == 0 && from >= to)
        {
            errors["to"] = ["must be later than from"];
        }
        var by = UsageGrouping.User;
        if (groupText is not null && !Groupings.TryGetValue(groupText, out by))
        {
            errors["group_by"] = ["must be one of user, pipeline, group, node, day"];
        }
        if (errors.Count > 0)
        {
            return TypedResults.Problem(new HttpValidationProblemDetails(errors)
            {
                Status = StatusCodes.Status400BadRequest,
                Title = "The query is not valid",
                Type = "https://tools.ietf.org/html/rfc9110#section-15.5.1",
            });
        }
        var rows = await query.RunAsync(from, to, by, owner, ct);
        // What is stored now (not in the range): a second, index-only query (StorageUse).
        var stored = owner is null
            ? (await storage.PerUserAsync(ct)).OrderBy(u => u.Key, StringComparer.Ordinal).Select(u => StorageRow.Of(u.Key, u.Value)).ToList()
            : [StorageRow.Of(owner, await storage.OfAsync(owner, ct))];
        return TypedResults.Ok(new UsageResponse(from, to, by.ToString().ToLowerInvariant(), rows, stored));
    }

    /// <summary>An ISO 8601 instant, or a date (its midnight UTC); null (with an error) for anything else.</summary>
    private static DateTimeOffset? Time(string? text, string field, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }
        if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
        {
            return new DateTimeOffset(day, TimeOnly.MinValue, TimeSpan.Zero);
        }
        if (text.Contains('T', StringComparison.Ordinal)
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at))
        {
            return at;
        }
        errors[field] = ["must be an ISO 8601 date (2026-11-01) or time (2026-11-01T12:00:00Z)"];
        return null;
    }
}

/// <param name="GroupBy">user, pipeline, group, node or day: what each row's <c>key</c> is.</param>
/// <param name="Storage">Bytes each user stores now, whatever the range: uploads and run directories (allocated).</param>
public sealed record UsageResponse(DateTimeOffset From, DateTimeOffset To, string GroupBy, IReadOnlyList<UsageRow> Rows, IReadOnlyList<StorageRow> Storage);

public sealed record StorageRow(string User, long UploadsBytes, long RunFilesBytes, long TotalBytes)
{
    public static StorageRow Of(string user, StoredBytes bytes) => new(user, bytes.Uploads, bytes.RunFiles, bytes.Total);
}
