using Microsoft.Extensions.FileSystemGlobbing;
using Runway.Execution;

namespace Runway.Api;

public sealed record RunOutput(string Path, long Size, DateTimeOffset ModifiedAt);

/// <summary>
/// A run's outputs: the files matching its pipeline's output globs or, when it declares none, every file
/// it wrote (not its staged inputs, not Runway's own files).
/// </summary>
public static class RunOutputs
{
    public static IReadOnlyList<RunOutput> List(string runDirectory, IReadOnlyList<string> globs)
    {
        if (!Directory.Exists(runDirectory))
        {
            return [];
        }
        var matcher = new Matcher(StringComparison.Ordinal);
        if (globs.Count == 0)
        {
            matcher.AddInclude("**/*");
            matcher.AddExclude(RunFiles.Inputs + "/**");
            matcher.AddExclude(RunFiles.Temp + "/**");
        }
        else
        {
            matcher.AddIncludePatterns(globs);
        }
        return matcher.GetResultsInFullPath(runDirectory)
            .Select(full => (Full: full, Relative: Path.GetRelativePath(runDirectory, full).Replace('\\', '/')))
            .Where(f => !RunFiles.IsInternal(f.Relative))
            .Select(f => new FileInfo(f.Full))
            .Where(info => info.Exists && info.LinkTarget is null)
            .Select(info => new RunOutput(Path.GetRelativePath(runDirectory, info.FullName).Replace('\\', '/'), info.Length, info.LastWriteTimeUtc))
            .OrderBy(o => o.Path, StringComparer.Ordinal)
            .ToList();
    }
}
