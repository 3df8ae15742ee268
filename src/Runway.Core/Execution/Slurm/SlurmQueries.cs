namespace Runway.Execution.Slurm;

/// <summary>
/// The questions Runway asks Slurm, each one command for any number of jobs. A command that fails for
/// another reason than "no such job" throws <see cref="SlurmUnavailableException"/>: the caller retries.
/// </summary>
public sealed class SlurmQueries(SlurmCommands commands)
{
    // 0 unknown, 1 sacct answers, 2 no accounting here (sacct says so): scontrol from then on.
    private int accounting;

    /// <summary>The jobs among <paramref name="ids"/> that Slurm's controller still knows, finished ones included.</summary>
    public async Task<List<SlurmJob>> QueueAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken)
    {
        var result = await commands.RunAsync("squeue",
            ["--noheader", "--states=all", $"--jobs={string.Join(',', ids)}", $"--format={SlurmOutput.SqueueFormat}"], cancellationToken);
        if (result.Succeeded)
        {
            return SlurmOutput.Squeue(result.Output);
        }
        // Every id is unknown (all left the queue): squeue says so and fails, where with one known it answers.
        return IsUnknownJob(result) ? [] : throw Failed("squeue", result);
    }

    /// <summary>
    /// What accounting knows of jobs that left the queue: sacct where the cluster keeps accounting, else
    /// <c>scontrol show job</c> (all jobs the controller holds, in one call).
    /// </summary>
    public async Task<List<SlurmJob>> AccountingAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref accounting) != 2)
        {
            var sacct = await commands.RunAsync("sacct",
                ["-X", "--parsable2", "--noheader", $"--jobs={string.Join(',', ids)}", $"--format={SlurmOutput.SacctFields}"], cancellationToken);
            if (sacct.Succeeded)
            {
                Volatile.Write(ref accounting, 1);
                return SlurmOutput.Sacct(sacct.Output);
            }
            if (!sacct.Error.Contains("accounting storage is disabled", StringComparison.OrdinalIgnoreCase))
            {
                throw Failed("sacct", sacct);
            }
            Volatile.Write(ref accounting, 2);
        }
        var scontrol = await commands.RunAsync("scontrol", ["--oneliner", "show", "job"], cancellationToken);
        if (scontrol.Succeeded)
        {
            var wanted = ids.ToHashSet(StringComparer.Ordinal);
            return SlurmOutput.Scontrol(scontrol.Output).Where(j => wanted.Contains(j.JobId)).ToList();
        }
        return IsUnknownJob(scontrol) || scontrol.Output.Contains("No jobs in the system", StringComparison.Ordinal)
            ? [] : throw Failed("scontrol", scontrol);
    }

    /// <summary>
    /// Submits; returns the job id. A refusal (a partition that does not exist, resources no node has) throws
    /// <see cref="ExecutorStartException"/>; a controller that does not answer, <see cref="SlurmUnavailableException"/>.
    /// </summary>
    public async Task<string> SubmitAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var result = await commands.RunAsync("sbatch", arguments, cancellationToken);
        if (result.Succeeded)
        {
            return SlurmOutput.JobId(result.Output) ?? throw new SlurmUnavailableException($"sbatch answered no job id: {result.Output.Trim()}");
        }
        if (Unreachable(result))
        {
            throw Failed("sbatch", result);
        }
        throw new ExecutorStartException($"Slurm refused the job: {(result.Error.Length > 0 ? result.Error : result.Output.Trim())}");
    }

    /// <summary>The id of the job Runway submitted for a run, found by its name; null when Slurm has none.</summary>
    public Task<string?> FindByNameAsync(string name, CancellationToken cancellationToken) =>
        Task.Run(() => FindByName(name), cancellationToken);

    /// <summary><see cref="FindByNameAsync"/> on the caller's thread (a restart's reconciler, once per run).</summary>
    public string? FindByName(string name)
    {
        var result = commands.Run("squeue", ["--noheader", "--states=all", $"--name={name}", "--format=%i"]);
        if (!result.Succeeded)
        {
            throw Failed("squeue", result);
        }
        var found = Ids(result.Output);
        if (found.Count > 0)
        {
            return found[^1];
        }
        if (Volatile.Read(ref accounting) == 2)
        {
            return null;
        }
        var sacct = commands.Run("sacct", ["-X", "--parsable2", "--noheader", $"--name={name}", "--format=JobIDRaw"]);
        return sacct.Succeeded ? Ids(sacct.Output).LastOrDefault() : null;
    }

    /// <summary>Cancels a job, pending or running. A job Slurm no longer knows (ended) counts as done.</summary>
    public async Task CancelAsync(string jobId, CancellationToken cancellationToken)
    {
        var result = await commands.RunAsync("scancel", [jobId], cancellationToken);
        if (!result.Succeeded && !IsUnknownJob(result) && !result.Error.Contains("already completing or completed", StringComparison.OrdinalIgnoreCase))
        {
            throw Failed("scancel", result);
        }
    }

    /// <summary>The job ids in a command's output, in ascending order (the last is the newest).</summary>
    private static List<string> Ids(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(SlurmOutput.IsJobId).OrderBy(id => id.Length).ThenBy(id => id, StringComparer.Ordinal).ToList();

    private static readonly string[] UnreachableErrors =
    [
        "Unable to contact slurm controller", "Socket timed out", "Connection refused", "Zero Bytes were transmitted",
        "temporarily unable", "Transport endpoint", "Communication connection failure",
    ];

    /// <summary>Errors of a controller that is down or busy, as opposed to a refusal of the job.</summary>
    private static bool Unreachable(SlurmResult result) =>
        UnreachableErrors.Any(text => result.Error.Contains(text, StringComparison.OrdinalIgnoreCase));

    private static bool IsUnknownJob(SlurmResult result) => result.Error.Contains("Invalid job id", StringComparison.OrdinalIgnoreCase);

    private static SlurmUnavailableException Failed(string command, SlurmResult result) =>
        new($"{command} failed with exit code {result.ExitCode}: {(result.Error.Length > 0 ? result.Error : result.Output.Trim())}");
}
