using Microsoft.Extensions.Logging;
using Runway.Execution.Local;
using Runway.Runs;

namespace Runway.Execution.Slurm;

/// <summary>
/// Runs commands as Slurm batch jobs: writes the batch script into the run directory (<see cref="SlurmBatch"/>),
/// submits it with <c>sbatch --parsable</c>, and follows every job with <see cref="SlurmTracker"/>. The native
/// id is the Slurm job id. Jobs run as the account that submits them, the server's (README, "Slurm").
/// </summary>
/// <remarks>
/// Submitting, step by step, so that a restart at any point neither loses nor duplicates a job:
/// 1. slurm_submitting is written: without it, a restart knows nothing was submitted (hand back).
/// 2. sbatch; on a failure that may have reached the controller (a time-out, a lost answer), look the job
///    up by its name before trying again, with back-off, until Runway stops.
/// 3. slurm_job_id is written, then the store records the id: a restart reads the file, or, if it died
///    before, looks for the job by its name at the tracker's polls (<see cref="FindNativeId"/>,
///    <see cref="SlurmTracker.TrackByName"/>), never holding up the restart.
/// </remarks>
public sealed class SlurmExecutor : IExecutor, IStartedRunFinder, IDisposable
{
    public const string ExecutorName = "slurm";

    private readonly SlurmOptions options;
    private readonly SlurmQueries queries;
    private readonly SlurmTracker tracker;
    private readonly IRunStore? store;
    private readonly ILogger logger;

    public SlurmExecutor(SlurmOptions options, SlurmCommands commands, IRunStore? store, ILogger<SlurmExecutor> logger)
    {
        (this.options, this.store, this.logger) = (options, store, logger);
        queries = new SlurmQueries(commands);
        tracker = new SlurmTracker(queries, options, store, logger);
    }

    public string Name => ExecutorName;

    /// <summary>sbatch --time: Slurm ends the job, and the run ends timed_out by its TIMEOUT.</summary>
    public bool EnforcesTimeLimit => true;

    public ExecutorHealth Health => tracker.Health;

    /// <summary>The jobs followed now.</summary>
    public int ActiveJobs => tracker.Count;

    public async Task<RunHandle> StartAsync(RunLaunch launch, CancellationToken cancellationToken)
    {
        var directory = launch.RunDirectory;
        var arguments = SlurmBatch.Arguments(launch, options);
        var script = SlurmBatch.ScriptText(launch, arguments);
        Directory.CreateDirectory(Path.Combine(directory, RunFiles.Temp));
        File.Delete(Path.Combine(directory, RunFiles.ExitCode));
        File.Delete(Path.Combine(directory, SlurmBatch.JobIdFile));
        RunDirectoryFiles.WriteAtomically(directory, SlurmBatch.Script, script, LocalExecutor.ScriptMode);
        RunDirectoryFiles.WriteAtomically(directory, SlurmBatch.Submitting, SlurmBatch.JobName(launch.RunId) + "\n");

        var jobId = await SubmitAsync(launch, arguments, cancellationToken);
        RunDirectoryFiles.WriteAtomically(directory, SlurmBatch.JobIdFile, jobId + "\n");
        logger.LogInformation("Run {RunId} submitted to Slurm as job {JobId}", launch.RunId, jobId);
        return new RunHandle(launch.RunId, jobId, tracker.Track(jobId, launch));
    }

    public RunHandle Attach(RunLaunch launch, string nativeId)
    {
        if (nativeId == IStartedRunFinder.AskLater)
        {
            logger.LogInformation("Run {RunId} taken back without its Slurm job id: looking for job {JobName}", launch.RunId, SlurmBatch.JobName(launch.RunId));
            return new RunHandle(launch.RunId, nativeId, tracker.TrackByName(launch));
        }
        if (!SlurmOutput.IsJobId(nativeId))
        {
            return new RunHandle(launch.RunId, nativeId, Task.FromResult(new RunExit(null, $"'{nativeId}' is not a Slurm job id")));
        }
        logger.LogInformation("Run {RunId} taken back as Slurm job {JobId}", launch.RunId, nativeId);
        return new RunHandle(launch.RunId, nativeId, tracker.Track(nativeId, launch, takenBack: true));
    }

    /// <summary>scancel, pending or running, retried while Slurm does not answer; the run ends when squeue shows CANCELLED.</summary>
    public async Task StopAsync(RunHandle handle, TimeSpan grace, CancellationToken cancellationToken)
    {
        // A run taken back without its id: the tracker cancels the job once it finds it, if it has not yet.
        var jobId = handle.NativeId == IStartedRunFinder.AskLater ? tracker.StopByName(handle.RunId) : handle.NativeId;
        if (jobId is null || !SlurmOutput.IsJobId(jobId))
        {
            return;
        }
        while (!handle.Exited.IsCompleted)
        {
            try
            {
                await queries.CancelAsync(jobId, cancellationToken);
                tracker.Answered();
                tracker.Wake();
                return;
            }
            catch (SlurmUnavailableException e)
            {
                tracker.Failed(e.Message);
                await Task.WhenAny(handle.Exited, Task.Delay(tracker.RetryDelay(), cancellationToken));
                cancellationToken.ThrowIfCancellationRequested();
            }
        }
    }

    /// <summary>
    /// The job id file; else, if a submission began, <see cref="IStartedRunFinder.AskLater"/>: the tracker looks
    /// for the job by its name, as the controller may not answer now; else null, nothing was submitted.
    /// </summary>
    public string? FindNativeId(RunLaunch launch) =>
        RunDirectoryFiles.ReadLong(launch.RunDirectory, SlurmBatch.JobIdFile) is { } recorded
            ? recorded.ToString(System.Globalization.CultureInfo.InvariantCulture)
            : File.Exists(Path.Combine(launch.RunDirectory, SlurmBatch.Submitting)) ? IStartedRunFinder.AskLater : null;

    public void Dispose() => tracker.Dispose();

    private async Task<string> SubmitAsync(RunLaunch launch, List<string> arguments, CancellationToken cancellationToken)
    {
        var name = SlurmBatch.JobName(launch.RunId);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                if (attempt > 1 && await queries.FindByNameAsync(name, cancellationToken) is { } earlier)
                {
                    tracker.Answered();
                    return earlier; // the failed attempt did reach the controller
                }
                var result = await queries.SubmitAsync(arguments, cancellationToken);
                tracker.Answered();
                return result;
            }
            catch (SlurmUnavailableException e)
            {
                tracker.Failed(e.Message);
                if (attempt == 1)
                {
                    await NoteAsync(launch.RunId, $"waiting for Slurm to accept the job: {e.Message}", cancellationToken);
                }
                await Task.Delay(tracker.RetryDelay(), cancellationToken);
            }
        }
    }

    private async Task NoteAsync(string runId, string note, CancellationToken cancellationToken)
    {
        try
        {
            if (store is not null)
            {
                await store.SetNoteAsync(runId, note, cancellationToken);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "Could not show Slurm's state on run {RunId}", runId);
        }
    }
}
