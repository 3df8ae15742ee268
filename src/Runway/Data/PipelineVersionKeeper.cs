using System.Threading.Channels;
using Runway.Pipelines;

namespace Runway.Data;

/// <summary>
/// Keeps each pipeline version the catalog loads (<see cref="PipelineVersions.KeepLoadedAsync"/>): once before the server
/// serves, then after every reload. Reloads that come faster than the database answers fold into one.
/// </summary>
public sealed class PipelineVersionKeeper(PipelineCatalog catalog, PipelineVersions versions, ILogger<PipelineVersionKeeper> logger) : BackgroundService
{
    private readonly Channel<bool> reloads = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        catalog.Changed += OnChanged;
        await KeepAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        catalog.Changed -= OnChanged;
        await base.StopAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var _ in reloads.Reader.ReadAllAsync(stoppingToken))
        {
            await KeepAsync(stoppingToken);
        }
    }

    private void OnChanged() => reloads.Writer.TryWrite(true);

    private async Task KeepAsync(CancellationToken ct)
    {
        try
        {
            await versions.KeepLoadedAsync(ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogError(ex, "Keeping the loaded pipeline versions failed; the next reload tries again");
        }
    }
}
