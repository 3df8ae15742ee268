using Microsoft.AspNetCore.Http.HttpResults;
using Runway.Auth;
using Runway.Retention;

namespace Runway.Api;

/// <summary>The retention policies by hand (README, "Retention and quotas"): what they would remove now, and a sweep now. Admins only.</summary>
public static class RetentionApi
{
    public static IEndpointRouteBuilder MapRetention(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/admin/retention").WithTags("Admin").RequireAuthorization(Scopes.Admin);
        api.MapGet("/preview", PreviewAsync).WithSummary("What the retention policies would remove now (a dry run): runs' files, uploads, run records");
        api.MapPost("/sweep", SweepAsync).WithSummary("Apply the retention policies now; 409 while another node sweeps");
        return app;
    }

    public static async Task<Ok<RetentionResponse>> PreviewAsync(RetentionPolicy policy, TimeProvider clock, CancellationToken ct)
    {
        var plan = await policy.PlanAsync(clock.GetUtcNow(), ct);
        return TypedResults.Ok(new RetentionResponse(true, plan.RunFiles, plan.Uploads, plan.RunRecords, null));
    }

    public static async Task<Results<Ok<RetentionResponse>, ProblemHttpResult>> SweepAsync(
        HttpContext http, RetentionSweep sweep, AuditTrail audit, TimeProvider clock, CancellationToken ct)
    {
        // A sweep under way (the periodic one, or another node's) is waited for a little: it usually ends soon.
        var deadline = clock.GetUtcNow() + TimeSpan.FromSeconds(10);
        RetentionReport? swept;
        while ((swept = await sweep.TrySweepAsync(evenIfNotDue: true, ct)) is null && clock.GetUtcNow() < deadline)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(200), clock, ct);
        }
        if (swept is not { } report)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "A sweep is under way",
                detail: "another node (or request) is sweeping now; try again when it is done");
        }
        await audit.RecordAsync(http, "retention.sweep_requested", null, ct);
        return TypedResults.Ok(new RetentionResponse(false, report.RunFiles, report.Uploads, report.RunRecords, report.FreedBytes));
    }
}

/// <param name="DryRun">True for the preview: nothing was removed.</param>
/// <param name="FreedBytes">What the sweep freed; null for the preview.</param>
public sealed record RetentionResponse(
    bool DryRun, IReadOnlyList<RetentionItem> RunFiles, IReadOnlyList<RetentionItem> Uploads, IReadOnlyList<RetentionItem> RunRecords, long? FreedBytes);
