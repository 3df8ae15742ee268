using Runway.Data;
using Runway.Execution.Local;
using Runway.Pipelines;

namespace Runway.Api;

public static class HealthApi
{
    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", Live).ExcludeFromDescription().AllowAnonymous();
        app.MapGet("/readyz", ReadyAsync).ExcludeFromDescription().AllowAnonymous();
        return app;
    }

    /// <summary>Liveness: the process answers.</summary>
    public static IResult Live() => TypedResults.Text("ok\n");

    /// <summary>Readiness: the database answers and the pipelines directory has been read; how runs are isolated and started.</summary>
    public static async Task<IResult> ReadyAsync(RunwayDb db, PipelineCatalog catalog, RunIsolation isolation, RunStartPath start, CancellationToken cancellationToken)
    {
        if (!await db.Database.CanConnectAsync(cancellationToken))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Not ready", detail: "the database does not answer");
        }
        return TypedResults.Ok(new Readiness("ok", catalog.All.Count, isolation.WireName, isolation.Detail, start.WireName, start.Detail));
    }

    public sealed record Readiness(string Status, int Pipelines, string Isolation, string IsolationDetail, string RunStart, string RunStartDetail);
}
