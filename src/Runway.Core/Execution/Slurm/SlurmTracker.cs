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
/// from its own exit_code file, else Slurm's.</item>
/// <item>in neither, exit_code recorded → ends by it; in neither, none recorded, three polls running →
/// system_error: the job vanished.</item>
/// <item>a command fails or hangs → nothing changes; the next poll waits twice as long (up to
/// <see cref="SlurmOptions.MaxRetryInterval"/>) and the executor reports degraded until one answers.</item>
/// </list>
/// </summary>
public sealed class SlurmTracker(SlurmQueries queries, SlurmOptions options, IRunStore? store, ILogger logger) : IDisposable
{
    private const int VanishedAfterMisses = 3;
    private const string UnknownNote = "\0unknown";

    private readonly ConcurrentDictionary<string, TrackedJob> jobs = new(StringComparer.Ordinal);
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
        lock (gate)
        {
            loop ??= Task.Run(() => LoopAsync(stopping.Token));
        }
        return job.Exited.Task;
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
        // The run's own exit record comes first; accounting only for jobs that left the queue or ended without one.
        var ask = ended.Where(e => e.Seen is null || RecordedExit(e.Id) is null).Select(e => e.Id).ToList();
        var accounting = ask.Count == 0 ? []
            : (await queries.AccountingAsync(ask, cancellationToken)).ToDictionary(j => j.JobId, StringComparer.Ordinal);
        foreach (var (id, seen) in ended)
        {
            if (!jobs.TryGetValue(id, out var job))
            {
                continue;
            }
            var recorded = RecordedExit(id);
            var known = accounting.GetValueOrDefault(id);
            if (seen is not null)
            {
                Complete(id, SlurmStates.Exit(seen with { ExitCode = known?.ExitCode }, recorded?.Code, job.Launch.Spec.TimeLimit, recorded?.At));
            }
            else if (known is not null && SlurmStates.Of(known.State).Phase == SlurmPhase.Final)
            {
                Complete(id, SlurmStates.Exit(known, recorded?.Code, job.Launch.Spec.TimeLimit, recorded?.At));
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

    private (int Code, DateTimeOffset At)? RecordedExit(string id) =>
        jobs.TryGetValue(id, out var job) ? RunDirectoryFiles.ReadExit(job.Launch.RunDirectory) : null;

    private void Complete(string id, RunExit exit)
    {
        if (jobs.TryRemove(id, out var job))
        {
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

    private sealed class TrackedJob(RunLaunch launch)
    {
        public RunLaunch Launch { get; } = launch;
        public TaskCompletionSource<RunExit> Exited { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public string? Note { get; set; }
        public int Misses { get; set; }
    }
}
