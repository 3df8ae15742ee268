namespace Runway.Cli;

/// <summary>
/// Joins an output path the server sent onto the local download directory. The server is not trusted to
/// send safe names: anything absolute, with <c>..</c>, or that would land outside the directory is refused.
/// </summary>
internal static class OutputPath
{
    public static string? Join(string root, string relative)
    {
        if (string.IsNullOrWhiteSpace(relative) || relative.Contains('\0', StringComparison.Ordinal))
        {
            return null;
        }
        // Backslashes count as separators too, so a Windows-style "..\x" cannot slip through as one odd name.
        var segments = relative.Split('/', '\\');
        if (relative[0] is '/' or '\\' || Path.IsPathRooted(relative) || (relative.Length > 1 && relative[1] == ':')
            || segments.Any(s => s is ".." or "."))
        {
            return null;
        }
        var rootFull = Path.GetFullPath(root);
        var full = Path.GetFullPath(Path.Combine([rootFull, .. segments.Where(s => s.Length > 0)]));
        return full.StartsWith(rootFull.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar, StringComparison.Ordinal)
            ? full
            : null;
    }
}
