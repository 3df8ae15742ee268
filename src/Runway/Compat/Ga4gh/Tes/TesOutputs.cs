using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Runway.Data;
using Runway.Execution;
using Runway.Execution.Tes;
using Runway.Files;
using Runway.Runs;

namespace Runway.Compat.Ga4gh.Tes;

/// <summary>
/// A finished task's outputs, copied from its run directory (through RunTree: never following a link the task left,
/// bounded) into Runway files of the task's owner, and reported as TES output file logs.
/// </summary>
/// <remarks>
/// Called once per task by <see cref="TesOutputCollector"/> after its run ended, and idempotent on retry: each file's
/// id is derived from the run and the container path, so a collection cut short and tried again (or two collectors
/// racing) store one file, and the second finds it stored.
/// </remarks>
public sealed class TesOutputs(IDbContextFactory<RunwayDb> databases, FileStore store, RunwayPaths paths, RunwayOptions options)
{
    public const int MaxFiles = 1000;
    private const string Alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

    /// <summary>Whether a run in this state has outputs to collect: it ran to an end of its own (not canceled, not lost).</summary>
    public static bool Collects(RunState state) => state is RunState.Succeeded or RunState.Failed or RunState.TimedOut;

    public async Task<List<TesOutputFileLog>> CollectAsync(Run run, CancellationToken cancellationToken)
    {
        var task = System.Text.Json.JsonSerializer.Deserialize<TesTask>(run.ParamsJson, TesJson.Options);
        if (task?.Outputs is not { Count: > 0 } wanted || !Collects(run.State) || run.FilesPurgedAt is not null)
        {
            return [];
        }
        using var tree = RunTree.Open(paths.RunDirectory(run.Id));
        if (tree is null)
        {
            return [];
        }
        var found = wanted.SelectMany(output => Find(tree, output)).Distinct(StringComparer.Ordinal).Take(MaxFiles).ToList();
        var ids = found.ToDictionary(path => path, path => FileIdOf(run.Id, path), StringComparer.Ordinal);
        var idList = ids.Values.ToList();
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        var stored = await db.Files.AsNoTracking().Where(f => idList.Contains(f.Id)).ToDictionaryAsync(f => f.Id, cancellationToken);
        var logs = new List<TesOutputFileLog>();
        foreach (var path in found)
        {
            var id = ids[path];
            if (!stored.TryGetValue(id, out var file))
            {
                file = await StoreAsync(tree, run.Owner, path, id, cancellationToken);
            }
            if (file is not null)
            {
                logs.Add(new TesOutputFileLog(TesTaskCheck.FileScheme + file.Id, path, file.Size.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            }
        }
        return logs;
    }

    private async Task<StoredFile?> StoreAsync(RunTree tree, string owner, string path, string id, CancellationToken cancellationToken)
    {
        await using (var source = tree.OpenFile(TesPaths.Host(path)))
        {
            if (source is null)
            {
                return null;
            }
            try
            {
                // As an upload (Files/Uploads): the row before the bytes, which Blobs' re-check relies on.
                var received = await store.ReceiveAsync(source, Path.GetFileName(path), owner, options.MaxUploadBytes, cancellationToken, id);
                try
                {
                    await using var db = await databases.CreateDbContextAsync(cancellationToken);
                    db.Files.Add(received.File);
                    await db.SaveChangesAsync(cancellationToken);
                }
                catch
                {
                    FileStore.Discard(received);
                    throw;
                }
                store.Place(received);
                return received.File;
            }
            catch (FileTooLargeException)
            {
                return null;
            }
            catch (Exception e) when (e is IOException or DbUpdateException)
            {
                // Another collector stored it first: report theirs.
            }
        }
        await using var again = await databases.CreateDbContextAsync(cancellationToken);
        return await again.Files.AsNoTracking().FirstOrDefaultAsync(f => f.Id == id, cancellationToken);
    }

    /// <summary>The container paths of the files an output names: itself, a directory's files, or a pattern's matches.</summary>
    private static IEnumerable<string> Find(RunTree tree, TesOutput output)
    {
        if (output.Path is not { } path)
        {
            return [];
        }
        path = path.Length > 1 ? path.TrimEnd('/') : path;
        var pattern = TesGlob.IsPattern(path);
        if (!pattern && output.Type != "DIRECTORY")
        {
            return [path];
        }
        var root = TesPaths.Host(pattern ? (output.PathPrefix ?? "/").TrimEnd('/') : path);
        bool Inside(string relative) => relative == root || relative.StartsWith(root + "/", StringComparison.Ordinal);
        var listing = tree.List(
            files => files.Where(f => Inside(f) && (!pattern || TesGlob.Matches(path, ContainerPath(f)))).ToHashSet(StringComparer.Ordinal),
            directory => Inside(directory) || root.StartsWith(directory + "/", StringComparison.Ordinal),
            includeLinks: false);
        return listing.Entries.Select(e => ContainerPath(e.Path));
    }

    private static string ContainerPath(string relative) => relative[TesPaths.Root.Length..];

    /// <summary>A file id (a ULID's shape) from the run's time and a hash of run and path: the same output, the same id.</summary>
    public static string FileIdOf(string runId, string containerPath)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(runId + "\n" + containerPath));
        var text = new StringBuilder("f_").Append(runId.AsSpan(0, 10));
        for (var i = 0; i < 16; i++)
        {
            text.Append(Alphabet[hash[i] & 31]);
        }
        return text.ToString();
    }
}
