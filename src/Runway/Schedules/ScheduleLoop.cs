using Microsoft.EntityFrameworkCore;
using Runway.Data;

namespace Runway.Schedules;

/// <summary>
/// Every node runs this loop. It sleeps until the earliest next fire time of any enabled schedule (at most
/// <see cref="MaxSleep"/>, so a change made on another node is seen within that), wakes at once when a schedule
/// changes on this node (<see cref="Wake"/>), and fires what is due (<see cref="ScheduleFirer"/>, exactly once across nodes).
/// </summary>
public sealed class ScheduleLoop(IDbContextFactory<RunwayDb> databases, ScheduleFirer firer, TimeProvider clock, ILogger<ScheduleLoop> logger) : BackgroundService
{
    public static readonly TimeSpan MaxSleep = TimeSpan.FromSeconds(30);
    private const int MaxPerPass = 100;
    private TaskCompletionSource wake = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>A schedule was made, changed or removed: look again now rather than at the end of the sleep.</summary>
    public void Wake() => Volatile.Read(ref wake).TrySetResult();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            // Taken before the pass: a change during it is not lost, the next wait returns at once.
            var signal = Volatile.Read(ref wake);
            var sleep = MaxSleep;
            try
            {
                sleep = await PassAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogError(e, "The schedule pass failed; it is tried again at the next turn");
            }
            try
            {
                await Task.WhenAny(Task.Delay(sleep, clock, stoppingToken), signal.Task);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            if (signal.Task.IsCompleted)
            {
                Interlocked.CompareExchange(ref wake, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), signal);
            }
        }
    }

    /// <summary>Fires what is due; how long to sleep until the next fire time.</summary>
    public async Task<TimeSpan> PassAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        List<Schedule> due;
        DateTimeOffset? next;
        var failed = false;
        await using (var db = await databases.CreateDbContextAsync(ct))
        {
            due = await db.Schedules.AsNoTracking().Where(s => s.Enabled && s.NextFireAt != null && s.NextFireAt <= now)
                .OrderBy(s => s.NextFireAt).Take(MaxPerPass).ToListAsync(ct);
            foreach (var schedule in due)
            {
                try
                {
                    await firer.FireAsync(schedule, ct);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // Still due: the pause below keeps a schedule that cannot fire from spinning the loop.
                    failed = true;
                    logger.LogError(e, "Schedule {ScheduleId} could not fire; it is tried again at the next turn", schedule.Id);
                }
            }
            next = await db.Schedules.AsNoTracking().Where(s => s.Enabled && s.NextFireAt != null)
                .OrderBy(s => s.NextFireAt).Select(s => s.NextFireAt).FirstOrDefaultAsync(ct);
        }
        var floor = failed ? TimeSpan.FromSeconds(1) : TimeSpan.Zero;
        if (due.Count == MaxPerPass && !failed)
        {
            return TimeSpan.Zero;
        }
        var until = next is { } at ? at - clock.GetUtcNow() : MaxSleep;
        return until < floor ? floor : until > MaxSleep ? MaxSleep : until;
    }
}
