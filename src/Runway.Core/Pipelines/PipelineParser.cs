using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace Runway.Pipelines;

/// <summary>
/// Reads one pipeline YAML file (format: DESIGN.md and the examples in the repository's pipelines/ folder).
/// Everything that can be checked without a submission is checked here, so a pipeline that loads can
/// always render its command for any parameters that pass <see cref="ParameterValidator"/>.
/// </summary>
public static partial class PipelineParser
{
    private static readonly string[] Keys =
    [
        "name", "version", "title", "description", "parameters", "command", "environment", "env",
        "outputs", "resources", "time_limit", "executor", "allowed_groups", "slurm", "network", "container",
        "retries", "retention", "cache",
    ];

    public static Pipeline Parse(string yaml, string sourcePath)
    {
        var fields = new YamlFields(sourcePath);
        var root = fields.LoadRoot(yaml);
        var entries = fields.Entries(root, "", Keys).ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal);
        YamlNode? Get(string key) => entries.TryGetValue(key, out var v) && !YamlFields.IsNull(v) ? v : null;
        string? Text(string key) => Get(key) is { } node ? fields.String(node, key) : null;

        var name = Text("name") ?? throw fields.Error(null, "name", "is required");
        if (!NameText().IsMatch(name))
        {
            throw fields.Error(Get("name"), "name", "must be lowercase letters, digits, - and _, starting with a letter or digit, at most 63 characters");
        }
        var version = Text("version") ?? throw fields.Error(null, "version", "is required (for example 1.0.0)");
        if (!VersionText().IsMatch(version))
        {
            throw fields.Error(Get("version"), "version", "must be letters, digits and . _ + -, at most 64 characters (for example 1.2.0)");
        }

        var parameters = ParameterParser.Read(fields, Get("parameters"));
        var command = CommandParser.Read(fields, Get("command"), parameters);
        var (resources, resourceTimeLimit) = ResourceParser.Read(fields, Get("resources"));
        var topTimeLimit = Get("time_limit") is { } limit ? ResourceParser.Duration(fields, limit, "time_limit") : (TimeSpan?)null;
        if (topTimeLimit is not null && resourceTimeLimit is not null)
        {
            throw fields.Error(Get("time_limit"), "time_limit", "is also given under resources: keep one");
        }
        var executor = Text("executor");
        if (executor is not null && !ExecutorText().IsMatch(executor))
        {
            throw fields.Error(Get("executor"), "executor", "must be an executor name such as local or slurm");
        }

        var retries = Get("retries") is { } retriesNode ? fields.Integer(retriesNode, "retries") : 0;
        if (retries is < 0 or > 10)
        {
            throw fields.Error(Get("retries"), "retries", "must be an integer from 0 to 10");
        }

        var fullPath = Path.GetFullPath(sourcePath);
        return new Pipeline
        {
            Name = name,
            Version = version,
            Title = Text("title"),
            Description = Text("description"),
            Parameters = parameters,
            Command = command,
            Environment = ReadEnvironment(fields, entries, parameters),
            Outputs = ReadOutputs(fields, Get("outputs")),
            TimeLimit = topTimeLimit ?? resourceTimeLimit,
            Resources = resources,
            Network = Get("network") is { } network && fields.Boolean(network, "network"),
            Container = ContainerParser.Read(fields, Get("container")),
            Executor = executor,
            Slurm = SlurmSettingsParser.Read(fields, Get("slurm")),
            Retries = (int)retries,
            RunFilesDays = RetentionParser.RunFilesDays(fields, Get("retention")),
            Cache = ReadCache(fields, Get("cache")),
            AllowedGroups = ReadStrings(fields, Get("allowed_groups"), "allowed_groups"),
            Directory = Path.GetDirectoryName(fullPath) ?? fullPath,
            SourcePath = fullPath,
        };
    }

    /// <summary><c>cache: true | false | shared</c> (issue 14); absent is false.</summary>
    private static PipelineCache ReadCache(YamlFields fields, YamlNode? node) =>
        node is null ? PipelineCache.Off
        : fields.String(node, "cache") switch
        {
            "true" => PipelineCache.Owner,
            "false" => PipelineCache.Off,
            "shared" => PipelineCache.Shared,
            _ => throw fields.Error(node, "cache", "must be true, false or shared"),
        };

    private static Dictionary<string, string> ReadEnvironment(
        YamlFields fields, Dictionary<string, YamlNode> entries, IReadOnlyList<Parameter> parameters)
    {
        if (entries.ContainsKey("environment") && entries.TryGetValue("env", out var both))
        {
            throw fields.Error(both, "env", "both env and environment are given: keep one");
        }
        var key = entries.ContainsKey("env") ? "env" : "environment";
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!entries.TryGetValue(key, out var node) || YamlFields.IsNull(node))
        {
            return environment;
        }
        foreach (var (variable, valueNode) in fields.Entries(fields.Mapping(node, key), key, allowed: null))
        {
            var field = $"{key}.{variable}";
            if (!EnvironmentName().IsMatch(variable))
            {
                throw fields.Error(valueNode, field, "a variable name must be letters, digits and _, not starting with a digit");
            }
            // Null renders as empty, the same as an absent optional parameter does in a value.
            var value = YamlFields.IsNull(valueNode) ? "" : fields.String(valueNode, field);
            CommandParser.CheckTemplate(fields, valueNode, field, value, parameters, guard: null, absentAllowed: true);
            environment[variable] = value;
        }
        return environment;
    }

    private static List<string> ReadOutputs(YamlFields fields, YamlNode? node)
    {
        var outputs = ReadStrings(fields, node, "outputs");
        foreach (var (glob, i) in outputs.Select((g, i) => (g, i)))
        {
            var segments = glob.Split('/');
            if (glob.Length == 0 || glob.StartsWith('/') || glob.Contains('\\', StringComparison.Ordinal)
                || glob.Contains('\0', StringComparison.Ordinal) || segments.Contains(".."))
            {
                throw fields.Error(((YamlSequenceNode)node!).Children[i], $"outputs[{i}]",
                    "must be a relative path or glob inside the run directory (no leading /, no .., no \\)");
            }
        }
        return outputs;
    }

    private static List<string> ReadStrings(YamlFields fields, YamlNode? node, string field)
    {
        if (node is null)
        {
            return [];
        }
        return fields.Sequence(node, field).Children.Select((item, i) => fields.String(item, $"{field}[{i}]")).ToList();
    }

    [GeneratedRegex(@"^[a-z0-9][a-z0-9_-]{0,62}\z")]
    private static partial Regex NameText();

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}\z")]
    private static partial Regex VersionText();

    [GeneratedRegex(@"^[a-z][a-z0-9_-]{0,31}\z")]
    private static partial Regex ExecutorText();

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]*\z")]
    private static partial Regex EnvironmentName();
}
