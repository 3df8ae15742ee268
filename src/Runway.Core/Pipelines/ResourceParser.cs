using System.Globalization;
using System.Text.RegularExpressions;
using Runway.Runs;
using YamlDotNet.RepresentationModel;

namespace Runway.Pipelines;

/// <summary>Reads <c>resources:</c>, memory sizes (512M, 4G, 1024 = MiB) and durations (90s, 10m, 1h30m, 3600).</summary>
internal static partial class ResourceParser
{
    private static readonly string[] Keys = ["cpus", "memory", "gpus", "time_limit"];

    public static (PipelineResources Resources, TimeSpan? TimeLimit) Read(YamlFields yaml, YamlNode? node)
    {
        if (node is null || YamlFields.IsNull(node))
        {
            return (new PipelineResources(), null);
        }
        var resources = new PipelineResources();
        TimeSpan? timeLimit = null;
        foreach (var (key, value) in yaml.Entries(yaml.Mapping(node, "resources"), "resources", Keys))
        {
            var field = $"resources.{key}";
            switch (key)
            {
                case "cpus":
                    resources = resources with { Cpus = Cpus(yaml, value, field) };
                    break;
                case "gpus":
                    resources = resources with { Gpus = (int)Count(yaml, value, field, 0) };
                    break;
                case "memory":
                    resources = resources with { MemoryMb = Memory(yaml, value, field) };
                    break;
                default:
                    timeLimit = Duration(yaml, value, field);
                    break;
            }
        }
        return (resources, timeLimit);
    }

    public static TimeSpan Duration(YamlFields yaml, YamlNode node, string field)
    {
        var text = yaml.String(node, field).Trim();
        var match = DurationText().Match(text);
        if (!match.Success || text.Length == 0)
        {
            throw yaml.Error(node, field, "must be a duration such as 90s, 10m, 1h30m, 2d, or a number of seconds");
        }
        long Part(string group) => match.Groups[group].Success ? long.Parse(match.Groups[group].Value, CultureInfo.InvariantCulture) : 0;
        var seconds = match.Groups["plain"].Success
            ? Part("plain")
            : (((Part("d") * 24) + Part("h")) * 60 + Part("m")) * 60 + Part("s");
        return seconds is > 0 and <= 366L * 24 * 3600
            ? TimeSpan.FromSeconds(seconds)
            : throw yaml.Error(node, field, "must be more than 0 seconds and at most a year");
    }

    private static long Memory(YamlFields yaml, YamlNode node, string field)
    {
        var text = yaml.String(node, field).Trim();
        var match = MemoryText().Match(text);
        if (!match.Success)
        {
            throw yaml.Error(node, field, "must be a size such as 512M, 4G, 1T, or a number of MiB");
        }
        var amount = long.Parse(match.Groups["n"].Value, CultureInfo.InvariantCulture);
        var factor = char.ToUpperInvariant(match.Groups["unit"].Value.FirstOrDefault('M')) switch
        {
            'G' => 1024L,
            'T' => 1024L * 1024,
            _ => 1L,
        };
        return amount is > 0 and < 1L << 40 ? amount * factor : throw yaml.Error(node, field, "must be more than 0");
    }

    /// <summary>Whole CPUs, or a fraction of one to a hundredth (0.5): the quota is in those steps.</summary>
    private static double Cpus(YamlFields yaml, YamlNode node, string field)
    {
        var value = yaml.Number(node, field);
        return value is >= 0.01 and <= 4096 && Math.Round(value, 2) == value
            ? value
            : throw yaml.Error(node, field, "must be a number of CPUs between 0.01 and 4096, such as 2 or 0.5");
    }

    private static long Count(YamlFields yaml, YamlNode node, string field, long minimum)
    {
        var value = yaml.Integer(node, field);
        return value >= minimum && value <= 4096 ? value : throw yaml.Error(node, field, $"must be between {minimum} and 4096");
    }

    [GeneratedRegex(@"^(?:(?<plain>[0-9]{1,9})|(?:(?<d>[0-9]{1,4})d)?(?:(?<h>[0-9]{1,6})h)?(?:(?<m>[0-9]{1,7})m)?(?:(?<s>[0-9]{1,9})s)?)\z")]
    private static partial Regex DurationText();

    [GeneratedRegex(@"^(?<n>[0-9]{1,12})\s*(?<unit>(?:[MGT](?:i?B)?)?)\z", RegexOptions.IgnoreCase)]
    private static partial Regex MemoryText();
}
