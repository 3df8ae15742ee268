using Runway.Runs;

namespace Runway.Pipelines;

/// <summary>A pipeline as an operator declared it in one YAML file of the pipelines directory.</summary>
public sealed record Pipeline
{
    public required string Name { get; init; }
    public required string Version { get; init; }
    public string? Title { get; init; }
    public string? Description { get; init; }

    /// <summary>In the order the YAML gives them.</summary>
    public required IReadOnlyList<Parameter> Parameters { get; init; }

    public required IReadOnlyList<CommandPart> Command { get; init; }

    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();
    public IReadOnlyList<string> Outputs { get; init; } = [];
    public TimeSpan? TimeLimit { get; init; }
    public PipelineResources Resources { get; init; } = new();

    /// <summary><c>container:</c> the image runs execute in, or null.</summary>
    public ContainerSpec? Container { get; init; }

    /// <summary><c>network:</c> whether runs may use the network; false (the default) gives a local run its own network namespace.</summary>
    public bool Network { get; init; }
    /// <summary>The executor the YAML names; null when it names none, and the server's default executor applies.</summary>
    public string? Executor { get; init; }

    /// <summary>The operator's Slurm settings for this pipeline, over the server's (<c>slurm:</c>).</summary>
    public SlurmSettings? Slurm { get; init; }

    /// <summary>
    /// How many more times a run is queued again when its node was lost and it left no exit record (<c>retries:</c>);
    /// 0 ends such a run in system_error. Never for a run that ended on its own, however it ended.
    /// </summary>
    public int Retries { get; init; }

    /// <summary>
    /// <c>retention: {run_files_days: N}</c>: its finished runs' directories are deleted N days after they ended,
    /// over the server's <c>Runway:Retention:RunFilesDays</c>; 0 (<c>never</c>) keeps them; null follows the server.
    /// </summary>
    public int? RunFilesDays { get; init; }

    /// <summary>Groups allowed to see and run it; empty means everyone.</summary>
    public IReadOnlyList<string> AllowedGroups { get; init; } = [];

    /// <summary>The YAML text it was parsed from (PipelineCatalog keeps it, and Runway stores each version it has seen).</summary>
    public string? Yaml { get; init; }

    /// <summary>Whether a run may end at once with an earlier identical run's outputs (<c>cache:</c>, Runs/RunCache).</summary>
    public PipelineCache Cache { get; init; }

    /// <summary>The absolute directory of the YAML file: <c>{pipeline_dir}</c> in the command.</summary>
    public required string Directory { get; init; }

    /// <summary>The absolute path of the YAML file it was read from.</summary>
    public required string SourcePath { get; init; }
}

// The YAML's own type names: CA1720 (identifier contains a type name) is what we want here.
#pragma warning disable CA1720
public enum PipelineCache
{
    /// <summary><c>cache: false</c> (the default): every run executes.</summary>
    Off,

    /// <summary><c>cache: true</c>: a run reuses an earlier succeeded identical run of the same owner.</summary>
    Owner,

    /// <summary><c>cache: shared</c>: also one of an owner who shares a group with the submitter.</summary>
    Shared,
}

public enum ParameterType
{
    String,
    Integer,
    Number,
    Boolean,
    Enum,
    File,
}
#pragma warning restore CA1720

public sealed record Parameter
{
    public required string Name { get; init; }
    public required ParameterType Type { get; init; }
    public string? Description { get; init; }
    public bool Required { get; init; }

    /// <summary>The default as a JSON value of the parameter's type, or null.</summary>
    public System.Text.Json.Nodes.JsonNode? Default { get; init; }

    public double? Minimum { get; init; }
    public double? Maximum { get; init; }

    /// <summary>A regular expression a string must match in whole.</summary>
    public string? Pattern { get; init; }

    /// <summary>The allowed values of an enum.</summary>
    public IReadOnlyList<string> Values { get; init; } = [];
}

/// <summary>One element of a pipeline's command.</summary>
public abstract record CommandPart;

/// <summary>One argument: a template such as <c>"{pipeline_dir}/run.sh"</c> or <c>"{input}"</c>; always exactly one argv entry.</summary>
public sealed record ArgumentPart(string Template) : CommandPart;

/// <summary>
/// Arguments that appear only when the named parameter is a true boolean, or has a value (not null, not
/// empty) for other types: <c>{if: lowercase, then: [--lowercase]}</c>.
/// </summary>
public sealed record ConditionalPart(string Parameter, IReadOnlyList<ArgumentPart> Then) : CommandPart;
