namespace Runway.Execution.Tes;

/// <summary>
/// A GA4GH TES task as the local executor runs it (<see cref="Runs.RunSpec.Tes"/>): its executors one after another,
/// each in its own container, all seeing the same mounts. Every container path maps to the host path
/// <c>{run}/tes/fs{path}</c> (<see cref="TesPaths"/>), so inputs, volumes and outputs live in the run directory and
/// are read back through RunTree like any run's files. Built and checked at submission, never from the run directory.
/// </summary>
public sealed record TesExecution
{
    public required IReadOnlyList<TesStep> Steps { get; init; }

    /// <summary>Container paths mounted into every step: input files read-only, output directories and volumes writable.</summary>
    public IReadOnlyList<TesMount> Mounts { get; init; } = [];

    /// <summary>Inputs given inline (<c>content</c>), written into the run directory before the start.</summary>
    public IReadOnlyList<TesContent> Contents { get; init; } = [];
}

/// <summary>One TES executor: argv only (never a shell string), its stdio paths inside the container.</summary>
public sealed record TesStep
{
    public required string Image { get; init; }
    public required IReadOnlyList<string> Command { get; init; }
    public string? Workdir { get; init; }
    public IReadOnlyDictionary<string, string> Env { get; init; } = new Dictionary<string, string>();
    public string? Stdin { get; init; }
    public string? Stdout { get; init; }
    public string? Stderr { get; init; }
    public bool IgnoreError { get; init; }
}

public sealed record TesMount(string Path, bool Writable);

public sealed record TesContent(string Path, string Text);

/// <summary>Where a task's container paths and its executors' records live in the run directory.</summary>
public static class TesPaths
{
    /// <summary>The host side of every container path: <c>/data/x</c> is <c>{run}/tes/fs/data/x</c>.</summary>
    public const string Root = "tes/fs";

    /// <summary>The runner's records: one <c>{i}.json</c> (times, exit code) and the captured stdio per executor; never mounted.</summary>
    public const string Log = "tes/log";

    public static string Host(string containerPath) => Root + containerPath;

    public static string StepRecord(int index) => $"{Log}/{index}.json";

    public static string StepStream(int index, string stream) => $"{Log}/{index}.{stream}";
}
