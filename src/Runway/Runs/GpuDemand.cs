using Runway.Data;
using Runway.Execution.Local;
using Runway.Pipelines;

namespace Runway.Runs;

/// <summary>
/// Says at load when a pipeline asks for more GPUs than any active node has (<c>Runway:Gpus</c>), the way a pipeline
/// naming a missing container engine is reported. Only a warning: its runs are accepted and wait queued, saying why
/// (<see cref="Api.QueueReason"/>), since with several nodes a GPU node may join later. Checked at start and after
/// each reload of the pipelines, against the nodes table.
/// </summary>
public sealed class GpuDemand(PipelineCatalog catalog, NodeRegistry nodes, RunwayOptions options, ILogger<GpuDemand> logger) : BackgroundService
{
    private readonly SemaphoreSlim reloaded = new(1, 1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        catalog.Changed += Signal;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await reloaded.WaitAsync(stoppingToken);
                    await CheckAsync(stoppingToken);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    break;
                }
                catch (Exception e)
                {
                    logger.LogWarning(e, "Could not compare the pipelines' GPUs with the nodes'");
                }
            }
        }
        finally
        {
            catalog.Changed -= Signal;
        }
    }

    private void Signal()
    {
        try
        {
            reloaded.Release();
        }
        catch (SemaphoreFullException)
        {
            // A check is already due.
        }
    }

    private async Task CheckAsync(CancellationToken ct)
    {
        var asking = catalog.All.Where(p => p.Resources.Gpus > 0 && (p.Executor ?? options.DefaultExecutor) == LocalExecutor.ExecutorName).ToList();
        if (asking.Count == 0)
        {
            return;
        }
        var most = (await nodes.ListAsync(ct))
            .Where(n => n.State == NodeStates.Active && n.Executors.Split(' ').Contains(LocalExecutor.ExecutorName))
            .Select(n => NodeGpus.Parse(n.Gpus).Count).DefaultIfEmpty(0).Max();
        foreach (var pipeline in asking.Where(p => p.Resources.Gpus > most))
        {
            logger.LogWarning(
                "Pipeline {Pipeline} ({Path}) asks for {Gpus} GPU(s) and no active node has that many (the most one has is {Most}, Runway:Gpus): its runs wait queued until such a node joins",
                pipeline.Name, pipeline.SourcePath, pipeline.Resources.Gpus, most);
        }
    }

    public override void Dispose()
    {
        reloaded.Dispose();
        base.Dispose();
    }
}
