using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Runway.Runs;

namespace Runway.Pipelines;

/// <summary>Submitted parameters with defaults filled in, and the messages for every bad field (by parameter name).</summary>
public sealed record ParameterValidation(JsonObject Params, IReadOnlyDictionary<string, string[]> Errors)
{
    public bool IsValid => Errors.Count == 0;
}

/// <summary>
/// Checks submitted JSON strictly against a pipeline's parameters: no coercion ("3" is not an integer, 3.0
/// is not an integer), so what the run records is exactly what the schema promised.
/// </summary>
public static class ParameterValidator
{
    // Linux caps one argv entry at 128 KiB (MAX_ARG_STRLEN); longer text belongs in a file parameter.
    public const int MaxStringLength = 16384;

    private static readonly TimeSpan PatternTimeout = TimeSpan.FromMilliseconds(250);
    private static readonly ConcurrentDictionary<string, Regex> Patterns = new(StringComparer.Ordinal);

    public static ParameterValidation Validate(Pipeline pipeline, JsonObject? input)
    {
        var errors = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        void Add(string name, string message) =>
            (errors.TryGetValue(name, out var list) ? list : errors[name] = []).Add(message);

        if (input is not null)
        {
            foreach (var (name, _) in input)
            {
                if (!pipeline.Parameters.Any(p => p.Name == name))
                {
                    Add(name, "unknown parameter");
                }
            }
        }

        var result = new JsonObject();
        foreach (var parameter in pipeline.Parameters)
        {
            JsonNode? given = null;
            input?.TryGetPropertyValue(parameter.Name, out given);
            // An explicit null means "not given", as clients building objects from forms tend to send.
            if (given is null)
            {
                if (parameter.Default is not null)
                {
                    result[parameter.Name] = parameter.Default.DeepClone();
                }
                else if (parameter.Required)
                {
                    Add(parameter.Name, "is required");
                }
                continue;
            }
            var messages = Check(parameter, given, out var value);
            messages.ForEach(m => Add(parameter.Name, m));
            if (messages.Count == 0)
            {
                result[parameter.Name] = value;
            }
        }
        var frozen = errors.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.Ordinal);
        return new ParameterValidation(result, frozen);
    }

    /// <summary>The problems with one given value (empty when fine), and the value as it is stored.</summary>
    internal static List<string> Check(Parameter parameter, JsonNode given, out JsonNode? value)
    {
        value = null;
        var kind = given.GetValueKind();
        switch (parameter.Type)
        {
            case ParameterType.Boolean:
                if (kind is not (JsonValueKind.True or JsonValueKind.False))
                {
                    return ["must be true or false"];
                }
                value = JsonValue.Create(kind == JsonValueKind.True);
                return [];
            case ParameterType.Integer or ParameterType.Number:
                return CheckNumber(parameter, given, kind, out value);
            default:
                if (kind != JsonValueKind.String)
                {
                    return [parameter.Type switch
                    {
                        ParameterType.Enum => OneOf(parameter),
                        ParameterType.File => "must be a file id (as returned by POST /api/v1/files)",
                        _ => "must be a string",
                    }];
                }
                var text = given.GetValue<string>();
                value = JsonValue.Create(text);
                return CheckText(parameter, text);
        }
    }

    private static List<string> CheckNumber(Parameter parameter, JsonNode given, JsonValueKind kind, out JsonNode? value)
    {
        value = null;
        var integer = parameter.Type == ParameterType.Integer;
        if (kind != JsonValueKind.Number)
        {
            return [integer ? "must be an integer" : "must be a number"];
        }
        // Read the JSON text itself so a JsonNode built in code and one parsed from a request agree.
        using var document = JsonDocument.Parse(given.ToJsonString());
        var element = document.RootElement;
        double number;
        if (integer)
        {
            if (!element.TryGetInt64(out var whole))
            {
                return ["must be an integer"];
            }
            number = whole;
            value = JsonValue.Create(whole);
        }
        else
        {
            if (!element.TryGetDouble(out number) || !double.IsFinite(number))
            {
                return ["must be a number"];
            }
            value = JsonValue.Create(number);
        }
        var messages = new List<string>();
        if (parameter.Minimum is { } min && number < min)
        {
            messages.Add($"must be at least {FormatNumber(min)}");
        }
        if (parameter.Maximum is { } max && number > max)
        {
            messages.Add($"must be at most {FormatNumber(max)}");
        }
        return messages;
    }

    private static List<string> CheckText(Parameter parameter, string text)
    {
        if (parameter.Type == ParameterType.Enum)
        {
            return parameter.Values.Contains(text, StringComparer.Ordinal) ? [] : [OneOf(parameter)];
        }
        if (parameter.Type == ParameterType.File)
        {
            return Ids.IsFileId(text) ? [] : ["must be a file id (as returned by POST /api/v1/files)"];
        }
        if (parameter.Required && text.Length == 0)
        {
            return ["is required"];
        }
        // An argv entry is a C string: a NUL would silently cut it short.
        if (text.Contains('\0', StringComparison.Ordinal))
        {
            return ["must not contain a NUL character"];
        }
        if (text.Length > MaxStringLength)
        {
            return [$"must be at most {MaxStringLength} characters (upload longer text as a file)"];
        }
        if (parameter.Pattern is { } pattern)
        {
            try
            {
                if (!PatternRegex(pattern).IsMatch(text))
                {
                    return [$"must match the pattern {pattern}"];
                }
            }
            catch (RegexMatchTimeoutException)
            {
                return [$"took too long to check against the pattern {pattern}"];
            }
        }
        return [];
    }

    /// <summary>The compiled form of a parameter pattern, anchored: it must match the whole value.</summary>
    /// <exception cref="ArgumentException">The pattern is not a valid .NET regular expression.</exception>
    internal static Regex PatternRegex(string pattern) =>
        Patterns.GetOrAdd(pattern, p => new Regex($@"\A(?:{p})\z", RegexOptions.CultureInvariant, PatternTimeout));

    internal static string FormatNumber(double value) =>
        double.IsInteger(value) && Math.Abs(value) < 1e15
            ? ((long)value).ToString(CultureInfo.InvariantCulture)
            : value.ToString("R", CultureInfo.InvariantCulture);

    private static string OneOf(Parameter parameter) => $"must be one of: {string.Join(", ", parameter.Values)}";
}
