namespace Runway.Retention;

/// <summary>
/// Every node runs this loop; the <c>retention</c> job's row lets one of them sweep per interval
/// (<see cref="RetentionSweep.TrySweepAsync"/>). It asks once a minute (or once per interval, when shorter),
/// which costs one UPDATE that changes nothing while the job is not due.
/// </summary>
public sealed class RetentionSweeper(RetentionSweep sweep, RetentionOptions options, TimeProvider clock, ILogger<RetentionSweeper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var every = options.Interval < TimeSpan.FromMinutes(1) ? options.Interval : TimeSpan.FromMinutes(1);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await sweep.TrySweepAsync(evenIfNotDue: false, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogError(e, "The retention sweep failed; it is tried again at the next turn");
            }
            try
            {
                await Task.Delay(every, clock, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
