namespace Runway.Bench;

/// <summary>
/// Every figure of issue 3's table, then issue 10's mixed burst, then the Slurm row (issue 11, its own
/// file), in the order printed.
/// </summary>
internal static class Figures
{
    public const string SubmitRate = "submit_per_s";
    public const string SubmitP50 = "submit_p50_ms";
    public const string SubmitP99 = "submit_p99_ms";
    public const string RawSerial = "raw_spawn_serial_per_s";
    public const string RawParallel = "raw_spawn_parallel_per_s";
    public const string TrivialSerial = "trivial_serial_per_s";
    public const string TrivialParallel = "trivial_parallel_per_s";
    public const string RatioSerial = "trivial_serial_vs_raw_pct";
    public const string RatioParallel = "trivial_parallel_vs_raw_pct";
    public const string CpuPerRun = "cpu_per_trivial_run_ms";
    public const string QueueP50 = "queue_to_running_p50_ms";
    public const string QueueP99 = "queue_to_running_p99_ms";
    public const string ListP99 = "list_filtered_p99_ms";
    public const string NextPageP99 = "list_next_page_p99_ms";
    public const string GetP99 = "get_run_p99_ms";
    public const string Startup = "startup_seeded_s";
    public const string CancelP50 = "cancel_p50_ms";
    public const string CancelP99 = "cancel_p99_ms";
    public const string RssIdle = "rss_idle_mib";
    public const string RssQueued = "rss_queued_burst_mib";
    public const string BurstSubmitRate = "burst_submit_per_s";
    public const string BurstSubmitP99 = "burst_submit_p99_ms";
    public const string BurstRuns = "burst_runs_per_s";
    public const string BurstCpuPerRun = "burst_tree_cpu_per_run_ms";
    public const string BurstRss = "burst_peak_rss_mib";
    public const string UsageUserP99 = "usage_by_user_p99_ms";
    public const string UsageDayP99 = "usage_by_day_p99_ms";
    public const string UsageOwnerP99 = "usage_me_p99_ms";

    public static readonly Figure[] All =
    [
        new(SubmitRate, "durable submissions/s (16 clients)", "/s", "≥ 5,000", v => v >= 5000),
        new(SubmitP50, "submission latency p50", "ms", "", null),
        new(SubmitP99, "submission latency p99", "ms", "≤ 20", v => v <= 20),
        new(RawSerial, "raw Process.Start /bin/true, 1 at a time", "/s", "", null),
        new(TrivialSerial, "trivial runs completed/s, concurrency 1", "/s", "", null),
        new(RatioSerial, "trivial runs vs raw, 1 at a time", "%", "≥ 50", v => v >= 50),
        new(RawParallel, "raw Process.Start /bin/true, N at a time", "/s", "", null),
        new(TrivialParallel, "trivial runs completed/s, concurrency N", "/s", "", null),
        new(RatioParallel, "trivial runs vs raw, N at a time", "%", "≥ 50", v => v >= 50),
        new(CpuPerRun, "Runway's own CPU per trivial run (server and supervisor)", "ms", "≤ 2", v => v <= 2),
        new(QueueP50, "queue → running, idle server, p50", "ms", "≤ 5", v => v <= 5),
        new(QueueP99, "queue → running, idle server, p99", "ms", "≤ 20", v => v <= 20),
        new(ListP99, "seeded DB: GET /runs filtered page of 50, p99", "ms", "≤ 10", v => v <= 10),
        new(NextPageP99, "seeded DB: next page by cursor, p99", "ms", "≤ 10", v => v <= 10),
        new(GetP99, "seeded DB: GET /runs/{id}, p99", "ms", "≤ 10", v => v <= 10),
        .. PageTimings.Figures,
        new(Startup, "seeded DB: start-up to ready", "s", "≤ 2", v => v <= 2),
        new(UsageUserP99, "seeded DB: admin usage of every run, group_by=user, p99", "ms", "≤ 1,000", v => v <= 1000),
        new(UsageDayP99, "seeded DB: admin usage of every run, group_by=day, p99", "ms", "≤ 1,000", v => v <= 1000),
        new(UsageOwnerP99, "seeded DB: /me/usage of every run (one owner), p99", "ms", "≤ 1,000", v => v <= 1000),
        new(CancelP50, "cancel running run → canceled + group gone, p50", "ms", "", null),
        new(CancelP99, "cancel running run → canceled + group gone, p99", "ms", "≤ 250", v => v <= 250),
        new(RssIdle, "server RSS, idle", "MiB", "≤ 150", v => v <= 150),
        new(RssQueued, "server RSS peak, queue full + burst running", "MiB", "≤ 300", v => v <= 300),
        new(BurstSubmitRate, "burst: submissions/s while runs execute", "/s", "", null),
        new(BurstSubmitP99, "burst: submission latency p99", "ms", "≤ 20", v => v <= 20),
        new(BurstRuns, "burst: runs completed/s", "/s", "", null),
        new(BurstCpuPerRun, "burst: CPU per run, whole process tree", "ms", "", null),
        new(BurstRss, "burst: peak RSS, server and its children", "MiB", "", null),
        .. SlurmRow.Figures,
        .. NodesRow.Figures,
        .. BatchRow.Figures,
    ];
}
