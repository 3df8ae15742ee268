namespace Runway.Runs;

/// <summary>
/// Creates a run's directory and stages its inputs there. An input is a copy of the stored upload (its blob, shared by
/// every upload of the same bytes): a reflink (copy-on-write, no data copied) where the file system can, else a plain
/// copy. Read-only (0444).
/// </summary>
/// <remarks>
/// Never a hard link: that shares the upload's inode, and the run owns its directory (and, under the run
/// account, its inputs), so it could make the file writable and change the upload behind its recorded
/// sha256, and every later run's input with it. A copy it may change at will.
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
        if (spec.Tes is { } tes)
        {
            await PrepareTaskAsync(directory, tes, cancellationToken);
        }
        return directory;
    }

    /// <summary>A TES task's inline inputs, and its writable mounts as empty directories (a mount's source must exist).</summary>
    private static async Task PrepareTaskAsync(string directory, Execution.Tes.TesExecution tes, CancellationToken cancellationToken)
    {
        foreach (var mount in tes.Mounts.Where(m => m.Writable))
        {
            var relative = Execution.Tes.TesPaths.Host(mount.Path);
            MakeParents(directory, relative + "/x");
            Directory.CreateDirectory(RunwayPaths.ResolveInside(directory, relative)
                ?? throw new InputStagingException($"volume path '{mount.Path}' leaves the run directory"));
        }
        foreach (var content in tes.Contents)
        {
            var relative = Execution.Tes.TesPaths.Host(content.Path);
            MakeParents(directory, relative);
            var target = RunwayPaths.ResolveInside(directory, relative)
                ?? throw new InputStagingException($"input path '{content.Path}' leaves the run directory");
            File.Delete(target);
            await using var to = new FileStream(target, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
            await to.WriteAsync(System.Text.Encoding.UTF8.GetBytes(content.Text), cancellationToken);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(to.SafeFileHandle, ReadOnly);
            }
        }
    }

    /// <summary>One level at a time: ResolveInside checks links in what exists, so each parent must exist first.</summary>
    private static void MakeParents(string directory, string relativePath)
    {
        if (relativePath.Split('/').Any(p => p is "" or "." or ".."))
        {
            throw new InputStagingException($"input path '{relativePath}' is not a plain relative path");
        }
        var segments = relativePath.Split('/');
        for (var depth = 1; depth < segments.Length; depth++)
        {
            var parent = RunwayPaths.ResolveInside(directory, string.Join('/', segments[..depth]))
                ?? throw new InputStagingException($"input path '{relativePath}' leaves the run directory");
            Directory.CreateDirectory(parent);
        }
    }

    private async Task StageAsync(string directory, StagedInput input, CancellationToken cancellationToken)
    {
        var source = paths.UploadPath(input.Sha256, input.FileId);
        if (!File.Exists(source))
        {
            throw new InputStagingException($"input file {input.FileId} does not exist");
        }
        // The relative path comes from Runway's command rendering, not from a user; check it all the same.
        MakeParents(directory, input.RelativePath);
        var target = RunwayPaths.ResolveInside(directory, input.RelativePath)
            ?? throw new InputStagingException($"input path '{input.RelativePath}' leaves the run directory");

        // Staging again (a run handed back before it started) replaces what the first attempt left.
        File.Delete(target);
        await CopyAsync(source, target, cancellationToken);
    }

    /// <summary>A reflink where the file system shares blocks, else a copy; CreateNew never writes through a link.</summary>
    private static async Task CopyAsync(string source, string target, CancellationToken cancellationToken)
    {
        await using var from = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
        await using var to = new FileStream(target, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
        if (!PosixIo.Reflink(from.SafeFileHandle, to.SafeFileHandle))
        {
            await from.CopyToAsync(to, cancellationToken);
        }
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(to.SafeFileHandle, ReadOnly);
        }
    }
}

/// <summary>An input could not be placed in the run directory; the run ends in system_error with this message.</summary>
public sealed class InputStagingException(string message) : Exception(message);
