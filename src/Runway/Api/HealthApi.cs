using System.Security.Claims;
using Runway.Auth;
using Runway.Data;
using Runway.Execution;
using Runway.Execution.Local;
using Runway.Pipelines;

namespace Runway.Api;

public static class HealthApi
{
    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", Live).ExcludeFromDescription().AllowAnonymous();
        app.MapGet("/readyz", ReadyAsync).ExcludeFromDescription().RequireAuthorization(AuthServiceCollectionExtensions.AnyonePolicy);
        return app;
    }

    /// <summary>Liveness: the process answers.</summary>
    public static IResult Live() => TypedResults.Text("ok\n");

    /// <summary>
    /// Readiness: the database answers and the pipelines directory has been read, and each executor's status.
    /// A probe needs no credentials and learns only that; how runs are isolated, started and limited, why an
    /// executor is degraded and which run holds each GPU are the operator's to see (admin scope), since they
    /// tell an attacker what stands in the way and name other users' runs.
    /// </summary>
    public static async Task<IResult> ReadyAsync(
        RunwayDb db, PipelineCatalog catalog, RunIsolation isolation, RunStartPath start, RunCgroups limits, GpuPool gpus,
        IEnumerable<IExecutor> executors, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        if (!await db.Database.CanConnectAsync(cancellationToken))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Not ready", detail: "the database does not answer");
        }
        // An executor that does not answer (Slurm's controller down) degrades this node, but it stays ready:
        // the API, the other executors and the runs' state all work, and the executor retries by itself.
        var health = executors.ToDictionary(e => e.Name, e => e.Health, StringComparer.Ordinal);
        var status = health.Values.Any(h => h.Status != ExecutorHealth.Ok.Status) ? "degraded" : "ok";
        if (!Caller.IsAdmin(user))
        {
            return TypedResults.Ok(new ProbeReadiness(status, catalog.All.Count,
                health.ToDictionary(h => h.Key, h => new ProbeHealth(h.Value.Status), StringComparer.Ordinal)));
        }
        return TypedResults.Ok(new Readiness(
            status, catalog.All.Count, isolation.WireName, isolation.Detail, start.WireName, start.Detail, health)
        {
            Limits = limits.WireName,
            LimitsDetail = limits.Detail,
            Gpus = gpus.Use,
        });
    }

    /// <summary>What anyone may know: ready or degraded, and each executor's status without its reason.</summary>
    public sealed record ProbeReadiness(string Status, int Pipelines, IReadOnlyDictionary<string, ProbeHealth> Executors);

    public sealed record ProbeHealth(string Status);

    public sealed record Readiness(
        string Status, int Pipelines, string Isolation, string IsolationDetail, string RunStart, string RunStartDetail,
        IReadOnlyDictionary<string, ExecutorHealth> Executors)
    {
        /// <summary>How local runs are limited: cgroup_v2, cgroup_hybrid, or none (then a stop reaches only the run's process group).</summary>
        public required string Limits { get; init; }

        public required string LimitsDetail { get; init; }

        /// <summary>This node's GPUs (Runway:Gpus), each with the run that holds it or null.</summary>
        public required IReadOnlyDictionary<string, string?> Gpus { get; init; }
    }
}
