namespace Runway.Runs;

/// <summary>
/// Creates a run's directory and stages its inputs there. An input is hard-linked from the file store
/// (no copy, however large), or copied when a link is refused (another file system).
/// </summary>
/// <remarks>
/// A hard link shares the upload's inode, so a pipeline that wrote into its input in place would change
/// the upload itself and every other run's copy. Uploads never change once stored, so the shared inode is
/// made read-only: such a write then fails instead (except for root, whom permissions do not stop).
/// Copy-on-write would need a reflink-capable file system.
/// </remarks>
public sealed class RunWorkspace(RunwayPaths paths)
{
    private const UnixFileMode ReadOnly = UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    public string RunDirectory(string runId) => paths.RunDirectory(runId);

    /// <summary>Creates the directory and stages every input; safe to call again for the same run.</summary>
    public async Task<string> PrepareAsync(string runId, RunSpec spec, CancellationToken cancellationToken)
    {
        var directory = paths.RunDirectory(runId);
        Directory.CreateDirectory(directory);
        foreach (var input in spec.Inputs)
        {
            await StageAsync(directory, input, cancellationToken);
        }
        return directory;
    }

    private async Task StageAsync(string directory, StagedInput input, CancellationToken cancellationToken)
    {
        var source = paths.FilePath(input.FileId);
        if (!File.Exists(source))
        {
            throw new InputStagingException($"input file {input.FileId} does not exist");
        }
        // The relative path comes from Runway's command rendering, not from a user; check it all the same.
        if (input.RelativePath.Split('/').Any(p => p is "" or "." or ".."))
        {
            throw new InputStagingException($"input path '{input.RelativePath}' is not a plain relative path");
        }
        // One level at a time: ResolveInside checks links in what exists, so each parent must exist first.
        var segments = input.RelativePath.Split('/');
        for (var depth = 1; depth < segments.Length; depth++)
        {
            var parent = RunwayPaths.ResolveInside(directory, string.Join('/', segments[..depth]))
                ?? throw new InputStagingException($"input path '{input.RelativePath}' leaves the run directory");
            Directory.CreateDirectory(parent);
        }
        var target = RunwayPaths.ResolveInside(directory, input.RelativePath)
            ?? throw new InputStagingException($"input path '{input.RelativePath}' leaves the run directory");

        // Staging again (a run handed back before it started) replaces what the first attempt left.
        File.Delete(target);
        if (!Posix.Link(source, target))
        {
            await CopyAsync(source, target, cancellationToken);
        }
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(target, ReadOnly);
        }
    }

    private static async Task CopyAsync(string source, string target, CancellationToken cancellationToken)
    {
        await using var from = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
        await using var to = new FileStream(target, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
        await from.CopyToAsync(to, cancellationToken);
    }
}

/// <summary>An input could not be placed in the run directory; the run ends in system_error with this message.</summary>
public sealed class InputStagingException(string message) : Exception(message);
