using System.Security.Claims;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Runway.Auth;
using Runway.Pipelines;
using Runway.Runs;

namespace Runway.Api;

public static class PipelinesApi
{
    public static IEndpointRouteBuilder MapPipelines(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/pipelines").WithTags("Pipelines").RequireAuthorization(Scopes.RunsRead);
        api.MapGet("/", List).WithSummary("The pipelines the caller may run");
        api.MapGet("/{name}", Get).WithSummary("One pipeline: its parameters as JSON Schema, resources and outputs");
        return app;
    }

    public static Ok<PipelineListResponse> List(ClaimsPrincipal user, PipelineCatalog catalog, RunwayOptions options) =>
        TypedResults.Ok(new PipelineListResponse(catalog.All.Where(p => Caller.MayUse(user, p)).Select(p => PipelineSummary.From(p, options.DefaultExecutor)).ToList()));

    /// <summary>A pipeline restricted to other groups answers 404, as if it did not exist.</summary>
    public static Results<Ok<PipelineResponse>, ProblemHttpResult> Get(string name, ClaimsPrincipal user, PipelineCatalog catalog, RunwayOptions options) =>
        catalog.Find(name) is { } pipeline && Caller.MayUse(user, pipeline)
            ? TypedResults.Ok(PipelineResponse.From(pipeline, options.DefaultExecutor))
            : Problems.NotFound($"no pipeline named '{name}'");
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
    string Executor)
{
    public static PipelineResponse From(Pipeline p, string defaultExecutor) => new(
        p.Name, p.Version, p.Title, p.Description, ParameterSchema.ToJsonSchema(p), p.Resources,
        p.TimeLimit?.TotalSeconds, p.Outputs, p.Executor ?? defaultExecutor);
}
