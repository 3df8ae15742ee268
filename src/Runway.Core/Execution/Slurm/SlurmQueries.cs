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

    /// <summary>Whether sacct may answer: false once it said the cluster keeps no accounting.</summary>
    public bool KeepsAccounting => Volatile.Read(ref accounting) != 2;

    /// <summary>
    /// What accounting knows of jobs that ended or left the queue: sacct where the cluster keeps accounting (state,
    /// exit code and what each job used, steps included), else <c>scontrol show job</c> (all jobs the controller
    /// holds, in one call; no usage).
    /// </summary>
    public async Task<List<SlurmJob>> AccountingAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken)
    {
        if (KeepsAccounting)
        {
            var sacct = await commands.RunAsync("sacct",
                ["--parsable2", "--noheader", "--noconvert", $"--jobs={string.Join(',', ids)}", $"--format={SlurmOutput.SacctFields}"], cancellationToken);
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
    /// <remarks>
    /// Asked before submitting again after a failed sbatch: there squeue's answer is enough (a job that reached
    /// the controller moments ago is in its queue), so accounting being down does not hold submissions back.
    /// </remarks>
    public async Task<string?> FindByNameAsync(string name, CancellationToken cancellationToken) =>
        (await FindByNamesAsync([name], cancellationToken, accountingRequired: false)).GetValueOrDefault(name);

    /// <summary>
    /// The newest job of each name Slurm knows, in one squeue for all names (and one sacct where the cluster
    /// keeps accounting, for names squeue has forgotten). Names Slurm does not know are absent. A failed sacct
    /// throws unless <paramref name="accountingRequired"/> is false: "not found" would start a re-attach clock.
    /// </summary>
    public async Task<Dictionary<string, string>> FindByNamesAsync(IReadOnlyCollection<string> names, CancellationToken cancellationToken, bool accountingRequired = true)
    {
        var result = await commands.RunAsync("squeue", ["--noheader", "--states=all", $"--name={string.Join(',', names)}", "--format=%j|%i"], cancellationToken);
        if (!result.Succeeded)
        {
            throw Failed("squeue", result);
        }
        var found = Newest(result.Output);
        var missing = names.Where(n => !found.ContainsKey(n)).ToList();
        if (missing.Count == 0 || Volatile.Read(ref accounting) == 2)
        {
            return found;
        }
        var sacct = await commands.RunAsync("sacct",
            // Without a start time sacct searches only since midnight: a job that ended yesterday would look lost.
            // Names are unique to their run, so a wide window finds no stranger's job.
            ["-X", "--parsable2", "--noheader", "--starttime=now-30days", $"--name={string.Join(',', missing)}", "--format=JobName,JobIDRaw"], cancellationToken);
        if (sacct.Succeeded)
        {
            foreach (var (name, id) in Newest(sacct.Output))
            {
                found.TryAdd(name, id);
            }
            return found;
        }
        // A failed sacct is not "no such job": the caller would start its re-attach clock for runs whose
        // jobs accounting still knows. Only a cluster without accounting answers with squeue alone.
        if (!sacct.Error.Contains("accounting storage is disabled", StringComparison.OrdinalIgnoreCase))
        {
            return accountingRequired ? throw Failed("sacct", sacct) : found;
        }
        Volatile.Write(ref accounting, 2);
        return found;
    }

    /// <summary>Lines of "name|id": the newest id of each name (the longest, then the greatest).</summary>
    private static Dictionary<string, string> Newest(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(l => l.Split('|'))
            .Where(f => f.Length == 2 && SlurmOutput.IsJobId(f[1]))
            .GroupBy(f => f[0], StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(f => f[1]).OrderBy(id => id.Length).ThenBy(id => id, StringComparer.Ordinal).Last(), StringComparer.Ordinal);

    /// <summary>Cancels a job, pending or running. A job Slurm no longer knows (ended) counts as done.</summary>
    public async Task CancelAsync(string jobId, CancellationToken cancellationToken)
    {
        var result = await commands.RunAsync("scancel", [jobId], cancellationToken);
        if (!result.Succeeded && !IsUnknownJob(result) && !result.Error.Contains("already completing or completed", StringComparison.OrdinalIgnoreCase))
        {
            throw Failed("scancel", result);
        }
    }

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
