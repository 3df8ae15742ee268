using Runway.Data;
using Runway.Runs;

namespace Runway.Notifications;

/// <summary>
/// One pass over the outbox: takes what is due, sends it, records the outcome. A failed attempt is tried again
/// after an exponential back-off with jitter (30 s, 1 min, 2 min … at most an hour apart) until a day after the
/// run ended, then given up (<c>failed</c>). Email without SMTP configured is recorded <c>skipped</c>.
/// </summary>
public sealed class NotificationDelivery(
    NotificationOutbox outbox, NotifySettingsStore settings, WebhookSender webhooks, EmailSender email, NotifyOptions options,
    TimeProvider clock, ILogger<NotificationDelivery> logger)
{
    public static readonly TimeSpan FirstRetry = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan LongestRetry = TimeSpan.FromHours(1);
    public static readonly TimeSpan RetryFor = TimeSpan.FromDays(1);

    private const int Batch = 32;
    private static readonly TimeSpan Hold = TimeSpan.FromMinutes(5);

    /// <summary>This process, as the holder of the rows it takes (a restarted node is a new holder).</summary>
    private readonly string holder = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";

    /// <summary>Sends what is due now; how many attempts it made.</summary>
    public async Task<int> DeliverDueAsync(CancellationToken ct)
    {
        var due = await outbox.DueAsync(Batch, ct);
        var attempts = 0;
        await Parallel.ForEachAsync(due, new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = ct }, async (id, token) =>
        {
            if (await outbox.TryClaimAsync(id, holder, Hold, token) is { } claimed)
            {
                await AttemptAsync(claimed.Notification, claimed.Run, token);
                Interlocked.Increment(ref attempts);
            }
        });
        return attempts;
    }

    private async Task AttemptAsync(Notification notification, Run run, CancellationToken ct)
    {
        var summary = new RunSummary(run, options.PublicUrl, clock);
        DeliveryResult result;
        if (notification.Kind == NotifyTarget.Webhook)
        {
            var secret = (await settings.GetOrCreateAsync(run.Owner, ct)).WebhookSecret;
            var now = clock.GetUtcNow();
            result = await webhooks.SendAsync(notification.Target, notification.Id, now, secret, summary.Json(now), ct);
        }
        else
        {
            result = await email.SendAsync(notification.Target, summary.Subject, summary.Text(), ct);
        }

        var attempt = notification.Attempts + 1;
        var retryAt = clock.GetUtcNow() + Backoff(attempt);
        var (state, next, outcome) = result switch
        {
            { Delivered: true } => (Notification.Delivered, (DateTimeOffset?)null, "delivered"),
            { Skipped: true } => (Notification.Skipped, null, "skipped"),
            { Permanent: true } => (Notification.Failed, null, "failed"),
            _ when retryAt > (run.FinishedAt ?? clock.GetUtcNow()) + RetryFor => (Notification.Failed, null, "failed"),
            _ => (Notification.Pending, retryAt, "retry"),
        };
        if (!await outbox.RecordAsync(notification.Id, holder, state, result, next, ct))
        {
            logger.LogWarning("Notification {Id} of run {RunId}: its lock was lost before the attempt was recorded", notification.Id, run.Id);
            return;
        }
        RunwayMetrics.Notified(notification.Kind, outcome);
        if (outcome == "delivered")
        {
            logger.LogInformation("Notification {Id} of run {RunId} delivered by {Kind} to {Target}", notification.Id, run.Id, notification.Kind, notification.Target);
        }
        else if (outcome != "skipped")
        {
            logger.LogWarning("Notification {Id} of run {RunId} by {Kind} to {Target}, attempt {Attempt}: {Error}; {Then}", notification.Id, run.Id,
                notification.Kind, notification.Target, attempt, result.Error, outcome == "retry" ? $"next attempt at {next:O}" : "given up");
        }
    }

    /// <summary>After the <paramref name="attempt"/>th failure: 30 s doubled each time, at most an hour, plus up to a fifth more at random.</summary>
    public static TimeSpan Backoff(int attempt)
    {
        var exponential = FirstRetry * Math.Pow(2, Math.Min(attempt - 1, 20));
        var delay = exponential < LongestRetry ? exponential : LongestRetry;
        return delay + (delay * (Random.Shared.NextDouble() / 5));
    }
}

/// <summary>Every node runs this loop; the outbox's compare-and-set makes each attempt one node's.</summary>
public sealed class NotificationWorker(NotificationDelivery delivery, NotifyOptions options, TimeProvider clock, ILogger<NotificationWorker> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Smtp.Configured)
        {
            // Once, at start: each skipped email is recorded on its run, not logged again.
            logger.LogWarning("SMTP is not configured (Runway:Smtp:Host): email notifications are skipped");
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // A full batch: more may be due at once.
                while (await delivery.DeliverDueAsync(stoppingToken) > 0 && !stoppingToken.IsCancellationRequested)
                {
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogError(e, "Delivering notifications failed; trying again at the next turn");
            }
            try
            {
                await Task.Delay(Interval, clock, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
