using System.Text.RegularExpressions;
using Runway.Runs;
using YamlDotNet.RepresentationModel;

namespace Runway.Pipelines;

/// <summary>
/// Reads <c>slurm:</c> — partition, account, qos and further sbatch options for this pipeline, written by
/// the operator who owns the pipelines directory. Checked here so that a submission never fails on them.
/// </summary>
internal static partial class SlurmSettingsParser
{
    private static readonly string[] Keys = ["partition", "account", "qos", "options"];

    public static SlurmSettings? Read(YamlFields yaml, YamlNode? node)
    {
        if (node is null || YamlFields.IsNull(node))
        {
            return null;
        }
        var settings = new SlurmSettings();
        foreach (var (key, value) in yaml.Entries(yaml.Mapping(node, "slurm"), "slurm", Keys))
        {
            var field = $"slurm.{key}";
            if (key == "options")
            {
                var options = yaml.Sequence(value, field).Children.Select((item, i) => yaml.String(item, $"{field}[{i}]")).ToList();
                foreach (var (option, i) in options.Select((o, i) => (o, i)))
                {
                    if (!OptionText().IsMatch(option))
                    {
                        throw yaml.Error(value, $"{field}[{i}]", "must be one sbatch option such as --constraint=avx2, starting with -, on one line");
                    }
                }
                settings = settings with { Options = options };
                continue;
            }
            var text = yaml.String(value, field);
            if (!NameText().IsMatch(text))
            {
                throw yaml.Error(value, field, "must be a Slurm name: letters, digits and . _ -");
            }
            settings = key switch
            {
                "partition" => settings with { Partition = text },
                "account" => settings with { Account = text },
                _ => settings with { Qos = text },
            };
        }
        return settings;
    }

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}\z")]
    private static partial Regex NameText();

    [GeneratedRegex(@"^-[^\n\r\0]{1,1000}\z")]
    private static partial Regex OptionText();
}
