using System.Text.Json;
using System.Text.Json.Nodes;
using Runway.Api;
using Runway.Auth;
using Runway.Runs;

namespace Runway.Compat.Centro;

/// <summary>
/// One Centro pipeline as the operator maps it onto a Runway pipeline (Runway:Compat:CentroPipelines:&lt;name&gt;):
/// <see cref="Pipeline"/> (default: the same name) and <see cref="Params"/>, each Runway parameter with the top-level
/// field of the project JSON it takes (<c>$</c>: the whole document, as JSON text). A field holding an object or an
/// array arrives as its JSON text; a missing field is left out, so the parameter's default applies.
/// </summary>
public sealed class CentroMapping
{
    public string? Pipeline { get; set; }
    public Dictionary<string, string> Params { get; set; } = [];
}

/// <summary>
/// Jetstream Centro's one API call, <c>POST /api/v1/new-run/</c> with HTTP Basic and the project JSON, as a run of
/// the pipeline the operator's mapping names. It answers what POST /api/v1/runs does (the same handler): 201 and the
/// run, or the API's problem details. The project JSON's <c>project</c> becomes the run's name.
/// </summary>
public static class CentroApi
{
    public static IEndpointRouteBuilder MapCentro(this IEndpointRouteBuilder app, IReadOnlyDictionary<string, CentroMapping> mappings)
    {
        app.MapPost("/api/v1/new-run/", (HttpContext http, Submissions submissions, Notifications.NotificationOutbox outbox, TimeProvider clock, CancellationToken ct) => NewRunAsync(http, mappings, submissions, outbox, clock, ct))
            .WithTags("Jetstream Centro").RequireAuthorization(Scopes.RunsWrite)
            .WithSummary("Centro's submission: the project JSON, mapped onto a pipeline by Runway:Compat:CentroPipelines");
        return app;
    }

    public static async Task<IResult> NewRunAsync(
        HttpContext http, IReadOnlyDictionary<string, CentroMapping> mappings, Submissions submissions, Notifications.NotificationOutbox outbox, TimeProvider clock, CancellationToken cancellationToken)
    {
        JsonObject? project;
        try
        {
            project = await JsonNode.ParseAsync(http.Request.Body, cancellationToken: cancellationToken) as JsonObject;
        }
        catch (JsonException e)
        {
            return Problems.BadRequest($"the body is not JSON: {e.Message}");
        }
        if (project?["pipeline"] is not JsonValue named || !named.TryGetValue<string>(out var pipeline) || pipeline.Length == 0)
        {
            return Problems.Invalid("pipeline", "is required, as name@version (Centro's project JSON)");
        }
        var at = pipeline.IndexOf('@', StringComparison.Ordinal);
        var name = at < 0 ? pipeline : pipeline[..at];
        if (!mappings.TryGetValue(name, out var mapping))
        {
            return Problems.NotFound($"no Centro pipeline named '{name}' is mapped onto a pipeline here (Runway:Compat:CentroPipelines)");
        }
        var parameters = new JsonObject();
        foreach (var (parameter, field) in mapping.Params)
        {
            var value = field == "$" ? JsonValue.Create(project.ToJsonString()) : project[field];
            if (value is null)
            {
                continue;
            }
            parameters[parameter] = value is JsonObject or JsonArray ? JsonValue.Create(value.ToJsonString()) : value.DeepClone();
        }
        var runName = project["project"] is JsonValue p && p.TryGetValue<string>(out var text) ? text : null;
        // Centro's `email` is who hears of the run's end: Runway's notify (an email target; skipped without SMTP).
        var notify = project["email"] is JsonValue given && given.TryGetValue<string>(out var email) && email.Length > 0
            ? new Notifications.NotifyRequest([email], null) : null;
        var created = await RunsApi.SubmitAsync(new SubmitRunRequest(mapping.Pipeline ?? name, parameters, runName, null, null, Notify: notify), null, http, submissions, outbox, clock, cancellationToken);
        return created.Result;
    }
}
