using System.Text.Json;
using System.Text.Json.Nodes;

namespace Runway.Runs;

/// <summary>
/// Finds text in parsed JSON that is not Unicode: a lone UTF-16 surrogate ("\ud800") or bytes that are
/// not UTF-8. System.Text.Json accepts both into a JsonNode and fails only when the value is read or
/// written again, long after the request was parsed; checking first turns that into a 422 for the field.
/// </summary>
public static class JsonText
{
    /// <summary>The path of the first string or property name that is not valid text, or null when all are.</summary>
    public static string? FindInvalid(JsonNode? node, string path)
    {
        try
        {
            switch (node)
            {
                case JsonObject o:
                    foreach (var (name, value) in o)
                    {
                        if (!IsValid(name))
                        {
                            return path;
                        }
                        if (FindInvalid(value, $"{path}.{name}") is { } inner)
                        {
                            return inner;
                        }
                    }
                    return null;
                case JsonArray a:
                    return a.Select((item, i) => FindInvalid(item, $"{path}[{i}]")).FirstOrDefault(p => p is not null);
                case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                    return IsValid(v.GetValue<string>()) ? null : path;
                default:
                    return null;
            }
        }
        catch (Exception e) when (e is InvalidOperationException or JsonException or ArgumentException)
        {
            return path;
        }
    }

    /// <summary>True when every surrogate is half of a pair.</summary>
    public static bool IsValid(string? text)
    {
        if (text is null)
        {
            return true;
        }
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(text[i]))
            {
                return false;
            }
        }
        return true;
    }
}
