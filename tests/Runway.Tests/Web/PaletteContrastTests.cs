using System.Globalization;
using System.Text.RegularExpressions;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Web;

/// <summary>The stylesheet's text colours on the backgrounds they are used on reach WCAG AA (4.5:1), light and dark.</summary>
public sealed partial class PaletteContrastTests
{
    /// <summary>Text colour, background: every pair the pages use for text.</summary>
    public static readonly TheoryData<string, string> Pairs = new()
    {
        { "fg", "bg" }, { "fg", "card" }, { "fg", "code" }, { "fg", "accent-soft" }, { "fg", "ok-soft" },
        { "muted", "bg" }, { "muted", "card" }, { "muted", "code" }, { "muted", "accent-soft" },
        { "accent", "bg" }, { "accent", "card" }, { "accent", "accent-soft" }, { "accent-fg", "accent" },
        { "danger", "bg" }, { "danger", "card" }, { "danger", "danger-soft" },
        { "ok", "card" }, { "ok", "ok-soft" }, { "warn", "warn-soft" },
    };

    [Theory]
    [MemberData(nameof(Pairs))]
    public void Text_HasContrastOfAtLeast4_5_InLightAndDark(string text, string background)
    {
        var css = File.ReadAllText(Path.Combine(Repository.Root, "src", "Runway", "Web", "wwwroot", "assets", "site.css"));
        var parts = css.Split("@media (prefers-color-scheme: dark)");
        var light = Palette(parts[0]);
        var dark = new Dictionary<string, string>(light);
        foreach (var (name, colour) in Palette(parts[1][..parts[1].IndexOf('}', StringComparison.Ordinal)]))
        {
            dark[name] = colour;
        }
        foreach (var (scheme, palette) in new[] { ("light", light), ("dark", dark) })
        {
            var ratio = Contrast(palette[text], palette[background]);
            Assert.True(ratio >= 4.5, $"{scheme}: --{text} on --{background} is {ratio:0.00}:1");
        }
    }

    private static Dictionary<string, string> Palette(string css) =>
        Colour().Matches(css).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);

    // WCAG 2.x relative luminance and contrast ratio.
    private static double Contrast(string a, string b)
    {
        var (la, lb) = (Luminance(a), Luminance(b));
        return (Math.Max(la, lb) + 0.05) / (Math.Min(la, lb) + 0.05);
    }

    private static double Luminance(string hex)
    {
        double Channel(int at)
        {
            var c = int.Parse(hex.AsSpan(at, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture) / 255.0;
            return c <= 0.03928 ? c / 12.92 : Math.Pow((c + 0.055) / 1.055, 2.4);
        }
        return (0.2126 * Channel(1)) + (0.7152 * Channel(3)) + (0.0722 * Channel(5));
    }

    [GeneratedRegex("--([a-z-]+):\\s*(#[0-9a-fA-F]{6})")]
    private static partial Regex Colour();
}
