namespace Runway.Data;

/// <summary>Keeps this node's name live in the nodes table (<see cref="NodeRegistry"/>) and frees it at a clean stop.</summary>
public sealed class NodeHeartbeat(NodeRegistry registry, NodeIdentity node, TimeProvider clock, ILogger<NodeHeartbeat> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(NodeRegistry.Interval, clock, stoppingToken);
                if (!await registry.RenewAsync(node.Name, stoppingToken))
                {
                    // Only after a pause longer than StaleAfter (a frozen VM): the name now belongs to another process.
                    logger.LogCritical("Node {Node} was taken over by another server after this one missed its heartbeats; stop this server", node.Name);
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
