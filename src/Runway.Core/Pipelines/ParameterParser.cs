using System.Text.Json.Nodes;
using YamlDotNet.RepresentationModel;

namespace Runway.Pipelines;

/// <summary>Reads the <c>parameters:</c> mapping, checking each declaration and its default at load.</summary>
internal static class ParameterParser
{
    private static readonly string[] Keys = ["type", "description", "required", "default", "minimum", "maximum", "pattern", "values"];

    public static List<Parameter> Read(YamlFields yaml, YamlNode? node)
    {
        if (node is null || YamlFields.IsNull(node))
        {
            return [];
        }
        var parameters = new List<Parameter>();
        var mapping = yaml.Mapping(node, "parameters", "must be a mapping of parameter names to their declarations");
        foreach (var (name, declaration) in yaml.Entries(mapping, "parameters", allowed: null))
        {
            var field = $"parameters.{name}";
            if (!Template.IsName(name) || name.Length > 64)
            {
                throw yaml.Error(declaration, field, "a parameter name must be lowercase letters, digits and _, not starting with a digit");
            }
            if (Template.BuiltIns.Contains(name))
            {
                throw yaml.Error(declaration, field, $"'{name}' is a built-in placeholder and cannot be a parameter name");
            }
            parameters.Add(ReadOne(yaml, name, field, yaml.Mapping(declaration, field, "must be a mapping such as {type: string}")));
        }
        return parameters;
    }

    private static Parameter ReadOne(YamlFields yaml, string name, string field, YamlMappingNode mapping)
    {
        var entries = yaml.Entries(mapping, field, Keys).ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal);
        YamlNode? Get(string key) => entries.TryGetValue(key, out var v) && !YamlFields.IsNull(v) ? v : null;

        var typeNode = Get("type") ?? throw yaml.Error(mapping, field, $"type is required (one of: {TypeNames})");
        var typeName = yaml.String(typeNode, $"{field}.type");
        var type = Enum.GetValues<ParameterType>().FirstOrDefault(t => Name(t) == typeName, (ParameterType)(-1));
        if (!Enum.IsDefined(type))
        {
            throw yaml.Error(typeNode, $"{field}.type", $"unknown type '{typeName}' (expected one of: {TypeNames})");
        }

        var numeric = type is ParameterType.Integer or ParameterType.Number;
        double? Bound(string key)
        {
            if (Get(key) is not { } bound)
            {
                return null;
            }
            if (!numeric)
            {
                throw yaml.Error(bound, $"{field}.{key}", "applies only to integer and number parameters");
            }
            return type == ParameterType.Integer ? yaml.Integer(bound, $"{field}.{key}") : yaml.Number(bound, $"{field}.{key}");
        }
        var minimum = Bound("minimum");
        var maximum = Bound("maximum");
        if (minimum > maximum)
        {
            throw yaml.Error(entries["maximum"], field,
                $"minimum ({ParameterValidator.FormatNumber(minimum.Value)}) is greater than maximum ({ParameterValidator.FormatNumber(maximum!.Value)})");
        }

        var parameter = new Parameter
        {
            Name = name,
            Type = type,
            Description = Get("description") is { } d ? yaml.String(d, $"{field}.description") : null,
            Required = Get("required") is { } r && yaml.Boolean(r, $"{field}.required"),
            Minimum = minimum,
            Maximum = maximum,
            Pattern = ReadPattern(yaml, Get("pattern"), field, type),
            Values = ReadValues(yaml, Get("values"), field, type),
        };
        if (type == ParameterType.Enum && parameter.Values.Count == 0)
        {
            throw yaml.Error(mapping, field, "an enum parameter needs values: [a, b, ...]");
        }
        return Get("default") is { } node ? parameter with { Default = ReadDefault(yaml, node, $"{field}.default", parameter) } : parameter;
    }

    private static string? ReadPattern(YamlFields yaml, YamlNode? node, string field, ParameterType type)
    {
        if (node is null)
        {
            return null;
        }
        if (type != ParameterType.String)
        {
            throw yaml.Error(node, $"{field}.pattern", "applies only to string parameters");
        }
        var pattern = yaml.String(node, $"{field}.pattern");
        try
        {
            ParameterValidator.PatternRegex(pattern);
        }
        catch (ArgumentException ex)
        {
            throw yaml.Error(node, $"{field}.pattern", $"is not a valid regular expression: {ex.Message}");
        }
        return pattern;
    }

    private static List<string> ReadValues(YamlFields yaml, YamlNode? node, string field, ParameterType type)
    {
        if (node is null)
        {
            return [];
        }
        if (type != ParameterType.Enum)
        {
            throw yaml.Error(node, $"{field}.values", "applies only to enum parameters");
        }
        var values = new List<string>();
        foreach (var item in yaml.Sequence(node, $"{field}.values", "must be a list of the allowed values").Children)
        {
            var value = yaml.String(item, $"{field}.values");
            if (values.Contains(value, StringComparer.Ordinal))
            {
                throw yaml.Error(item, $"{field}.values", $"'{value}' is listed twice");
            }
            values.Add(value);
        }
        return values;
    }

    private static JsonNode ReadDefault(YamlFields yaml, YamlNode node, string field, Parameter parameter)
    {
        if (parameter.Required)
        {
            throw yaml.Error(node, field, "a required parameter cannot have a default (drop one of the two)");
        }
        JsonNode value = parameter.Type switch
        {
            ParameterType.Boolean => JsonValue.Create(yaml.Boolean(node, field)),
            ParameterType.Integer => JsonValue.Create(yaml.Integer(node, field)),
            ParameterType.Number => JsonValue.Create(yaml.Number(node, field)),
            ParameterType.File => throw yaml.Error(node, field, "a file parameter cannot have a default: files belong to the user who uploaded them"),
            _ => JsonValue.Create(yaml.String(node, field)),
        };
        // The default passes the same checks as a submitted value, so a run never starts with an invalid one.
        var problems = ParameterValidator.Check(parameter, value, out _);
        return problems.Count == 0 ? value : throw yaml.Error(node, field, problems[0]);
    }

    public static string Name(ParameterType type) => type.ToString().ToLowerInvariant();

    private static string TypeNames => string.Join(", ", Enum.GetValues<ParameterType>().Select(Name));
}
