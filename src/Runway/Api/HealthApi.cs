using Runway.Data;
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

    /// <summary>Readiness: the database answers and the pipelines directory has been read.</summary>
    public static async Task<IResult> ReadyAsync(RunwayDb db, PipelineCatalog catalog, CancellationToken cancellationToken)
    {
        if (!await db.Database.CanConnectAsync(cancellationToken))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Not ready", detail: "the database does not answer");
        }
        return TypedResults.Text($"ok: {catalog.All.Count} pipelines\n");
    }
}
