using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Runway.Pipelines;

namespace Runway.Web;

/// <summary>
/// Between a pipeline's generated form and the parameters JSON the API takes. Only the shape is converted
/// here (a number field's text to a number, a checkbox to a boolean); whether a value is allowed is
/// <see cref="ParameterValidator"/>'s to say, through the same <c>Submissions</c> the API calls.
/// </summary>
public static class RunForm
{
    public const string ParamPrefix = "p.";
    public const string UploadPrefix = "upload.";

    /// <summary>The field of a parameter, and back: the server's <c>params.x</c> errors land next to <c>p.x</c>.</summary>
    public static string FieldOf(string parameter) => ParamPrefix + parameter;

    public static JsonObject ToParams(Pipeline pipeline, Func<string, string?> value, Func<string, bool> isChecked)
    {
        var result = new JsonObject();
        foreach (var parameter in pipeline.Parameters)
        {
            if (parameter.Type == ParameterType.Boolean)
            {
                result[parameter.Name] = isChecked(FieldOf(parameter.Name));
                continue;
            }
            var text = value(FieldOf(parameter.Name))?.Trim();
            if (string.IsNullOrEmpty(text))
            {
                continue; // absent: the default applies, or "is required"
            }
            result[parameter.Name] = parameter.Type switch
            {
                ParameterType.Integer when long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) => n,
                ParameterType.Number when double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d) => d,
                _ => text, // text where a number belongs: the validator says what is wrong with it
            };
        }
        return result;
    }

    /// <summary>A parameter's value as its form field shows it: the given value, else the default.</summary>
    public static string? Text(Parameter parameter, JsonObject? values)
    {
        var node = values is not null && values.TryGetPropertyValue(parameter.Name, out var given) ? given : parameter.Default;
        return node switch
        {
            null => null,
            JsonValue v when v.TryGetValue<string>(out var s) => s,
            JsonValue v when v.TryGetValue<bool>(out var b) => b ? "true" : "false",
            _ => node.ToJsonString(),
        };
    }

    /// <summary>"key=value" lines (or "key: value") into tags; a line without a key is an error.</summary>
    public static Dictionary<string, string> ParseTags(string? text, Dictionary<string, string[]> errors)
    {
        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in (text ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var split = line.IndexOfAny(['=', ':']);
            if (split <= 0)
            {
                errors["tags"] = [$"'{line}' is not key=value"];
                continue;
            }
            tags[line[..split].Trim()] = line[(split + 1)..].Trim();
        }
        return tags;
    }

    public static string FormatTags(IReadOnlyDictionary<string, string> tags) => string.Join("\n", tags.Select(t => $"{t.Key}={t.Value}"));

    /// <summary>The JSON tab's text: an object, or a message saying where it is broken.</summary>
    public static JsonObject? ParseJson(string? text, out string? error)
    {
        error = null;
        try
        {
            if (JsonNode.Parse(string.IsNullOrWhiteSpace(text) ? "{}" : text) is JsonObject parsed)
            {
                return parsed;
            }
            error = "must be a JSON object of parameter values, such as {\"min_length\": 3}";
        }
        catch (JsonException e)
        {
            error = $"is not valid JSON: {e.Message}";
        }
        return null;
    }

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static string Pretty(JsonObject values) => values.ToJsonString(Indented);
}
