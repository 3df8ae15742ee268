using System.Diagnostics;
using System.Diagnostics.Metrics;
using Runway.Runs;

namespace Runway;

/// <summary>
/// Runway's own instruments (meter <c>Runway</c>), exposed by <c>GET /metrics</c> in the Prometheus format
/// under the names the README's Metrics table lists: a dot becomes an underscore, a counter ends in
/// <c>_total</c>, and the unit is a suffix (<c>_seconds</c>, <c>_bytes</c>). The names are stable: dashboards
/// and alerts rely on them. Recording one is a lock-free add; nothing here touches the database.
/// </summary>
public static class RunwayMetrics
{
    public const string MeterName = "Runway";

    private static readonly Meter Meter = new(MeterName);

    // From a second to a day: a trivial run, a queue that drains in minutes, a day-long job.
    private static readonly double[] Seconds = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 24 * 3600];

    /// <summary>Runs accepted by the API (a replayed idempotent submission is not a new one), by pipeline.</summary>
    public static readonly Counter<long> RunsSubmitted = Meter.CreateCounter<long>("runway.runs.submitted", "{run}", "Runs accepted, by pipeline");

    /// <summary>Runs this node saw end, by pipeline, executor and final state.</summary>
    public static readonly Counter<long> RunsFinished = Meter.CreateCounter<long>("runway.runs.finished", "{run}", "Runs ended, by pipeline, executor and final state");

    public static readonly Histogram<double> QueueWait = Meter.CreateHistogram("runway.run.queue_wait", "s",
        "Time from submission to start, by pipeline and executor", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = Seconds });

    public static readonly Histogram<double> RunDuration = Meter.CreateHistogram("runway.run.duration", "s",
        "Time from start to end, by pipeline, executor and final state", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = Seconds });

    /// <summary>Runs an executor could not start (a missing program, staging, the backend refusing), by executor.</summary>
    public static readonly Counter<long> ExecutorErrors = Meter.CreateCounter<long>("runway.executor.errors", "{error}", "Runs an executor could not start, by executor");

    /// <summary>Audit entries not sent to syslog (its queue full, or the collector unreachable); the database keeps them all.</summary>
    public static readonly Counter<long> AuditSyslogDropped = Meter.CreateCounter<long>("runway.audit.syslog.dropped", "{entry}", "Audit entries not sent to syslog");

    public static readonly Counter<long> Uploads = Meter.CreateCounter<long>("runway.uploads", "{file}", "Files uploaded");

    public static readonly Counter<long> UploadedBytes = Meter.CreateCounter<long>("runway.uploads.size", "By", "Bytes uploaded");

    /// <summary>Attempts to deliver a notification, by kind (webhook, email) and outcome (delivered, retry, failed, skipped).</summary>
    public static readonly Counter<long> Notifications = Meter.CreateCounter<long>("runway.notifications", "{notification}", "Notification attempts, by kind and outcome");

    public static void Notified(string kind, string outcome) =>
        Notifications.Add(1, new KeyValuePair<string, object?>("kind", kind), new KeyValuePair<string, object?>("outcome", outcome));

    public static void Submitted(Run run) => RunsSubmitted.Add(1, new KeyValuePair<string, object?>("pipeline", run.Pipeline));

    public static void Started(Run run, DateTimeOffset now) => QueueWait.Record(
        Math.Max(0, (now - run.SubmittedAt).TotalSeconds),
        new KeyValuePair<string, object?>("pipeline", run.Pipeline), new KeyValuePair<string, object?>("executor", run.Executor));

    /// <summary>A queued run canceled: it ends without having started (no duration).</summary>
    public static void CanceledQueued(string pipeline, string executor) => RunsFinished.Add(1, new TagList
    {
        { "pipeline", pipeline },
        { "executor", executor },
        { "state", RunState.Canceled.ToWire() },
    });

    public static void Finished(Run run, RunState state, DateTimeOffset? startedAt, DateTimeOffset endedAt)
    {
        var tags = new TagList
        {
            { "pipeline", run.Pipeline },
            { "executor", run.Executor },
            { "state", state.ToWire() },
        };
        RunsFinished.Add(1, tags);
        if (startedAt is { } started)
        {
            RunDuration.Record(Math.Max(0, (endedAt - started).TotalSeconds), tags);
        }
    }

    private static volatile Func<MetricsSample?> sample = () => null;

    /// <summary>
    /// The source of the instruments read when scraped: what the server's sampler last saw, refreshed on its own
    /// clock so that a scrape never waits for the database; null when there is none yet or it is stale, and
    /// the gauges then have no value rather than an old one. The instruments exist once per process.
    /// </summary>
    public static void Observe(Func<MetricsSample?> source) => sample = source;

    private static IEnumerable<Measurement<T>> Read<T>(Func<MetricsSample, T> value)
        where T : struct => sample() is { } now ? [new Measurement<T>(value(now))] : [];

    private static readonly ObservableGauge<long> QueueDepth =
        Meter.CreateObservableGauge("runway.queue.depth", () => Read(s => s.Queued), "{run}", "Runs waiting to start");

    private static readonly ObservableGauge<double> OldestQueuedAge =
        Meter.CreateObservableGauge("runway.queue.oldest_age", () => Read(s => s.OldestQueuedAge), "s", "How long the oldest queued run has waited");

    private static readonly ObservableGauge<long> Active = Meter.CreateObservableGauge("runway.runs.active", () => (sample()?.Active ?? []).Select(a =>
        new Measurement<long>(a.Count, new KeyValuePair<string, object?>("node", a.Node), new KeyValuePair<string, object?>("executor", a.Executor))),
        "{run}", "Runs running, by node and executor");

    private static readonly ObservableGauge<long> StoredBytes =
        Meter.CreateObservableGauge("runway.files.size", () => Read(s => s.StoredBytes), "By", "Bytes of uploaded files stored");

    private static readonly ObservableGauge<long> StoredFiles =
        Meter.CreateObservableGauge("runway.files", () => Read(s => s.StoredFiles), "{file}", "Uploaded files stored");
}

/// <summary>What the database said at <see cref="At"/>: the gauges of <see cref="RunwayMetrics.Observe"/>.</summary>
public sealed record MetricsSample(
    DateTimeOffset At, long Queued, double OldestQueuedAge, IReadOnlyList<(string Node, string Executor, long Count)> Active, long StoredBytes, long StoredFiles);
