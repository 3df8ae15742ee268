using System.Security.Claims;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Runway.Auth;
using Runway.Data;
using Runway.Pipelines;
using Runway.Runs;

namespace Runway.Api;

public static class PipelinesApi
{
    public static IEndpointRouteBuilder MapPipelines(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/pipelines").WithTags("Pipelines").RequireAuthorization(Scopes.RunsRead);
        api.MapGet("/", List).WithSummary("The pipelines the caller may run");
        api.MapGet("/{name}", GetAsync).WithSummary("One pipeline: its parameters as JSON Schema, resources, outputs and versions (newest first; the newest declared is the default); ?version= shows an earlier one");
        return app;
    }

    public static Ok<PipelineListResponse> List(ClaimsPrincipal user, PipelineCatalog catalog, RunwayOptions options) =>
        TypedResults.Ok(new PipelineListResponse(catalog.All.Where(p => Caller.MayUse(user, p)).Select(p => PipelineSummary.From(p, options.DefaultExecutor)).ToList()));

    /// <summary>A pipeline restricted to other groups answers 404, as if it did not exist; an unknown version 422 with the known ones.</summary>
    public static async Task<Results<Ok<PipelineResponse>, ProblemHttpResult>> GetAsync(
        string name, string? version, ClaimsPrincipal user, PipelineCatalog catalog, PipelineVersions versions, RunwayOptions options, CancellationToken ct)
    {
        if (catalog.Find(name) is not { } latest || !Caller.MayUse(user, latest))
        {
            return Problems.NotFound($"no pipeline named '{name}'");
        }
        var found = await versions.FindAsync(name, version, ct);
        var known = await versions.ListAsync(name, ct);
        if (found.Pipeline is not { } pipeline || !Caller.MayUse(user, pipeline))
        {
            return Problems.Invalid("version", $"'{version}' is not a version of '{name}'; known versions (newest first): {string.Join(", ", known.Select(v => v.Version))}");
        }
        return TypedResults.Ok(PipelineResponse.From(pipeline, options.DefaultExecutor) with { Versions = known });
    }
}

public sealed record PipelineListResponse(IReadOnlyList<PipelineSummary> Pipelines);

public sealed record PipelineSummary(string Name, string Version, string? Title, string? Description, string Executor)
{
    public static PipelineSummary From(Pipeline p, string defaultExecutor) => new(p.Name, p.Version, p.Title, p.Description, p.Executor ?? defaultExecutor);
}

public sealed record PipelineResponse(
    string Name,
    string Version,
    string? Title,
    string? Description,
    JsonObject Parameters,
    PipelineResources Resources,
    double? TimeLimitSeconds,
    IReadOnlyList<string> Outputs,
    string Executor,
    string Cache = "false",
    IReadOnlyList<PipelineVersionInfo>? Versions = null)
{
    public static PipelineResponse From(Pipeline p, string defaultExecutor) => new(
        p.Name, p.Version, p.Title, p.Description, ParameterSchema.ToJsonSchema(p), p.Resources,
        p.TimeLimit?.TotalSeconds, p.Outputs, p.Executor ?? defaultExecutor,
        p.Cache switch { PipelineCache.Owner => "true", PipelineCache.Shared => "shared", _ => "false" });
}
