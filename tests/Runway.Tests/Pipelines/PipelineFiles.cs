using System.Diagnostics;
using Runway.Pipelines;

namespace Runway.Tests.Pipelines;

/// <summary>Shared bits of the pipeline tests: YAML to a pipeline, scratch folders, the repository, running an argv.</summary>
internal static class PipelineFiles
{
    public const string FileId = "f_01JD3Z6S7T8V9W0X1Y2Z3A4B5C";

    public static Pipeline Parse(string yaml, string path = "/srv/pipelines/test.yaml") => PipelineParser.Parse(yaml, path);

    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Runway.slnx")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"no Runway.slnx above {AppContext.BaseDirectory}");
    }

    /// <summary>Runs an argument vector the way an executor does: no shell, one entry per argument.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> ExecuteAsync(IReadOnlyList<string> argv, string workingDirectory)
    {
        var start = new ProcessStartInfo(argv[0])
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in argv.Skip(1))
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException("process did not start");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }
}

/// <summary>A temporary folder, deleted on dispose.</summary>
internal sealed class ScratchDirectory : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("runway-pipelines-").FullName;

    public string Write(string relative, string text)
    {
        var full = System.IO.Path.Combine(Path, relative);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        File.WriteAllText(full, text);
        return full;
    }

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
