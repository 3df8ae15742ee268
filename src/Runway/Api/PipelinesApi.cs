using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Runway.Pipelines;
using Runway.Runs;

namespace Runway.Api;

public static class PipelinesApi
{
    public static IEndpointRouteBuilder MapPipelines(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/pipelines").WithTags("Pipelines");
        api.MapGet("/", List).WithSummary("The pipelines the caller may run");
        api.MapGet("/{name}", Get).WithSummary("One pipeline: its parameters as JSON Schema, resources and outputs");
        return app;
    }

    public static Ok<PipelineListResponse> List(PipelineCatalog catalog) =>
        TypedResults.Ok(new PipelineListResponse(catalog.All.Select(PipelineSummary.From).ToList()));

    public static Results<Ok<PipelineResponse>, ProblemHttpResult> Get(string name, PipelineCatalog catalog) =>
        catalog.Find(name) is { } pipeline
            ? TypedResults.Ok(PipelineResponse.From(pipeline))
            : Problems.NotFound($"no pipeline named '{name}'");
}

public sealed record PipelineListResponse(IReadOnlyList<PipelineSummary> Pipelines);

public sealed record PipelineSummary(string Name, string Version, string? Title, string? Description, string Executor)
{
    public static PipelineSummary From(Pipeline p) => new(p.Name, p.Version, p.Title, p.Description, p.Executor);
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
    public static PipelineResponse From(Pipeline p) => new(
        p.Name, p.Version, p.Title, p.Description, ParameterSchema.ToJsonSchema(p), p.Resources,
        p.TimeLimit?.TotalSeconds, p.Outputs, p.Executor);
}
