using System.Globalization;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Runway.Pipelines;

/// <summary>
/// Typed reads from YAML nodes that fail with the file, the field path and the line. The representation
/// model is used rather than POCO deserialization because it keeps every node's position and the order
/// of mapping keys, and lets us tell a quoted "3" (a string) from a plain 3.
/// </summary>
internal sealed partial class YamlFields(string sourcePath)
{
    public PipelineFormatException Error(YamlNode? node, string field, string message)
    {
        var where = node is null ? "" : $" (line {node.Start.Line}, column {node.Start.Column})";
        var prefix = field.Length == 0 ? "" : field + ": ";
        return new PipelineFormatException($"{sourcePath}: {prefix}{message}{where}");
    }

    public YamlMappingNode LoadRoot(string yaml)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException ex)
        {
            throw new PipelineFormatException(
                $"{sourcePath}: not valid YAML: {YamlMessage(ex)} (line {ex.Start.Line}, column {ex.Start.Column})");
        }
        if (stream.Documents.Count == 0 || IsNull(stream.Documents[0].RootNode))
        {
            throw Error(null, "", "the file is empty");
        }
        if (stream.Documents.Count > 1)
        {
            throw Error(stream.Documents[1].RootNode, "", "one pipeline per file: found a second YAML document");
        }
        return Mapping(stream.Documents[0].RootNode, "", "the file must be a mapping of keys such as name, version, command");
    }

    public static bool IsNull(YamlNode node) =>
        node is YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any, Value: null or "" or "~" or "null" or "Null" or "NULL" };

    /// <summary>The entries of a mapping, in file order, each key checked against <paramref name="allowed"/>.</summary>
    public List<(string Key, YamlNode Value)> Entries(YamlMappingNode mapping, string field, IReadOnlyCollection<string>? allowed)
    {
        var entries = new List<(string, YamlNode)>();
        foreach (var (keyNode, value) in mapping.Children)
        {
            if (keyNode is not YamlScalarNode { Value: { Length: > 0 } key })
            {
                throw Error(keyNode, field, "keys must be plain names");
            }
            if (allowed is not null && !allowed.Contains(key))
            {
                throw Error(keyNode, Join(field, key), $"unknown key (expected one of: {string.Join(", ", allowed)})");
            }
            entries.Add((key, value));
        }
        return entries;
    }

    public YamlMappingNode Mapping(YamlNode node, string field, string? message = null) =>
        node as YamlMappingNode ?? throw Error(node, field, message ?? "must be a mapping of keys to values");

    public YamlSequenceNode Sequence(YamlNode node, string field, string? message = null) =>
        node as YamlSequenceNode ?? throw Error(node, field, message ?? "must be a list");

    public string String(YamlNode node, string field) =>
        node is YamlScalarNode scalar && !IsNull(node) ? scalar.Value ?? "" : throw Error(node, field, "must be a string");

    public bool Boolean(YamlNode node, string field) =>
        Plain(node) switch
        {
            "true" or "True" or "TRUE" => true,
            "false" or "False" or "FALSE" => false,
            _ => throw Error(node, field, "must be true or false"),
        };

    public long Integer(YamlNode node, string field) =>
        Plain(node) is { } text && IntegerText().IsMatch(text) && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw Error(node, field, "must be an integer");

    public double Number(YamlNode node, string field) =>
        Plain(node) is { } text && NumberText().IsMatch(text)
            && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value)
            ? value
            : throw Error(node, field, "must be a number");

    public static string Join(string field, string key) => field.Length == 0 ? key : $"{field}.{key}";

    // A quoted scalar is a string in YAML, so "3" is not an integer and "true" is not a boolean.
    private static string? Plain(YamlNode node) =>
        node is YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any } scalar ? scalar.Value : null;

    // YamlDotNet prefixes "(Line: 1, Col: 2, Idx: 1) - (Line: …): "; we give the position our own way.
    private static string YamlMessage(YamlException ex)
    {
        var message = ex.Message;
        var cut = message.IndexOf("): ", StringComparison.Ordinal);
        return message.StartsWith("(Line", StringComparison.Ordinal) && cut >= 0 ? message[(cut + 3)..] : message;
    }

    [GeneratedRegex(@"^[-+]?[0-9]+\z")]
    private static partial Regex IntegerText();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\z")]
    private static partial Regex NumberText();
}
