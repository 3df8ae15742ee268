using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Runway.Cli;

/// <summary>Durations as people type and read them: <c>90</c>, <c>90s</c>, <c>1h30m</c>, <c>1.5h</c>, <c>00:10:00</c>.</summary>
internal static partial class Duration
{
    public static TimeSpan Parse(string text)
    {
        var trimmed = text.Trim();
        if (double.TryParse(trimmed, NumberStyles.Float, CultureInfo.InvariantCulture, out var bare) && bare >= 0)
        {
            return TimeSpan.FromSeconds(bare);
        }
        if (trimmed.Contains(':', StringComparison.Ordinal) && TimeSpan.TryParse(trimmed, CultureInfo.InvariantCulture, out var clock) && clock >= TimeSpan.Zero)
        {
            return clock;
        }
        var parts = Part().Matches(trimmed);
        if (parts.Count == 0 || string.Concat(parts.Select(m => m.Value)) != trimmed)
        {
            throw new FormatException($"'{text}' is not a duration (try 90s, 10m, 1h30m)");
        }
        var total = TimeSpan.Zero;
        foreach (Match part in parts)
        {
            var value = double.Parse(part.Groups[1].Value, CultureInfo.InvariantCulture);
            total += part.Groups[2].Value.ToLowerInvariant() switch
            {
                "ms" => TimeSpan.FromMilliseconds(value),
                "s" => TimeSpan.FromSeconds(value),
                "m" => TimeSpan.FromMinutes(value),
                "h" => TimeSpan.FromHours(value),
                _ => TimeSpan.FromDays(value),
            };
        }
        return total;
    }

    /// <summary>Two units at most: <c>12.4s</c>, <c>3m05s</c>, <c>2h03m</c>, <c>1d04h</c>.</summary>
    public static string Format(TimeSpan span)
    {
        if (span < TimeSpan.FromMinutes(1))
        {
            return string.Create(CultureInfo.InvariantCulture, $"{Math.Max(0, span.TotalSeconds):0.#}s");
        }
        var text = new StringBuilder();
        if (span < TimeSpan.FromHours(1))
        {
            return text.Append(CultureInfo.InvariantCulture, $"{(int)span.TotalMinutes}m{span.Seconds:00}s").ToString();
        }
        return span < TimeSpan.FromDays(1)
            ? text.Append(CultureInfo.InvariantCulture, $"{(int)span.TotalHours}h{span.Minutes:00}m").ToString()
            : text.Append(CultureInfo.InvariantCulture, $"{(int)span.TotalDays}d{span.Hours:00}h").ToString();
    }

    public static string Format(double? seconds) => seconds is { } s ? Format(TimeSpan.FromSeconds(s)) : "";

    [GeneratedRegex(@"(\d+(?:\.\d+)?)(ms|s|m|h|d)", RegexOptions.IgnoreCase)]
    private static partial Regex Part();
}
