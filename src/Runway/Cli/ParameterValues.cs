using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Runway.Cli;

/// <summary>A <c>file</c> parameter given as <c>name=@local/path</c>: upload the file, then use its id.</summary>
internal sealed record PendingUpload(string Parameter, string Path);

internal sealed record ParameterSet(JsonObject Params, IReadOnlyList<PendingUpload> Uploads);

/// <summary>
/// Turns <c>key=value</c> words into the JSON the pipeline's parameter schema expects. The server validates
/// again; converting here lets `min_length=3` travel as the number 3 and catches typos before a round trip.
/// </summary>
internal static class ParameterValues
{
    public const string FileFormat = "runway-file-id";

    /// <summary>Starts from <paramref name="fromFile"/> (--params) and lets each key=value override it.</summary>
    public static ParameterSet Build(JsonObject? fromFile, IEnumerable<string> pairs, JsonObject? schema)
    {
        var result = fromFile?.DeepClone().AsObject() ?? [];
        var uploads = new List<PendingUpload>();
        var properties = schema?["properties"] as JsonObject;
        foreach (var pair in pairs)
        {
            var (key, raw) = Split(pair);
            if (properties is not null && !properties.ContainsKey(key))
            {
                var known = properties.Count == 0 ? "it takes none" : "it takes: " + string.Join(", ", properties.Select(p => p.Key));
                throw new CliUsageException($"unknown parameter '{key}'; {known}");
            }
            var property = properties?[key] as JsonObject;
            uploads.RemoveAll(u => u.Parameter == key);
            if (IsFile(property) && raw.StartsWith('@'))
            {
                uploads.Add(new PendingUpload(key, raw[1..]));
                result[key] = null;
                continue;
            }
            result[key] = Convert(key, raw, property);
        }
        return new ParameterSet(result, uploads);
    }

    public static (string Key, string Value) Split(string pair)
    {
        var equals = pair.IndexOf('=', StringComparison.Ordinal);
        if (equals <= 0)
        {
            throw new CliUsageException($"expected key=value, got '{pair}'");
        }
        return (pair[..equals], pair[(equals + 1)..]);
    }

    public static JsonNode? Convert(string key, string raw, JsonObject? property)
    {
        var type = TypeOf(property);
        switch (type)
        {
            case "integer":
                return long.TryParse(raw, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer)
                    ? JsonValue.Create(integer)
                    : throw Invalid(key, raw, "an integer");
            case "number":
                return double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number)
                    ? JsonValue.Create(number)
                    : throw Invalid(key, raw, "a number");
            case "boolean":
                return raw.ToLowerInvariant() switch
                {
                    "true" or "yes" or "1" or "on" => JsonValue.Create(true),
                    "false" or "no" or "0" or "off" => JsonValue.Create(false),
                    _ => throw Invalid(key, raw, "a boolean (true/false, yes/no, 1/0)"),
                };
            case "array" or "object":
                try
                {
                    return JsonNode.Parse(raw);
                }
                catch (JsonException)
                {
                    throw Invalid(key, raw, $"a JSON {type}");
                }
            default:
                return JsonValue.Create(raw);
        }
    }

    public static bool IsFile(JsonObject? property) =>
        property?["format"] is JsonValue format && format.TryGetValue<string>(out var f) && f == FileFormat;

    /// <summary>The JSON Schema type; of <c>["integer", "null"]</c>, the one that is not null.</summary>
    public static string? TypeOf(JsonObject? property) => property?["type"] switch
    {
        JsonValue value when value.TryGetValue<string>(out var single) => single,
        JsonArray many => many.Select(t => t?.GetValue<string>()).FirstOrDefault(t => t is not null and not "null"),
        _ => null,
    };

    private static CliUsageException Invalid(string key, string raw, string expected) =>
        new($"{key}: '{raw}' is not {expected}");
}
