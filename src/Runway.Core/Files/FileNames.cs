namespace Runway.Files;

/// <summary>Client file names are kept for display and staging only, reduced to one safe path segment.</summary>
public static class FileNames
{
    private const int MaxLength = 200;

    /// <summary>
    /// The last segment of the name (either slash), without control characters or a leading dot run;
    /// "upload" when nothing usable is left. Never "." or "..", never a path.
    /// </summary>
    public static string Sanitize(string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            return "upload";
        }
        var lastSlash = name.LastIndexOfAny(['/', '\\']);
        var segment = lastSlash >= 0 ? name[(lastSlash + 1)..] : name;
        var clean = new string(segment.Where(c => !char.IsControl(c)).ToArray()).Trim().TrimStart('.');
        if (clean.Length > MaxLength)
        {
            var ext = Path.GetExtension(clean);
            clean = ext.Length < 20 ? clean[..(MaxLength - ext.Length)] + ext : clean[..MaxLength];
        }
        return clean.Length == 0 ? "upload" : clean;
    }
}
