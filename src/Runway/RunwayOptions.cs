using Runway.Execution;
using Runway.Execution.Local;
using Runway.Execution.Slurm;

namespace Runway;

/// <summary>
/// The server's settings, bound from the "Runway" configuration section: appsettings.json, then
/// RUNWAY_* environment variables, then command-line flags (see <see cref="RunwayConfiguration"/>).
/// </summary>
public sealed class RunwayOptions
{
    public const string Section = "Runway";

    /// <summary>Where the database (SQLite), uploads and (unless <see cref="RunsDirectory"/> says otherwise) run directories live.</summary>
    public string DataDir { get; set; } = "runway-data";

    /// <summary>
    /// Where run directories live; empty for the data directory's runs/. Slurm jobs read and write their run
    /// directory on the compute nodes, so for Slurm this must be a directory shared with them, at the same path.
    /// </summary>
    public string RunsDirectory { get; set; } = "";

    /// <summary>The directory of pipeline YAML files.</summary>
    public string Pipelines { get; set; } = "pipelines";

    /// <summary>How many runs this node executes at once; 0 means the processor count.</summary>
    public int Concurrency { get; set; }

    /// <summary>Empty for SQLite in the data directory; a PostgreSQL connection string to share one database between nodes.</summary>
    public string Database { get; set; } = "";

    /// <summary>This node's name in the runs it claims; when empty, an id kept in the data directory (<see cref="NodeIdentity"/>).</summary>
    public string Node { get; set; } = "";

    /// <summary>The largest upload accepted, in bytes.</summary>
    public long MaxUploadBytes { get; set; } = 10L * 1024 * 1024 * 1024;

    /// <summary>
    /// The group whose members may submit runs with a priority above the default (0), as admins may;
    /// empty for admins only. Everyone may lower their own runs' priority.
    /// </summary>
    public string PriorityGroup { get; set; } = "";

    /// <summary>
    /// The unprivileged account local runs run as when the server runs as root (README, "Run isolation").
    /// Runway creates no account: where this one does not exist, runs are isolated by namespaces only.
    /// </summary>
    public string RunAs { get; set; } = "runway-run";

    /// <summary>Console logs as readable text (<c>text</c>, the default) or one JSON object per line (<c>json</c>) for log shippers.</summary>
    public string LogFormat { get; set; } = "text";

    /// <summary><c>GET /metrics</c> for Prometheus (README, "Metrics").</summary>
    public Metrics.MetricsOptions Metrics { get; set; } = new();

    /// <summary>How long a stopped run gets between TERM and KILL.</summary>
    public TimeSpan StopGrace { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The executor of a pipeline whose YAML names none (<c>local</c>, <c>slurm</c>).</summary>
    public string DefaultExecutor { get; set; } = LocalExecutor.ExecutorName;

    /// <summary>This node's GPUs for local runs, as CUDA numbers them: "0,1"; empty for none (README, "GPUs").</summary>
    public string Gpus { get; set; } = "";

    /// <summary>What the local executor enforces beyond a pipeline's own resources (README, "Resource limits").</summary>
    public LocalLimits Limits { get; set; } = new();

    /// <summary>The Slurm executor (README, "Slurm"): off unless enabled.</summary>
    public SlurmOptions Slurm { get; set; } = new();

    /// <summary>The operator's per-run limits of an executor where it has any, and their settings' section.</summary>
    public (ExecutorLimits Limits, string Settings)? LimitsOf(string executor) =>
        executor == SlurmExecutor.ExecutorName ? (Slurm.Limits, "Runway:Slurm:Limits") : null;

    /// <summary>The executors this node has: the claim takes only runs of these.</summary>
    public IReadOnlyList<string> ExecutorNames => Slurm.Enabled ? [LocalExecutor.ExecutorName, SlurmExecutor.ExecutorName] : [LocalExecutor.ExecutorName];

    public int EffectiveConcurrency => Concurrency > 0 ? Concurrency : Environment.ProcessorCount;
}

/// <summary><c>Runway:Limits</c>: the local executor's limits that no pipeline sets.</summary>
public sealed class LocalLimits
{
    /// <summary>The most processes (and threads) one local run may have at once, by its cgroup; 0 for no limit.</summary>
    public int Pids { get; set; } = 4096;
}
