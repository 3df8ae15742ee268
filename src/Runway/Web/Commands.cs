using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Runway.Web;

/// <summary>
/// The curl and <c>runway submit</c> commands that submit what a form holds, shown for copying. The page's
/// script rebuilds them as the form changes (runway.js, <c>commands</c>): keep the two alike.
/// </summary>
public static class Commands
{
    // Shown in a page (which encodes it), not parsed: as JSON.stringify writes it in the page's script.
    private static readonly JsonSerializerOptions Readable = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <param name="version">An earlier version the page shows (<c>?version=</c>); null for the default.</param>
    public static string Curl(string server, string pipeline, string? version, JsonObject values, string? name)
    {
        var body = new JsonObject { ["pipeline"] = pipeline };
        if (version is not null)
        {
            body["pipeline_version"] = version;
        }
        body["params"] = values.DeepClone();
        if (!string.IsNullOrEmpty(name))
        {
            body["name"] = name;
        }
        return $"curl -H \"Authorization: Bearer $RUNWAY_TOKEN\" -H 'Content-Type: application/json' \\\n  -d {Quote(body.ToJsonString(Readable))} \\\n  {server}/api/v1/runs";
    }

    public static string Submit(string pipeline, string? version, JsonObject values, string? name)
    {
        var words = new List<string> { "runway", "submit", Quote(pipeline) };
        if (version is not null)
        {
            words.Add("--pipeline-version");
            words.Add(Quote(version));
        }
        words.AddRange(values.Select(v => Quote($"{v.Key}={(v.Value is JsonValue s && s.TryGetValue<string>(out var text) ? text : v.Value?.ToJsonString())}")));
        if (!string.IsNullOrEmpty(name))
        {
            words.Add("--name");
            words.Add(Quote(name));
        }
        return string.Join(' ', words);
    }

    /// <summary>POSIX shell quoting: bare when only safe characters, else in single quotes.</summary>
    public static string Quote(string word) =>
        word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '/' or '=' or ':' or ',' or '@' or '+')
            ? word
            : "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
