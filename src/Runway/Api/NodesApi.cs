using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Runway.Auth;
using Runway.Data;
using Runway.Runs;

namespace Runway.Api;

/// <summary>The nodes sharing this database (README, "Several nodes"): list, drain, undrain. Admins only.</summary>
public static class NodesApi
{
    public static IEndpointRouteBuilder MapNodes(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/admin").WithTags("Admin").RequireAuthorization(Scopes.Admin);
        api.MapGet("/nodes", ListAsync).WithSummary("Every node: executors, capacity, version, started, last heartbeat, state (active, draining, lost), runs running");
        api.MapPost("/nodes/{name}/drain", DrainAsync).WithSummary("Drain a node: it finishes its runs and claims no more");
        api.MapPost("/nodes/{name}/undrain", UndrainAsync).WithSummary("Let a draining node claim runs again");
        return app;
    }

    public static async Task<Ok<NodeListResponse>> ListAsync(NodeRegistry registry, RunwayDb db, CancellationToken ct)
    {
        var nodes = await registry.ListAsync(ct);
        var running = await db.Runs.AsNoTracking().Where(r => r.State == RunState.Running && r.Node != null)
            .GroupBy(r => r.Node!).Select(g => new { Node = g.Key, Count = g.Count() }).ToDictionaryAsync(g => g.Node, g => g.Count, ct);
        var gpus = await NodeGpus.CurrentAsync(db, nodes, ct);
        return TypedResults.Ok(new NodeListResponse([.. nodes.Select(n => NodeResponse.From(n, running.GetValueOrDefault(n.Name), gpus[n.Name]))]));
    }

    public static Task<Results<Ok<NodeResponse>, ProblemHttpResult>> DrainAsync(
        string name, HttpContext http, NodeRegistry registry, AuditTrail audit, CancellationToken ct) => SetDrainingAsync(name, true, http, registry, audit, ct);

    public static Task<Results<Ok<NodeResponse>, ProblemHttpResult>> UndrainAsync(
        string name, HttpContext http, NodeRegistry registry, AuditTrail audit, CancellationToken ct) => SetDrainingAsync(name, false, http, registry, audit, ct);

    private static async Task<Results<Ok<NodeResponse>, ProblemHttpResult>> SetDrainingAsync(
        string name, bool draining, HttpContext http, NodeRegistry registry, AuditTrail audit, CancellationToken ct)
    {
        var node = (await registry.ListAsync(ct)).FirstOrDefault(n => n.Name == name);
        if (node is null)
        {
            return Problems.NotFound($"no node named '{name}'");
        }
        if (node.State == NodeStates.Lost || !await registry.SetDrainingAsync(name, draining, ct))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Conflict",
                detail: $"node '{name}' is lost (no heartbeat for {registry.Settings.LeaseTimeout.TotalSeconds:0} s): there is nothing to {(draining ? "drain" : "undrain")}");
        }
        await audit.RecordAsync(http, draining ? "node.drain" : "node.undrain", name, ct);
        node.State = draining ? NodeStates.Draining : NodeStates.Active;
        node.Draining = draining;
        return TypedResults.Ok(NodeResponse.From(node, null, null));
    }
}

public sealed record NodeListResponse(IReadOnlyList<NodeResponse> Nodes);

/// <summary>
/// A node as listed: <c>state</c> is what it does now (a lost node that was drained stays <c>draining</c> when it
/// comes back, which <c>draining</c> says meanwhile); <c>gpus</c> each of its GPUs with the run holding it (null: free),
/// the holders as of its last heartbeat and only while that run still runs there.
/// </summary>
public sealed record NodeResponse(
    string Name, string Role, string State, bool Draining, IReadOnlyList<string> Executors, int Capacity, int? Running, string Version,
    DateTimeOffset StartedAt, DateTimeOffset HeartbeatAt, IReadOnlyList<NodeGpu>? Gpus)
{
    public static NodeResponse From(NodeRecord n, int? running, IReadOnlyList<NodeGpu>? gpus) => new(
        n.Name, n.Role, n.State, n.Draining, n.Executors.Split(' ', StringSplitOptions.RemoveEmptyEntries), n.Capacity, running, n.Version,
        n.StartedAt, n.HeartbeatAt, gpus);
}
