using System.Globalization;
using Microsoft.AspNetCore.Html;
using Runway.Runs;

namespace Runway.Web;

/// <summary>How pages show times, durations, sizes and states. Every text goes through the encoder.</summary>
public static class Display
{
    /// <summary>A time in UTC with its instant in <c>datetime</c>; the page's script shows it in the viewer's time zone.</summary>
    public static IHtmlContent Time(DateTimeOffset? at)
    {
        if (at is not { } value)
        {
            return new HtmlString("<span class=\"muted\">—</span>");
        }
        var utc = value.ToUniversalTime();
        var iso = utc.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        return new HtmlString($"<time datetime=\"{iso}\">{utc.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)} UTC</time>");
    }

    public static string Duration(double? seconds)
    {
        if (seconds is not { } s)
        {
            return "—";
        }
        var span = TimeSpan.FromSeconds(s);
        return span.TotalSeconds < 10 ? $"{s.ToString("0.0", CultureInfo.InvariantCulture)} s"
            : span.TotalMinutes < 1 ? $"{(int)span.TotalSeconds} s"
            : span.TotalHours < 1 ? (span.Seconds == 0 ? $"{span.Minutes} min" : $"{span.Minutes} min {span.Seconds} s")
            : span.TotalDays < 1 ? (span.Minutes == 0 ? $"{(int)span.TotalHours} h" : $"{(int)span.TotalHours} h {span.Minutes} min")
            : span.Hours == 0 ? $"{(int)span.TotalDays} d" : $"{(int)span.TotalDays} d {span.Hours} h";
    }

    /// <summary>As the CLI shows sizes, so both read alike.</summary>
    public static string Size(long bytes) => Cli.TextTable.Bytes(bytes);

    /// <summary>"timed_out" → "timed out": the word next to the badge's colour, so state never rests on colour alone.</summary>
    public static string StateName(RunState state) => state.ToWire().Replace('_', ' ');

    public static string Count(int count, int cap) => count > cap ? $"{cap}+" : count.ToString(CultureInfo.InvariantCulture);
}
