using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using Runway.Execution;

namespace Runway.Api;

/// <summary>
/// A run's fetchable files (<see cref="RunOutputs"/>) as tar inside gzip, streamed file by file: nothing is
/// staged in memory or on disk beyond the list of names.
/// </summary>
/// <remarks>
/// Files come from <see cref="RunTree"/>, each by the length it had when opened; links are written as link
/// entries with their target text, never followed. No entry lies beneath a link entry (the walk never
/// crosses a link), so unpacking cannot write through one. When the walk stopped at a limit, the last
/// entry is <see cref="IncompleteNote"/>, saying so: the headers are sent before anyone knows.
/// </remarks>
public static class RunArchive
{
    public const string IncompleteNote = "ARCHIVE-INCOMPLETE.txt";

    /// <summary>The run record's entry; <see cref="OwnRecordNote"/> instead when the run wrote a run.json of its own.</summary>
    public const string RecordName = "run.json";
    public const string OwnRecordNote = "runway-run.json";

    public static async Task WriteAsync(string runDirectory, string id, RunOutputs rule, Stream body, CancellationToken cancellationToken, byte[]? record = null)
    {
        await using var gzip = new GZipStream(body, CompressionLevel.Fastest, leaveOpen: true);
        await using var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true);
        await WriteRunAsync(tar, runDirectory, id, rule, cancellationToken, record);
    }

    /// <summary>One run's entries, all beneath the folder <paramref name="id"/>: a batch's archive writes one such folder per run.</summary>
    public static async Task WriteRunAsync(TarWriter tar, string runDirectory, string id, RunOutputs rule, CancellationToken cancellationToken, byte[]? record = null)
    {
        ArgumentNullException.ThrowIfNull(tar);
        using var tree = RunTree.Open(runDirectory);
        if (tree is null)
        {
            // No directory (yet, or any more: a queued run, or a cached row whose source run's files were purged): the record alone.
            if (record is not null)
            {
                using var alone = new MemoryStream(record);
                await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, $"{id}/{RecordName}") { DataStream = alone }, cancellationToken);
            }
            return;
        }
        var listing = rule.Archive(tree);
        if (record is not null)
        {
            var name = listing.Entries.Any(e => e.Path == RecordName) ? OwnRecordNote : RecordName;
            using var content = new MemoryStream(record);
            await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, $"{id}/{name}") { DataStream = content }, cancellationToken);
        }
        foreach (var entry in listing.Entries)
        {
            var name = $"{id}/{entry.Path}";
            if (entry.IsLink)
            {
                await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.SymbolicLink, name) { LinkName = entry.LinkTarget!, ModificationTime = entry.ModifiedAt }, cancellationToken);
                continue;
            }
            // Opened again by name, every component without following links: what changed since the walk is
            // checked again, and a file that is no longer a plain file of the run's is left out.
            await using var file = tree.OpenFile(entry.Path);
            if (file is not null)
            {
                var tarEntry = new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = file, ModificationTime = file.ModifiedAt, Mode = file.Permissions };
                await tar.WriteEntryAsync(tarEntry, cancellationToken);
            }
        }
        if (listing.Truncated)
        {
            var limits = RunTreeLimits.Default;
            var text = $"This archive is incomplete: run {id} holds more than {limits.MaxEntries} files to fetch, more than "
                + $"{limits.MaxVisited} entries, or directories more than {limits.MaxDepth} levels deep, and Runway stopped there.\n";
            using var note = new MemoryStream(Encoding.UTF8.GetBytes(text));
            await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, $"{id}/{IncompleteNote}") { DataStream = note }, cancellationToken);
        }
    }
}
