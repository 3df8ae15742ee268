using Microsoft.Extensions.FileSystemGlobbing;
using Runway.Execution;

namespace Runway.Api;

public sealed record RunOutput(string Path, long Size, DateTimeOffset ModifiedAt);

/// <summary>
/// The fetch rule: what of a run a user may fetch. A run directory also holds Runway's own files (pids, the
/// exit code), staged inputs (another user's upload, for all the run's owner knows) and scratch space, and
/// the run may have left anything else there, so a user gets only what the run was declared to produce:
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>its outputs: the files matching the pipeline's <c>outputs</c> globs or, when it declares none,
/// every file it wrote; never Runway's own files, nor anything under <c>inputs/</c> or <c>tmp/</c>, even
/// when a glob matches them;</item>
/// <item>its logs, <c>stdout.log</c> and <c>stderr.log</c>, and its wrapper script <c>run.sh</c>.</item>
/// </list>
/// <c>GET …/outputs</c> lists the outputs, <c>GET …/outputs/{path}</c> serves any file the rule allows and
/// answers 404 for the rest, and the archive holds exactly those files, with the links the rule matches as
/// links. Links are never followed and never served as files; what else is refused (FIFOs, devices, hard
/// links to files that are not the run's) is <see cref="RunTree"/>'s rule.
/// </remarks>
public sealed class RunOutputs
{
    private const string Root = "/run";
    private static readonly string[] AlwaysFetchable = [RunFiles.Stdout, RunFiles.Stderr, RunFiles.Script, RunFiles.SlurmScript];
    private readonly Matcher matcher = new(StringComparison.Ordinal);
    private readonly List<string[]> globSegments;

    public RunOutputs(IReadOnlyList<string> globs)
    {
        globs = globs.Count == 0 ? ["**/*"] : globs;
        matcher.AddIncludePatterns(globs);
        globSegments = globs.Select(g => g.Split('/')).ToList();
    }

    /// <summary>The fetch rule of this run: its pipeline's output globs, as they were when it was submitted.</summary>
    public static RunOutputs Of(Runs.Run run) => new(RunSpecJson.Deserialize(run.SpecJson).Outputs);

    /// <summary>The run's outputs as GET …/outputs lists them (and the run page shows them); none before its directory exists.</summary>
    public static (IReadOnlyList<RunOutput> Outputs, bool Truncated) ListOf(Runs.Run run, RunwayPaths paths)
    {
        using var tree = RunTree.Open(DirectoryOf(run, paths));
        return tree is null ? ([], false) : Of(run).List(tree);
    }

    /// <summary>A file of the run that the rule lets the caller fetch, opened without following links; null for any other path.</summary>
    public static RunFileStream? OpenFetchable(Runs.Run run, RunwayPaths paths, string relativePath)
    {
        if (!Of(run).IsFetchable(relativePath))
        {
            return null;
        }
        using var tree = RunTree.Open(DirectoryOf(run, paths));
        return tree?.OpenFile(relativePath);
    }

    /// <summary>Where the run's files are: its own directory, or for a run that reused another's outputs (RunCache), that run's.</summary>
    public static string DirectoryOf(Runs.Run run, RunwayPaths paths) => paths.RunDirectory(run.CachedFrom ?? run.Id);

    public bool IsOutput(string relativePath) => Outputs([relativePath]).Count == 1;

    public bool IsFetchable(string relativePath) => Fetchable([relativePath]).Count == 1;

    /// <summary>The outputs, sorted by path; links are left out, as they cannot be downloaded.</summary>
    public (IReadOnlyList<RunOutput> Outputs, bool Truncated) List(RunTree tree)
    {
        var listing = tree.List(Outputs, Descend, includeLinks: false);
        var outputs = listing.Entries
            .Select(e => new RunOutput(e.Path, e.Size, e.ModifiedAt))
            .OrderBy(o => o.Path, StringComparer.Ordinal)
            .ToList();
        return (outputs, listing.Truncated);
    }

    /// <summary>What the archive holds: every fetchable file, and the links the rule matches as links.</summary>
    public RunTreeListing Archive(RunTree tree) => tree.List(Fetchable, Descend, includeLinks: true);

    /// <summary>The paths (relative to the run directory) that are outputs; globs are matched as names, on no disk.</summary>
    private HashSet<string> Outputs(IReadOnlyList<string> relativePaths)
    {
        var candidates = relativePaths.Where(p => !RunFiles.IsInternal(p)
            && !p.StartsWith(RunFiles.Inputs + "/", StringComparison.Ordinal)
            && !p.StartsWith(RunFiles.Temp + "/", StringComparison.Ordinal)).ToList();
        return candidates.Count == 0
            ? []
            : matcher.Match(Root, candidates).Files.Select(f => f.Path).ToHashSet(StringComparer.Ordinal);
    }

    private HashSet<string> Fetchable(IReadOnlyList<string> relativePaths)
    {
        var fetchable = Outputs(relativePaths);
        fetchable.UnionWith(relativePaths.Intersect(AlwaysFetchable, StringComparer.Ordinal));
        return fetchable;
    }

    /// <summary>
    /// Whether a directory may hold an output, so that a run with many scratch files and a few declared outputs
    /// is not walked whole. It errs towards yes: only a directory no glob can reach below is skipped.
    /// </summary>
    private bool Descend(string relativePath) =>
        relativePath is not (RunFiles.Inputs or RunFiles.Temp)
        && globSegments.Any(glob => MayHoldMatches(glob, relativePath.Split('/')));

    private static bool MayHoldMatches(string[] glob, string[] directory)
    {
        for (var i = 0; i < directory.Length; i++)
        {
            if (i == glob.Length - 1)
            {
                // The last segment names files, unless it is "**" or empty ("results/" takes everything below).
                return glob[i] is "**" or "";
            }
            if (glob[i] is "**" or "." or ".." or "")
            {
                return true;
            }
            if (!SegmentMatches(glob[i], directory[i]))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>One path segment against one glob segment, where <c>*</c> is the only wildcard (as in Matcher).</summary>
    private static bool SegmentMatches(string pattern, string name)
    {
        var parts = pattern.Split('*');
        if (parts.Length == 1)
        {
            return pattern == name;
        }
        if (!name.StartsWith(parts[0], StringComparison.Ordinal) || !name.EndsWith(parts[^1], StringComparison.Ordinal)
            || name.Length < parts[0].Length + parts[^1].Length)
        {
            return false;
        }
        var at = parts[0].Length;
        var end = name.Length - parts[^1].Length;
        foreach (var middle in parts[1..^1])
        {
            var found = name.IndexOf(middle, at, end - at, StringComparison.Ordinal);
            if (found < 0)
            {
                return false;
            }
            at = found + middle.Length;
        }
        return true;
    }
}
