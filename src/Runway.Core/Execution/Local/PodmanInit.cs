using System.Text.RegularExpressions;

namespace Runway.Execution.Local;

/// <summary>
/// Whether podman can run a container with <c>--init</c>, as Runway runs every one (so that a stop's TERM reaches the
/// command and its orphans are reaped). podman runs the init binary named by <c>init_path</c> in containers.conf, else
/// <c>/usr/libexec/podman/catatonit</c>: Debian 12's podman 4.3 looks nowhere else, later versions also in their helper
/// directories and on PATH. Debian's podman only recommends the catatonit package, so an install without recommends
/// has no init, and every container run failed with podman's own "container-init binary not found on the host".
/// </summary>
internal static partial class PodmanInit
{
    public const string DefaultPath = "/usr/libexec/podman/catatonit";

    private const long MaxConfigBytes = 1 << 20;

    private static readonly string[] HelperDirectories = ["/usr/local/libexec/podman", "/usr/local/lib/podman", "/usr/libexec/podman", "/usr/lib/podman"];

    /// <summary>The containers.conf files a root podman reads, in order (a later one's setting wins); CONTAINERS_CONF replaces them.</summary>
    public static IEnumerable<string> ConfigFiles()
    {
        if (Environment.GetEnvironmentVariable("CONTAINERS_CONF") is { Length: > 0 } only)
        {
            return [only];
        }
        const string drop = "/etc/containers/containers.conf.d";
        string[] dropped = Directory.Exists(drop) ? [.. Directory.GetFiles(drop, "*.conf").Order(StringComparer.Ordinal)] : [];
        return ["/usr/share/containers/containers.conf", "/etc/containers/containers.conf", .. dropped];
    }

    /// <summary>The last <c>init_path</c> the files set, or null where none does (commented lines are not settings).</summary>
    public static string? ConfiguredPath(IEnumerable<string> texts)
    {
        string? path = null;
        foreach (var text in texts)
        {
            foreach (Match setting in InitPathSetting().Matches(text))
            {
                path = setting.Groups[1].Value;
            }
        }
        return path;
    }

    /// <summary>Why podman cannot run a container with --init here, or null when its init binary is there.</summary>
    public static string? Missing(Func<string, bool> exists, string? configured, string? searchPath)
    {
        if (configured is not null)
        {
            return exists(configured) ? null
                : $"podman cannot run containers on this node: its init_path ({configured}, set in containers.conf) does not exist, and Runway runs every container with --init";
        }
        var directories = HelperDirectories.Concat((searchPath ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries));
        return exists(DefaultPath) || directories.Any(d => exists(Path.Combine(d, "catatonit"))) ? null
            : $"podman cannot run containers on this node: catatonit, the init its --init runs, is not installed (apt-get install catatonit; it provides {DefaultPath})";
    }

    /// <summary>What this node's podman lacks, read from its containers.conf files and the file system.</summary>
    public static string? MissingHere()
    {
        var texts = new List<string>();
        try
        {
            // Regular files of a sane size only: a FIFO or a device in the drop-in directory would hang the start.
            foreach (var file in ConfigFiles().Where(f => PosixFiles.TryStatFollowing(f, out var status) && status.IsRegular && status.Size <= MaxConfigBytes))
            {
                try
                {
                    texts.Add(File.ReadAllText(file));
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // One podman cannot read either: it sets nothing.
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The drop-in directory could not be listed: the files read so far decide.
        }
        return Missing(File.Exists, ConfiguredPath(texts), Environment.GetEnvironmentVariable("PATH"));
    }

    [GeneratedRegex("""^[ \t]*init_path[ \t]*=[ \t]*["']([^"'\n]+)["']""", RegexOptions.Multiline)]
    private static partial Regex InitPathSetting();
}
