namespace Runway.Execution.Local;

/// <summary>Finds the program a run names, as execvp would, so a missing one fails the start instead of the run.</summary>
internal static class CommandPath
{
    private const UnixFileMode AnyExecute = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;

    /// <summary>The absolute path of <paramref name="program"/>, or null when it is not an executable file.</summary>
    public static string? Resolve(string program, string? searchPath, string workingDirectory)
    {
        if (string.IsNullOrEmpty(program) || program.Contains('\0', StringComparison.Ordinal))
        {
            return null;
        }
        if (program.Contains('/', StringComparison.Ordinal))
        {
            var full = Path.GetFullPath(program, workingDirectory);
            return IsExecutableFile(full) ? full : null;
        }
        foreach (var directory in (searchPath ?? "").Split(':'))
        {
            // An empty PATH entry means the working directory, as in execvp.
            var candidate = Path.Combine(directory.Length == 0 ? workingDirectory : Path.GetFullPath(directory, workingDirectory), program);
            if (IsExecutableFile(candidate))
            {
                return candidate;
            }
        }
        return null;
    }

    private static bool IsExecutableFile(string path)
    {
        try
        {
            return File.Exists(path) && (OperatingSystem.IsWindows() || (File.GetUnixFileMode(path) & AnyExecute) != 0);
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }
}
