using Runway.Execution.Local;

namespace Runway.Data;

/// <summary>
/// Keeps this node live in the nodes table (<see cref="NodeRegistry"/>) every heartbeat interval, with which run
/// holds each of its GPUs (<see cref="NodeGpus"/>), marks lost the
/// nodes whose heartbeat stopped (their runs are taken over by the schedulers' rescue, by lease), and frees the
/// name at a clean stop.
/// </summary>
public sealed class NodeHeartbeat(NodeRegistry registry, NodeIdentity node, TimeProvider clock, ILogger<NodeHeartbeat> logger, GpuPool? gpus = null) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var state = NodeStates.Active;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(registry.Settings.HeartbeatInterval, clock, stoppingToken);
                var now = await registry.RenewAsync(node.Name, stoppingToken, gpus is null ? null : NodeGpus.Serialize(gpus.Use));
                if (now is null)
                {
                    // Only after a pause longer than the lease timeout (a frozen VM): the name now belongs to another process.
                    logger.LogCritical("Node {Node} was taken over by another server after this one missed its heartbeats; stop this server", node.Name);
                }
                else if (now != state)
                {
                    logger.LogWarning("Node {Node} is {State} now (was {Previous})", node.Name, now, state);
                    state = now;
                }
                foreach (var lost in await registry.MarkLostAsync(stoppingToken))
                {
                    logger.LogWarning("Node {Lost} missed its heartbeats for {Timeout}: marked lost; its runs are taken over as their leases expire",
                        lost, registry.Settings.LeaseTimeout);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Could not renew the heartbeat of node {Node}; trying again", node.Name);
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try
        {
            await registry.ReleaseAsync(node.Name, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "Could not free the name of node {Node}; it is free once its heartbeat is stale", node.Name);
        }
    }
}
