using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Runway.Execution.Local;
using Runway.Runs;

namespace Runway.Execution.Slurm;

/// <summary>
/// Follows every Slurm job of this node with one squeue per poll interval, whatever their number, and one
/// accounting query (sacct, or scontrol where there is no accounting) for the jobs that ended or left the
/// queue. Rules, what Slurm says → action:
/// <list type="table">
/// <item>waiting (PENDING, CONFIGURING, REQUEUED, PREEMPTED…) or suspended → the run stays running and shows
/// Slurm's state and reason in its message; running → the message is cleared.</item>
/// <item>final state in squeue or accounting → the run ends (<see cref="SlurmStates.Exit"/>), its exit code
/// from its own exit_code file, else Slurm's, with what it used from sacct (Elapsed, TotalCPU, its steps'
/// largest MaxRSS); final in squeue while sacct does not have its end yet → waits for sacct at the next polls,
/// at most <see cref="SlurmOptions.AccountingWait"/>, then ends without those figures.</item>
/// <item>in neither, exit_code recorded → ends by it; in neither, none recorded, three polls running →
/// system_error: the job vanished.</item>
/// <item>a command fails or hangs → nothing changes; the next poll waits twice as long (up to
/// <see cref="SlurmOptions.MaxRetryInterval"/>) and the executor reports degraded until one answers.</item>
/// </list>
/// Runs taken back without a job id (<see cref="TrackByName"/>: Runway died between sbatch and recording the
/// id) are looked for by their jobs' names at each poll, all in one squeue, with the same back-off: found →
/// the id is recorded and the job followed as above; not found while Slurm answers, exit_code recorded → ends
/// by it; not found for <see cref="SlurmOptions.ReattachTimeout"/> while Slurm answers → system_error; Slurm
/// does not answer → nothing changes (degraded). Nothing of this blocks the caller.
/// </summary>
public sealed class SlurmTracker(SlurmQueries queries, SlurmOptions options, IRunStore? store, ILogger logger) : IDisposable
{
    private const int VanishedAfterMisses = 3;
    private const string UnknownNote = "\0unknown";

    private readonly ConcurrentDictionary<string, TrackedJob> jobs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Unfound> unfound = new(StringComparer.Ordinal); // by run id, under gate
    private readonly ConcurrentDictionary<string, string> found = new(StringComparer.Ordinal); // run id → job id, once found by name
    private readonly CancellationTokenSource stopping = new();
    private readonly SemaphoreSlim wake = new(0);
    private readonly Lock gate = new();
    private Task? loop;
    private int failures;
    private int disposed;
    private ExecutorHealth health = ExecutorHealth.Ok;

    public ExecutorHealth Health => Volatile.Read(ref health);

    /// <summary>How many jobs are followed now.</summary>
    public int Count => jobs.Count;

    /// <summary>
    /// Follows a job until it ends; the task completes with how it ended. A job taken back after a restart
    /// (<paramref name="takenBack"/>) may show a note that is out of date: the first poll writes it anew.
    /// </summary>
    public Task<RunExit> Track(string jobId, RunLaunch launch, bool takenBack = false)
    {
        var job = jobs.GetOrAdd(jobId, _ => new TrackedJob(launch) { Note = takenBack ? UnknownNote : null });
        StartLoop();
        return job.Exited.Task;
    }

    /// <summary>Follows a run taken back without a job id: its job is looked for by name at the next polls (see the rules).</summary>
    public Task<RunExit> TrackByName(RunLaunch launch)
    {
        Unfound entry;
        lock (gate)
        {
            if (!unfound.TryGetValue(launch.RunId, out entry!))
            {
                unfound[launch.RunId] = entry = new Unfound(new TrackedJob(launch) { Note = UnknownNote });
            }
        }
        StartLoop();
        Wake();
        return entry.Job.Exited.Task;
    }

    /// <summary>
    /// A stop of a run followed by name: its job id once found, else null: then the job is cancelled as soon
    /// as it is found, or the run ends when Slurm says it has no such job.
    /// </summary>
    public string? StopByName(string runId)
    {
        lock (gate)
        {
            if (unfound.TryGetValue(runId, out var entry))
            {
                entry.Stop = true;
                Wake();
                return null;
            }
        }
        return found.GetValueOrDefault(runId);
    }

    private void StartLoop()
    {
        lock (gate)
        {
            loop ??= Task.Run(() => LoopAsync(stopping.Token));
        }
    }

    /// <summary>Polls now rather than at the next interval (after a cancel).</summary>
    public void Wake()
    {
        if (wake.CurrentCount == 0)
        {
            wake.Release();
        }
    }

    /// <summary>How long to wait before the next try: the poll interval, doubled per failure in a row, up to the maximum.</summary>
    public TimeSpan RetryDelay()
    {
        var failed = Math.Min(Volatile.Read(ref failures), 16);
        var delay = options.PollInterval * Math.Pow(2, failed);
        return failed == 0 ? options.PollInterval : delay < options.MaxRetryInterval ? delay : options.MaxRetryInterval;
    }

    /// <summary>A Slurm command failed or hung: degraded until one answers.</summary>
    public void Failed(string why)
    {
        if (Interlocked.Increment(ref failures) == 1)
        {
            logger.LogWarning("Slurm executor degraded: {Reason}; runs keep their state, retrying", why);
        }
        Volatile.Write(ref health, ExecutorHealth.Degraded(why));
    }

    /// <summary>A Slurm command answered.</summary>
    public void Answered()
    {
        if (Interlocked.Exchange(ref failures, 0) > 0)
        {
            logger.LogInformation("Slurm executor recovered: Slurm answers again");
        }
        Volatile.Write(ref health, ExecutorHealth.Ok);
    }

    private async Task LoopAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await wake.WaitAsync(RetryDelay(), cancellationToken);
                if (HasUnfound())
                {
                    await FindAsync(cancellationToken);
                    Answered();
                }
                if (!jobs.IsEmpty)
                {
                    await PollAsync(cancellationToken);
                    Answered();
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (SlurmUnavailableException e)
            {
                Failed(e.Message);
            }
            catch (Exception e)
            {
                logger.LogError(e, "Polling Slurm failed; trying again");
            }
        }
    }

    private async Task PollAsync(CancellationToken cancellationToken)
    {
        var ids = jobs.Keys.ToList();
        var queue = (await queries.QueueAsync(ids, cancellationToken)).ToDictionary(j => j.JobId, StringComparer.Ordinal);
        var ended = new List<(string Id, SlurmJob? Seen)>();
        foreach (var id in ids)
        {
            if (!queue.TryGetValue(id, out var seen))
            {
                ended.Add((id, null));
            }
            else if (SlurmStates.Of(seen.State).Phase == SlurmPhase.Final)
            {
                ended.Add((id, seen));
            }
            else if (jobs.TryGetValue(id, out var job))
            {
                job.Misses = 0;
                await NoteAsync(job, SlurmStates.Note(seen), cancellationToken);
            }
        }
        if (ended.Count == 0)
        {
            return;
        }
        var accounting = await AccountingAsync(ended, cancellationToken);
        var now = Environment.TickCount64;
        foreach (var (id, seen) in ended)
        {
            if (!jobs.TryGetValue(id, out var job))
            {
                continue;
            }
            var recorded = RecordedExit(id);
            var known = accounting?.GetValueOrDefault(id);
            var settled = known is not null && SlurmStates.Of(known.State).Phase == SlurmPhase.Final;
            if (seen is not null && !settled && queries.KeepsAccounting && !job.Waited(now, options.AccountingWait))
            {
                continue; // sacct does not have the job's end yet: its figures come at a later poll, or never (SlurmOptions.AccountingWait)
            }
            if (seen is not null)
            {
                Complete(id, SlurmStates.Exit(seen with { ExitCode = known?.ExitCode, Usage = known?.Usage }, recorded?.Code, job.Launch.Spec.TimeLimit, recorded?.At));
            }
            else if (settled)
            {
                Complete(id, SlurmStates.Exit(known!, recorded?.Code, job.Launch.Spec.TimeLimit, recorded?.At));
            }
            else if (known is not null)
            {
                job.Misses = 0; // squeue missed it, accounting has it waiting or running
            }
            else if (recorded is { } record)
            {
                Complete(id, new RunExit(record.Code, BackendState: "left Slurm's memory", EndedAt: record.At));
            }
            else if (++job.Misses >= VanishedAfterMisses)
            {
                Complete(id, new RunExit(null,
                    $"Slurm job {id} vanished: neither squeue nor accounting (sacct, scontrol) knows it, and the run recorded no exit code"));
            }
        }
    }

    /// <summary>
    /// One accounting query for the jobs that ended or left the queue: all of them where sacct answers (their
    /// state, and what they used), else only those whose state the run's exit record does not give. Null when
    /// sacct failed and no job needed it for its state: those runs wait for their figures (AccountingWait).
    /// </summary>
    private async Task<Dictionary<string, SlurmJob>?> AccountingAsync(List<(string Id, SlurmJob? Seen)> ended, CancellationToken cancellationToken)
    {
        var needed = ended.Where(e => e.Seen is null || RecordedExit(e.Id) is null).Select(e => e.Id).ToList();
        var ask = queries.KeepsAccounting ? ended.Select(e => e.Id).ToList() : needed;
        if (ask.Count == 0)
        {
            return [];
        }
        try
        {
            return (await queries.AccountingAsync(ask, cancellationToken)).ToDictionary(j => j.JobId, StringComparer.Ordinal);
        }
        catch (SlurmUnavailableException e) when (needed.Count == 0)
        {
            logger.LogWarning("sacct failed, runs that ended wait for their resource use: {Reason}", e.Message);
            return null;
        }
    }

    private bool HasUnfound()
    {
        lock (gate)
        {
            return unfound.Count > 0;
        }
    }

    /// <summary>One look, by name, for every run taken back without a job id (the rules above).</summary>
    private async Task FindAsync(CancellationToken cancellationToken)
    {
        List<Unfound> looking;
        lock (gate)
        {
            looking = [.. unfound.Values];
        }
        var ids = await queries.FindByNamesAsync([.. looking.Select(u => SlurmBatch.JobName(u.Job.Launch.RunId))], cancellationToken);
        var now = Environment.TickCount64;
        foreach (var entry in looking)
        {
            var launch = entry.Job.Launch;
            if (ids.TryGetValue(SlurmBatch.JobName(launch.RunId), out var jobId))
            {
                await AdoptAsync(entry, jobId, cancellationToken);
                continue;
            }
            entry.MissingSince ??= now;
            var missing = TimeSpan.FromMilliseconds(now - entry.MissingSince.Value);
            var exit = RunDirectoryFiles.ReadExit(launch.RunDirectory) is { } record
                ? new RunExit(record.Code, BackendState: "left Slurm's memory", EndedAt: record.At)
                : entry.Stop || missing >= options.ReattachTimeout
                    ? new RunExit(null, $"Slurm has no job named {SlurmBatch.JobName(launch.RunId)} (looked for {RunOutcome.Format(missing)} "
                        + "after a restart while Slurm answered), and the run recorded no exit code: Runway stopped before sbatch reached Slurm, or Slurm forgot the job")
                    : null;
            if (exit is not null && Forget(entry))
            {
                entry.Job.Exited.TrySetResult(exit);
            }
        }
    }

    /// <summary>The job of a run taken back without an id is found: its id is recorded, and it is followed as any other.</summary>
    private async Task AdoptAsync(Unfound entry, string jobId, CancellationToken cancellationToken)
    {
        var launch = entry.Job.Launch;
        RunDirectoryFiles.WriteAtomically(launch.RunDirectory, SlurmBatch.JobIdFile, jobId + "\n");
        if (store is not null)
        {
            await store.SetNativeIdAsync(launch.RunId, jobId, cancellationToken);
        }
        found[launch.RunId] = jobId;
        if (!Forget(entry))
        {
            return;
        }
        jobs.TryAdd(jobId, entry.Job);
        logger.LogInformation("Run {RunId} taken back as Slurm job {JobId}, found by its name", launch.RunId, jobId);
        if (entry.Stop)
        {
            await queries.CancelAsync(jobId, cancellationToken);
        }
    }

    private bool Forget(Unfound entry)
    {
        lock (gate)
        {
            return unfound.Remove(entry.Job.Launch.RunId);
        }
    }

    private (int Code, DateTimeOffset At)? RecordedExit(string id) =>
        jobs.TryGetValue(id, out var job) ? RunDirectoryFiles.ReadExit(job.Launch.RunDirectory) : null;

    private void Complete(string id, RunExit exit)
    {
        if (jobs.TryRemove(id, out var job))
        {
            found.TryRemove(job.Launch.RunId, out _);
            job.Exited.TrySetResult(exit);
        }
    }

    private async Task NoteAsync(TrackedJob job, string? note, CancellationToken cancellationToken)
    {
        if (store is null || note == job.Note)
        {
            return;
        }
        try
        {
            await store.SetNoteAsync(job.Launch.RunId, note, cancellationToken);
            job.Note = note;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "Could not show Slurm's state on run {RunId}", job.Launch.RunId);
        }
    }

    // Twice, as the container disposes it once as SlurmExecutor and once as IExecutor.
    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 1)
        {
            return;
        }
        stopping.Cancel();
        stopping.Dispose();
        wake.Dispose();
    }

    /// <summary>A run taken back without a job id, looked for by name; <see cref="Stop"/> once a stop was asked.</summary>
    private sealed class Unfound(TrackedJob job)
    {
        public TrackedJob Job { get; } = job;
        public bool Stop { get; set; }
        public long? MissingSince { get; set; }
    }

    private sealed class TrackedJob(RunLaunch launch)
    {
        public RunLaunch Launch { get; } = launch;
        public TaskCompletionSource<RunExit> Exited { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public string? Note { get; set; }
        public int Misses { get; set; }
        private long? endedAt;

        /// <summary>Whether this job ended (in squeue) at least <paramref name="wait"/> before <paramref name="now"/>; the first call starts the clock.</summary>
        public bool Waited(long now, TimeSpan wait) => now - (endedAt ??= now) >= (long)wait.TotalMilliseconds;
    }
}
