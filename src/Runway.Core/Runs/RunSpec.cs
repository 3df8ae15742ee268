namespace Runway.Runs;

/// <summary>
/// What an executor needs to execute a run, rendered from the pipeline and the validated parameters at
/// submission and stored with the run. Paths inside are absolute: the run directory is known then.
/// </summary>
public sealed record RunSpec
{
    /// <summary>The argument vector: argv[0] is the program. Never joined into a shell string.</summary>
    public required IReadOnlyList<string> Argv { get; init; }

    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>Files to place in the run directory before start: an uploaded file id and its path relative to the run directory.</summary>
    public IReadOnlyList<StagedInput> Inputs { get; init; } = [];

    /// <summary>Glob patterns, relative to the run directory, that name the outputs.</summary>
    public IReadOnlyList<string> Outputs { get; init; } = [];

    public TimeSpan? TimeLimit { get; init; }

    /// <summary>The pipeline's <c>retries:</c> at submission: how often a lost node's run is queued again.</summary>
    public int Retries { get; init; }

    public PipelineResources Resources { get; init; } = new();

    /// <summary>Whether the run may use the network (<c>network: true</c>); otherwise a local run has only its own loopback.</summary>
    public bool Network { get; init; }

    /// <summary>The image the command runs in (<c>container:</c>), or null: it runs on the node itself.</summary>
    public ContainerSpec? Container { get; init; }

    /// <summary>The operator's Slurm settings for this pipeline (its YAML's <c>slurm:</c>), over the server's; null when it gives none.</summary>
    public SlurmSettings? Slurm { get; init; }

    /// <summary>A GA4GH TES task's executors (issue 17): run in order, each in its own image, instead of <see cref="Argv"/> in <see cref="Container"/>.</summary>
    public Execution.Tes.TesExecution? Tes { get; init; }
}

/// <summary>Where and how a run is submitted to Slurm: set by the operator (server or pipeline YAML), never by a submitting user.</summary>
public sealed record SlurmSettings
{
    public string? Partition { get; init; }
    public string? Account { get; init; }
    public string? Qos { get; init; }

    /// <summary>Further sbatch options, one argument each (<c>--constraint=avx2</c>).</summary>
    public IReadOnlyList<string> Options { get; init; } = [];
}

/// <summary>
/// <c>container: {image, engine, pull}</c>: the command runs in a local image (never pulled: <c>pull: never</c> is the
/// only policy, pulling is the operator's business), with the run directory and the pipeline directory (read-only)
/// mounted at their own paths. A null engine is the first of podman, docker, apptainer found on the node.
/// </summary>
public sealed record ContainerSpec
{
    public required string Image { get; init; }
    public string? Engine { get; init; }
    public string Pull { get; init; } = "never";

    /// <summary>The pipeline's directory, mounted read-only (set from the pipeline at submission).</summary>
    public string? PipelineDirectory { get; init; }
}

/// <summary>An upload to stage: by its hash (its blob outlives the file's row while the run is active), by its id for specs from before blobs.</summary>
public sealed record StagedInput(string FileId, string RelativePath, string? Sha256 = null);

public sealed record PipelineResources
{
    /// <summary>CPUs, whole or a fraction (0.5): a local run's CPU quota; Slurm gets the next whole number.</summary>
    public double Cpus { get; init; } = 1;

    /// <summary>Memory in MiB, or null when the pipeline does not say.</summary>
    public long? MemoryMb { get; init; }

    public int Gpus { get; init; }
}
