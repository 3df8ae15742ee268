namespace Runway.Execution.Slurm;

/// <summary>
/// The Slurm executor's settings (<c>Runway:Slurm:…</c>). Partition, account, qos and further sbatch
/// options are the operator's: a pipeline's YAML may override them (<c>slurm:</c>), a submission never.
/// </summary>
public sealed class SlurmOptions
{
    public const string Section = "Slurm";

    /// <summary>Whether this node submits runs to Slurm (and so claims runs whose executor is slurm).</summary>
    public bool Enabled { get; set; }

    /// <summary>The directory of sbatch, squeue, sacct, scontrol and scancel; empty to find them on PATH.</summary>
    public string CommandsDirectory { get; set; } = "";

    /// <summary>
    /// The slurm.conf the commands read (they get it as SLURM_CONF); empty for the server's own SLURM_CONF, else
    /// Slurm's default (/etc/slurm/slurm.conf).
    /// </summary>
    public string ConfFile { get; set; } = "";

    /// <summary>How often one squeue asks after all of this node's Slurm runs.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long one Slurm command may take before it counts as failed (a hung controller).</summary>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a run whose job ended waits for sacct to have the job's end, and so its CPU time and peak memory
    /// (slurmctld sends it to slurmdbd after the end: on a quiet cluster at once, on a busy one a poll or two
    /// later). After it the run ends without those figures; on a cluster without accounting it never waits.
    /// </summary>
    public TimeSpan AccountingWait { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>The longest wait between tries while Slurm's commands fail (the wait doubles up to it).</summary>
    public TimeSpan MaxRetryInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How long a run taken back after a restart, whose job id was never recorded, is looked for by its job's
    /// name while Slurm answers, before it ends system_error. While Slurm does not answer, it waits.
    /// </summary>
    public TimeSpan ReattachTimeout { get; set; } = TimeSpan.FromMinutes(3);

    public string? Partition { get; set; }
    public string? Account { get; set; }
    public string? Qos { get; set; }

    /// <summary>Further sbatch options, one argument each, before the pipeline's own (<c>--constraint=avx2</c>).</summary>
    public List<string> SbatchOptions { get; set; } = [];

    public ExecutorLimits Limits { get; set; } = new();

    /// <summary>The path of a Slurm command: in <see cref="CommandsDirectory"/>, or the bare name for PATH.</summary>
    public string Command(string name) => CommandsDirectory.Length == 0 ? name : Path.Combine(CommandsDirectory, name);
}
