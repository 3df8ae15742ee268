using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Runway.Data;
using Runway.Files;
using Runway.Pipelines;
using Runway.Retention;
using Runway.Runs;
using Runway.Storage;
using Runway.Tests.Data;
using Runway.Tests.Fakes;

namespace Runway.Tests.Retention;

public sealed class RetentionSqliteTests() : RetentionContract(TestDatabase.Sqlite);

public sealed class RetentionPostgresTests() : RetentionContract(TestDatabase.Postgres);

/// <summary>
/// The retention sweep against a real database and real run directories, on the test's clock: what it removes, what it
/// keeps (active runs and what they need, anything inside its window), its audit entries, and that of two nodes
/// sweeping at once only one does.
/// </summary>
public abstract class RetentionContract(Func<TestDatabase> open) : StoreTest(open)
{
    private static readonly TimeSpan Day = TimeSpan.FromDays(1);

    private RetentionOptions Options { get; } = new() { RunFilesDays = 7, UploadsUnusedDays = 30, RunRecordsDays = 0 };

    private RunwayPaths Paths => new(Database.DataDirectory);

    private ServiceProvider Node()
    {
        var pipelines = Directory.CreateDirectory(Path.Combine(Database.DataDirectory, "pipelines"));
        File.WriteAllText(Path.Combine(pipelines.FullName, "keep.yaml"), "name: keep\nversion: 1\ncommand: [/bin/true]\nretention: {run_files_days: never}\n");
        File.WriteAllText(Path.Combine(pipelines.FullName, "brief.yaml"), "name: brief\nversion: 1\ncommand: [/bin/true]\nretention: {run_files_days: 1}\n");
        return BuildServices(more: s =>
        {
            s.AddSingleton(Paths);
            s.AddSingleton(Options);
            s.AddSingleton(_ => new PipelineCatalog(pipelines.FullName, NullLogger<PipelineCatalog>.Instance));
            s.AddSingleton<FileStore>();
            s.AddSingleton<Blobs>();
            s.AddSingleton<JobLeases>();
            s.AddSingleton<RunFilesPurge>();
            s.AddSingleton<RetentionPolicy>();
            s.AddSingleton<RetentionSweep>();
            s.AddSingleton<StorageUse>();
        });
    }

    [Fact]
    public async Task Sweep_RemovesFinishedRunsFilesPastTheirWindow_AndKeepsTheRest()
    {
        await using var node = Node();
        var running = await AddRunningAsync();
        Directory.CreateDirectory(Paths.RunDirectory(running.Id));
        Clock.Advance(30 * Day); // running for a month: still never touched
        var old = await FinishedAsync("wordstats", endedDaysAgo: 8);
        var recent = await FinishedAsync("wordstats", endedDaysAgo: 6);
        var kept = await FinishedAsync("keep", endedDaysAgo: 400);
        var brief = await FinishedAsync("brief", endedDaysAgo: 2);

        var report = await SweepAsync(node);

        Assert.Equal(new[] { old.Id, brief.Id }.Order(), report.RunFiles.Select(i => i.Id).Order());
        foreach (var gone in new[] { old, brief })
        {
            Assert.False(Path.Exists(Paths.RunDirectory(gone.Id)));
            var run = await GetAsync(gone.Id);
            Assert.Equal((0L, Clock.GetUtcNow()), (run.FilesBytes, run.FilesPurgedAt));
        }
        foreach (var stays in new[] { recent, kept, running })
        {
            Assert.True(Directory.Exists(Paths.RunDirectory(stays.Id)), stays.Id);
            Assert.Null((await GetAsync(stays.Id)).FilesPurgedAt);
        }
        Assert.True(report.FreedBytes > 0);
    }

    [Fact]
    public async Task Sweep_DeletesUnusedUploads_ButNotThoseAQueuedOrRunningRunNeeds()
    {
        await using var node = Node();
        var unused = await UploadAsync();
        var forQueued = await UploadAsync();
        var forRunning = await UploadAsync();
        Clock.Advance(31 * Day);
        var recent = await UploadAsync();
        var running = await AddWithInputAsync(forRunning);
        Assert.Single(await Store.ClaimAsync("n1", 1, Ct));
        await AddWithInputAsync(forQueued);
        // The queued run was submitted long ago and its upload not touched since: it is still needed.
        await using (var db = await OpenDbAsync())
        {
            var longAgo = Clock.GetUtcNow() - 60 * Day;
            await db.Files.Where(f => f.Id != recent.Id).ExecuteUpdateAsync(s => s.SetProperty(f => f.LastUsedAt, longAgo), Ct);
        }

        var report = await SweepAsync(node);

        Assert.Equal(unused.Id, Assert.Single(report.Uploads).Id);
        Assert.False(File.Exists(Paths.UploadPath(unused.Sha256, unused.Id)));
        await using var check = await OpenDbAsync();
        Assert.Equal(new[] { forQueued.Id, forRunning.Id, recent.Id }.Order(), (await check.Files.Select(f => f.Id).ToListAsync(Ct)).Order());
        Assert.All(new[] { forQueued, forRunning, recent }, f => Assert.True(File.Exists(Paths.UploadPath(f.Sha256, f.Id))));
        Assert.Equal(RunState.Running, (await GetAsync(running.Id)).State);
    }

    [Fact]
    public async Task Sweep_DeletesRunRecordsPastTheirWindow_WithTheirFilesAndEvents()
    {
        Options.RunRecordsDays = 90;
        await using var node = Node();
        var old = await FinishedAsync("wordstats", endedDaysAgo: 91);
        var young = await FinishedAsync("wordstats", endedDaysAgo: 89);

        var report = await SweepAsync(node);

        Assert.Equal(old.Id, Assert.Single(report.RunRecords).Id);
        Assert.Null(await Store.GetAsync(old.Id, Ct));
        Assert.Empty(await Store.ListEventsAsync(old.Id, Ct));
        Assert.False(Path.Exists(Paths.RunDirectory(old.Id)));
        Assert.NotNull(await Store.GetAsync(young.Id, Ct));
    }

    [Fact]
    public async Task Sweep_NeverDeletesWhatARunDirectorysLinksPointAt()
    {
        await using var node = Node();
        using var outside = new TempDirectory();
        File.WriteAllText(outside.Combine("precious.txt"), "keep me");
        var run = await FinishedAsync("wordstats", endedDaysAgo: 8);
        var directory = Paths.RunDirectory(run.Id);
        File.CreateSymbolicLink(Path.Combine(directory, "link-to-file"), outside.Combine("precious.txt"));
        Directory.CreateSymbolicLink(Path.Combine(directory, "link-to-dir"), outside.Path);
        Directory.CreateDirectory(Path.Combine(directory, "nested"));
        Directory.CreateSymbolicLink(Path.Combine(directory, "nested", "up"), "../../../..");

        Assert.Equal(run.Id, Assert.Single((await SweepAsync(node)).RunFiles).Id);

        Assert.False(Path.Exists(directory));
        Assert.Equal("keep me", File.ReadAllText(outside.Combine("precious.txt")));
    }

    [Fact]
    public async Task Sweep_WritesOneAuditEntryPerItem_AndOneForTheSweep()
    {
        await using var node = Node();
        var run = await FinishedAsync("wordstats", endedDaysAgo: 8);
        var file = await UploadAsync();
        Clock.Advance(31 * Day);

        var report = await SweepAsync(node);

        await using var db = await OpenDbAsync();
        var entries = await db.AuditEntries.Where(a => a.Actor == RetentionSweep.Actor).OrderBy(a => a.Id).ToListAsync(Ct);
        Assert.Equal(
            [("retention.run_files", run.Id), ("retention.upload", file.Id), ("retention.sweep", report.Summary())],
            entries.Select(a => (a.Action, a.Target)).ToList());
        Assert.Contains($"freed {report.FreedBytes} bytes", report.Summary(), StringComparison.Ordinal);
        Assert.Contains("run_files=1", report.Summary(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sweep_RunsOncePerInterval()
    {
        await using var node = Node();
        var sweep = node.GetRequiredService<RetentionSweep>();

        Assert.NotNull(await sweep.TrySweepAsync(evenIfNotDue: false, Ct));
        Assert.Null(await sweep.TrySweepAsync(evenIfNotDue: false, Ct));
        Clock.Advance(Options.Interval);
        Assert.NotNull(await sweep.TrySweepAsync(evenIfNotDue: false, Ct));
    }

    [Fact]
    public async Task TwoNodesSweepingAtOnce_RemoveEachItemOnce_AndAuditOneSweep()
    {
        await using var a = Node();
        await using var b = Node();
        var runs = new List<Run>();
        for (var i = 0; i < 20; i++)
        {
            runs.Add(await FinishedAsync("wordstats", endedDaysAgo: 8));
        }

        var reports = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            Task.Run(() => (i % 2 == 0 ? a : b).GetRequiredService<RetentionSweep>().TrySweepAsync(evenIfNotDue: false, Ct))));

        var done = Assert.Single(reports, r => r is not null)!;
        Assert.Equal(runs.Select(r => r.Id).Order(), done.RunFiles.Select(i => i.Id).Order());
        await using var db = await OpenDbAsync();
        Assert.Equal(1, await db.AuditEntries.CountAsync(e => e.Action == "retention.sweep", Ct));
        Assert.Equal(20, await db.AuditEntries.CountAsync(e => e.Action == "retention.run_files", Ct));
    }

    [Fact]
    public async Task TwoPurgesOfOneRun_OnlyOneRemovesIt()
    {
        await using var a = Node();
        await using var b = Node();
        var run = await FinishedAsync("wordstats", endedDaysAgo: 0);

        var freed = await Task.WhenAll(Enumerable.Range(0, 6).Select(i =>
            Task.Run(() => (i % 2 == 0 ? a : b).GetRequiredService<RunFilesPurge>().PurgeAsync(run.Id, Ct))));

        Assert.Single(freed, f => f is not null);
        Assert.False(Path.Exists(Paths.RunDirectory(run.Id)));
    }

    /// <summary>A node that died between claiming a purge and finishing it: the next sweep after the retry delay removes the rest, not before.</summary>
    [Fact]
    public async Task Sweep_FinishesAPurgeACrashCutShort()
    {
        Options.RunFilesDays = 0;
        Options.UploadsUnusedDays = 0;
        await using var node = Node();
        var run = await FinishedAsync("wordstats", endedDaysAgo: 1);
        var claimedAt = Clock.GetUtcNow();
        await using (var db = await OpenDbAsync())
        {
            // What PurgeAsync's claim leaves if the process dies before the removal is done.
            await db.Runs.Where(r => r.Id == run.Id)
                .ExecuteUpdateAsync(s => s.SetProperty(r => r.FilesPurgedAt, claimedAt).SetProperty(r => r.FilesBytes, (long?)null), Ct);
        }

        await SweepAsync(node);
        Assert.True(Directory.Exists(Paths.RunDirectory(run.Id)), "a claim this young may be a removal still in progress");

        Clock.Advance(RunFilesPurge.RetryAfter + TimeSpan.FromMinutes(1));
        await SweepAsync(node);

        Assert.False(Path.Exists(Paths.RunDirectory(run.Id)));
        var purged = await GetAsync(run.Id);
        Assert.Equal((0L, claimedAt), (purged.FilesBytes, purged.FilesPurgedAt));
    }

    [Fact]
    public async Task Purge_RefusesAnActiveRun()
    {
        await using var node = Node();
        var running = await AddRunningAsync();
        Directory.CreateDirectory(Paths.RunDirectory(running.Id));

        Assert.Null(await node.GetRequiredService<RunFilesPurge>().PurgeAsync(running.Id, Ct));
        Assert.True(Directory.Exists(Paths.RunDirectory(running.Id)));
    }

    [Fact]
    public async Task Sweep_MeasuresFinishedRunsNoNodeMeasured_AndStorageUseSumsThem()
    {
        Options.RunFilesDays = 0;
        Options.UploadsUnusedDays = 0;
        await using var node = Node();
        var run = await FinishedAsync("wordstats", endedDaysAgo: 1);
        File.WriteAllBytes(Path.Combine(Paths.RunDirectory(run.Id), "data"), new byte[1 << 20]);
        var file = await UploadAsync();

        await SweepAsync(node);

        var measured = (await GetAsync(run.Id)).FilesBytes;
        Assert.InRange(measured ?? 0, 1 << 20, (1 << 20) + (64 << 10));
        var stored = await node.GetRequiredService<StorageUse>().OfAsync("ana", Ct);
        Assert.Equal((file.Size, measured!.Value), (stored.Uploads, stored.RunFiles));
        Assert.Equal(stored, (await node.GetRequiredService<StorageUse>().PerUserAsync(Ct))["ana"]);
        Assert.Equal(new StoredBytes(0, 0), await node.GetRequiredService<StorageUse>().OfAsync("bob", Ct));
    }

    private static async Task<RetentionReport> SweepAsync(ServiceProvider node) =>
        await node.GetRequiredService<RetentionSweep>().TrySweepAsync(evenIfNotDue: true, Ct) ?? throw new InvalidOperationException("the job was taken");

    /// <summary>A run of the pipeline that ended <paramref name="endedDaysAgo"/> days before now, with a directory holding a log.</summary>
    private async Task<Run> FinishedAsync(string pipeline, int endedDaysAgo)
    {
        Clock.Advance(-endedDaysAgo * Day);
        var run = NewRun();
        run = new Run
        {
            Id = run.Id,
            Pipeline = pipeline,
            PipelineVersion = "1",
            ParamsJson = "{}",
            Owner = "ana",
            Executor = "local",
            SpecJson = run.SpecJson,
            SubmittedAt = run.SubmittedAt,
        };
        Assert.True((await Store.AddAsync(run, Ct)).Created);
        Assert.Equal(run.Id, Assert.Single(await Store.ClaimAsync("n1", 1, Ct)).Id);
        Assert.True(await Store.TryTransitionAsync(new RunTransition(run.Id, [RunState.Running], RunState.Succeeded, "exited 0") { ExitCode = 0 }, Ct));
        var directory = Paths.RunDirectory(run.Id);
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "stdout.log"), "hello\n");
        Clock.Advance(endedDaysAgo * Day);
        return run;
    }

    private async Task<StoredFile> UploadAsync()
    {
        Directory.CreateDirectory(Paths.FilesDirectory);
        Directory.CreateDirectory(Paths.UploadsDirectory);
        Directory.CreateDirectory(Paths.BlobsDirectory);
        // Bytes of its own per upload: the same bytes would share one blob, kept while any of them is.
        using var content = new MemoryStream(Encoding.UTF8.GetBytes($"some words {Guid.NewGuid()}\n"));
        var store = new FileStore(Paths, Clock);
        var received = await store.ReceiveAsync(content, "words.txt", "ana", 1 << 20, Ct);
        await using var db = await OpenDbAsync();
        db.Files.Add(received.File);
        await db.SaveChangesAsync(Ct);
        store.Place(received);
        return received.File;
    }

    private async Task<Run> AddWithInputAsync(StoredFile file)
    {
        var run = NewRun(specJson: $$"""{"argv":["/bin/true"],"inputs":[{"file_id":"{{file.Id}}","relative_path":"inputs/words.txt"}]}""");
        Assert.True((await Store.AddAsync(run, Ct)).Created);
        return run;
    }
}
