using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Runway.Bench;

/// <summary>One row of the issue's table: what is measured, its unit, and the goal it is held to.</summary>
internal sealed record Figure(string Key, string Label, string Unit, string Goal, Func<double, bool>? Met);

/// <summary>The figures of every repetition; the table shows the median and the spread (min–max).</summary>
internal sealed class Results
{
    private readonly Dictionary<string, List<double>> values = [];
    private readonly SortedDictionary<string, List<double>> diagnostics = new(StringComparer.Ordinal);

    /// <summary>A figure outside the issue's table that helps say where the time goes.</summary>
    public void AddDiagnostic(string key, double value)
    {
        if (!diagnostics.TryGetValue(key, out var list))
        {
            diagnostics[key] = list = [];
        }
        list.Add(value);
    }

    public string DiagnosticLines() => string.Concat(diagnostics.Select(d =>
        $"  {d.Key}: median {Format(Median(d.Value))}{(d.Value.Count > 1 ? $" ({Format(d.Value.Min())}–{Format(d.Value.Max())})" : "")}\n"));

    public JsonObject DiagnosticsJson()
    {
        var json = new JsonObject();
        foreach (var (key, xs) in diagnostics)
        {
            json[key] = new JsonObject
            {
                ["values"] = new JsonArray([.. xs.Select(x => JsonValue.Create(Round(x)))]),
                ["median"] = Round(Median(xs)),
            };
        }
        return json;
    }

    public void Add(string key, double value)
    {
        if (!Figures.All.Any(f => f.Key == key))
        {
            throw new ArgumentException($"no figure {key}", nameof(key));
        }
        if (!values.TryGetValue(key, out var list))
        {
            values[key] = list = [];
        }
        list.Add(value);
    }

    public IReadOnlyList<double> Of(string key) => values.TryGetValue(key, out var list) ? list : [];

    public static double Median(IReadOnlyList<double> xs)
    {
        var sorted = xs.Order().ToArray();
        return sorted.Length == 0 ? double.NaN
            : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2]
            : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>The p-th percentile (0–100) by nearest rank.</summary>
    public static double Percentile(IReadOnlyList<double> xs, double p)
    {
        var sorted = xs.Order().ToArray();
        if (sorted.Length == 0)
        {
            return double.NaN;
        }
        var rank = (int)Math.Ceiling(p / 100 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    public string Table()
    {
        var rows = Figures.All.Select(f =>
        {
            var xs = Of(f.Key);
            var median = Median(xs);
            var spread = xs.Count > 1 ? $"{Format(xs.Min())}–{Format(xs.Max())}" : "";
            var met = f.Met is null || xs.Count == 0 ? "" : f.Met(median) ? "yes" : "NO";
            return (string[])[f.Label, f.Unit, Format(median), spread, f.Goal, met];
        }).ToList();
        string[] header = ["figure", "unit", "median", "spread (min–max)", "goal", "met"];
        var text = new StringBuilder();
        text.Append("| ").AppendJoin(" | ", header).AppendLine(" |");
        text.Append('|').AppendJoin('|', header.Select(_ => "---")).AppendLine("|");
        foreach (var row in rows)
        {
            text.Append("| ").AppendJoin(" | ", row).AppendLine(" |");
        }
        return text.ToString();
    }

    public JsonObject ToJson()
    {
        var figures = new JsonObject();
        foreach (var f in Figures.All)
        {
            var xs = Of(f.Key);
            figures[f.Key] = new JsonObject
            {
                ["label"] = f.Label,
                ["unit"] = f.Unit,
                ["goal"] = f.Goal,
                ["values"] = new JsonArray([.. xs.Select(x => JsonValue.Create(Round(x)))]),
                ["median"] = xs.Count == 0 ? null : Round(Median(xs)),
                ["min"] = xs.Count == 0 ? null : Round(xs.Min()),
                ["max"] = xs.Count == 0 ? null : Round(xs.Max()),
                ["met"] = f.Met is null || xs.Count == 0 ? null : f.Met(Median(xs)),
            };
        }
        return figures;
    }

    public static string Serialize(JsonObject json) => json.ToJsonString(new JsonSerializerOptions { WriteIndented = true });

    private static double Round(double x) => double.IsFinite(x) ? Math.Round(x, 3) : -1;

    private static string Format(double x) => !double.IsFinite(x) ? "–"
        : Math.Abs(x) >= 100 ? x.ToString("N0", CultureInfo.InvariantCulture)
        : x.ToString("0.##", CultureInfo.InvariantCulture);
}
