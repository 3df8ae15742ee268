using YamlDotNet.RepresentationModel;

namespace Runway.Pipelines;

/// <summary>
/// Reads <c>retention: {run_files_days: N | never}</c>: how long this pipeline's finished runs keep their files,
/// over the server's <c>Runway:Retention:RunFilesDays</c>. Null when the YAML says nothing; 0 for never.
/// </summary>
internal static class RetentionParser
{
    public const int MaxDays = 36_500;
    private static readonly string[] Keys = ["run_files_days"];

    public static int? RunFilesDays(YamlFields yaml, YamlNode? node)
    {
        if (node is null)
        {
            return null;
        }
        var entries = yaml.Entries(yaml.Mapping(node, "retention"), "retention", Keys);
        if (entries.Count == 0 || YamlFields.IsNull(entries[0].Value))
        {
            return null;
        }
        var value = entries[0].Value;
        if (value is YamlScalarNode { Value: "never" })
        {
            return 0;
        }
        var days = value is YamlScalarNode { Value: { } text } && long.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : 0;
        if (days is < 1 or > MaxDays)
        {
            throw yaml.Error(value, "retention.run_files_days", $"must be a whole number of days from 1 to {MaxDays}, or never");
        }
        return (int)days;
    }
}
