using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Runway.Auth;
using Runway.Data;
using Runway.Notifications;

namespace Runway.Api;

/// <summary>
/// The caller's notification defaults (used by a submission without <c>notify</c>) and the secret their webhooks are
/// signed with. Reading shows the secret, so it takes <c>runs:write</c> as changing does: a read-only token cannot
/// learn how to forge its owner's webhooks.
/// </summary>
public static class NotifyApi
{
    public static IEndpointRouteBuilder MapNotify(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/me/notify").WithTags("Account").RequireAuthorization(Scopes.RunsWrite);
        api.MapGet("/", GetAsync).WithSummary("My notification defaults and webhook signing secret (whsec_…)");
        api.MapPut("/", PutAsync).WithSummary("Set my notification defaults: {\"email\": [...], \"webhook\": \"https://…\"} ({} for none)");
        api.MapPost("/secret", RotateAsync).WithSummary("Replace my webhook signing secret; webhooks sent from now on use the new one");
        return app;
    }

    public static async Task<Ok<NotifySettingsResponse>> GetAsync(ClaimsPrincipal user, NotifySettingsStore settings, CancellationToken ct) =>
        TypedResults.Ok(NotifySettingsResponse.From(await settings.GetOrCreateAsync(Caller.NameOf(user), ct)));

    public static async Task<Results<Ok<NotifySettingsResponse>, ProblemHttpResult>> PutAsync(
        NotifyRequest? request, ClaimsPrincipal user, NotifySettingsStore settings, NotifyTargets targets, CancellationToken ct)
    {
        if (request is null)
        {
            return Problems.BadRequest("the body must be a JSON object such as {\"email\": [\"ana@lab.org\"], \"webhook\": \"https://example.org/hook\"}");
        }
        var errors = new Dictionary<string, string[]>();
        if (!await targets.CheckAsync(request, Caller.NameOf(user), "notify", errors, ct))
        {
            return Problems.Invalid(errors);
        }
        return TypedResults.Ok(NotifySettingsResponse.From(await settings.SetDefaultsAsync(Caller.NameOf(user), request, ct)));
    }

    public static async Task<Ok<NotifySettingsResponse>> RotateAsync(ClaimsPrincipal user, NotifySettingsStore settings, CancellationToken ct) =>
        TypedResults.Ok(NotifySettingsResponse.From(await settings.RotateSecretAsync(Caller.NameOf(user), ct)));
}

public sealed record NotifySettingsResponse(IReadOnlyList<string> Email, string? Webhook, string WebhookSecret)
{
    public static NotifySettingsResponse From(NotifySettings settings)
    {
        var defaults = NotifySettingsStore.Defaults(settings);
        return new(defaults.Email ?? [], defaults.Webhook, settings.WebhookSecret);
    }
}
