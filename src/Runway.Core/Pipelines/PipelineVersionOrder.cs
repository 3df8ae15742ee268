namespace Runway.Pipelines;

/// <summary>
/// Semantic version order (semver.org §11) over what pipelines declare: dot-separated parts compared numerically when
/// both are numbers (1.10.0 after 1.9.0), else ordinally; a pre-release (<c>1.0.0-rc.1</c>) before its release; build
/// metadata (<c>+…</c>) ignored but for a final ordinal tie-break, so the order is total. Versions that are not
/// semantic (<c>"3"</c>, <c>2024-05</c>) still sort sensibly part by part.
/// </summary>
public sealed class PipelineVersionOrder : IComparer<string>
{
    public static readonly PipelineVersionOrder Instance = new();

    public int Compare(string? x, string? y)
    {
        if (x is null || y is null)
        {
            return x is null ? (y is null ? 0 : -1) : 1;
        }
        var (xCore, xPre) = Split(x);
        var (yCore, yPre) = Split(y);
        var byCore = CompareParts(xCore, yCore);
        if (byCore != 0)
        {
            return byCore;
        }
        // A release comes after its pre-releases.
        var byPre = (xPre, yPre) switch
        {
            (null, null) => 0,
            (null, _) => 1,
            (_, null) => -1,
            _ => CompareParts(xPre, yPre),
        };
        return byPre != 0 ? byPre : string.CompareOrdinal(x, y);
    }

    private static (string Core, string? PreRelease) Split(string version)
    {
        var plus = version.IndexOf('+', StringComparison.Ordinal);
        var withoutBuild = plus >= 0 ? version[..plus] : version;
        var dash = withoutBuild.IndexOf('-', StringComparison.Ordinal);
        return dash >= 0 ? (withoutBuild[..dash], withoutBuild[(dash + 1)..]) : (withoutBuild, null);
    }

    private static int CompareParts(string x, string y)
    {
        var xs = x.Split('.');
        var ys = y.Split('.');
        for (var i = 0; i < Math.Min(xs.Length, ys.Length); i++)
        {
            var xNumber = long.TryParse(xs[i], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var xn);
            var yNumber = long.TryParse(ys[i], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var yn);
            var part = (xNumber, yNumber) switch
            {
                (true, true) => xn.CompareTo(yn),
                (true, false) => -1, // numeric identifiers have lower precedence (semver §11.4.3)
                (false, true) => 1,
                _ => string.CompareOrdinal(xs[i], ys[i]),
            };
            if (part != 0)
            {
                return part;
            }
        }
        return xs.Length.CompareTo(ys.Length);
    }
}
