using System.Diagnostics;

namespace Runway.Bench;

/// <summary>
/// Issue 3's Slurm row (issue 11): trivial runs through Runway's Slurm executor against a plain loop of
/// sbatch and waiting for the same jobs, on the same cluster; and the Slurm commands Runway issues per
/// poll interval with 1, 100 and 1,000 active jobs. The commands are counted outside Runway: its
/// Runway:Slurm:CommandsDirectory points at wrappers that log each call, then exec the real command.
/// </summary>
internal sealed class SlurmRow(BenchOptions options, string runwayDll, string work, Results results)
{
    public const string RunwayRate = "slurm_runway_runs_per_s";
    public const string LoopRate = "slurm_sbatch_loop_runs_per_s";
    public const string Ratio = "slurm_runway_vs_sbatch_pct";
    public const string PerPollOne = "slurm_commands_per_poll_1";
    public const string PerPollHundred = "slurm_commands_per_poll_100";
    public const string PerPollThousand = "slurm_commands_per_poll_1000";

    // One squeue per poll whatever the number of jobs; a sacct or scontrol only in a poll where jobs ended.
    public static readonly Figure[] Figures =
    [
        new(RunwayRate, "Slurm: trivial runs through Runway/s", "/s", "", null),
        new(LoopRate, "Slurm: plain sbatch loop + wait, same jobs/s", "/s", "", null),
        new(Ratio, "Slurm: Runway vs plain sbatch loop", "%", "≥ 90", v => v >= 90),
        new(PerPollOne, "Slurm commands per poll, 1 active job", "", "1", v => v <= 1.05),
        new(PerPollHundred, "Slurm commands per poll, 100 active jobs (quick: 5)", "", "same as 1 job", v => v <= 1.05),
        new(PerPollThousand, "Slurm commands per poll, 1,000 active jobs (quick: 10)", "", "same as 1 job", v => v <= 1.05),
    ];

    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);
    private static readonly string[] Commands = ["sbatch", "squeue", "sacct", "scontrol", "scancel"];
    private readonly string root = Directory.CreateDirectory(Path.Combine(work, "slurm")).FullName;
    private int servers;

    private int TrivialJobs => options.Quick ? 10 : 200;
    private int Pairs => options.Quick ? 1 : 3;
    private int[] ActiveJobs => options.Quick ? [1, 5, 10] : [1, 100, 1000];
    private int Polls => options.Quick ? 3 : 10;

    /// <summary>Why the row cannot be measured here, or null: the cluster must answer.</summary>
    public static async Task<string?> UnavailableAsync()
    {
        try
        {
            var (code, output) = await RunAsync("scontrol", ["ping"]);
            return code == 0 && output.Contains("UP", StringComparison.Ordinal) ? null : $"scontrol ping: {output.Trim()}";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "no Slurm commands on PATH";
        }
    }

    public async Task RunAsync(CancellationToken ct)
    {
        var (wrappers, log) = WriteWrappers();
        var pipelines = WritePipelines();
        // In pairs, their order alternated: on one node the plain loop's own rate moved from 9.3 to 15.7 jobs/s between
        // runs (Slurm's scheduling; 2026-12-05), so one pair says little, and the row is the median of the pairs' ratios.
        for (var pair = 0; pair < Pairs; pair++)
        {
            Log($"Slurm: pair {pair + 1} of {Pairs}");
            double loop, rate;
            if (pair % 2 == 0)
            {
                loop = await PlainLoopAsync(ct);
                rate = await ThroughRunwayAsync(pipelines, wrappers, ct);
            }
            else
            {
                rate = await ThroughRunwayAsync(pipelines, wrappers, ct);
                loop = await PlainLoopAsync(ct);
            }
            results.Add(LoopRate, loop);
            results.Add(RunwayRate, rate);
            results.Add(Ratio, 100 * rate / loop);
        }
        string[] keys = [PerPollOne, PerPollHundred, PerPollThousand];
        for (var i = 0; i < ActiveJobs.Length; i++)
        {
            results.Add(keys[i], await CommandsPerPollAsync(pipelines, wrappers, log, ActiveJobs[i], ct));
        }
    }

    /// <summary>The trivial runs through Runway's Slurm executor, submitted by the clients: runs/s until the last has ended.</summary>
    private async Task<double> ThroughRunwayAsync(string pipelines, string wrappers, CancellationToken ct)
    {
        Log($"Slurm: {TrivialJobs} trivial runs through Runway");
        await using var stage = await StartAsync(pipelines, wrappers, TrivialJobs, ct);
        var started = Stopwatch.GetTimestamp();
        var submitted = await Load.RunAsync(options.Clients, TrivialJobs, options.PhaseLimit,
            (_, token) => stage.Api.SubmitAsync(ApiClient.Body("slurm-true"), token), ct);
        if (submitted.Done < TrivialJobs || submitted.Failed > 0)
        {
            throw new InvalidOperationException($"Slurm trivial submissions: {submitted.Done} done, {submitted.Failed} failed: {submitted.FirstError}");
        }
        await Load.UntilAsync(async () => (await stage.Api.ListAsync("pipeline=slurm-true&state=queued,running&limit=1", ct)).Runs.Count == 0,
            TimeSpan.FromMilliseconds(100), options.PhaseLimit, "the Slurm runs to finish", ct);
        var rate = TrivialJobs / Stopwatch.GetElapsedTime(started).TotalSeconds;
        var bad = await stage.Api.ListAsync("pipeline=slurm-true&state=failed,system_error,canceled,timed_out&limit=1", ct);
        return bad.Runs.Count > 0 ? throw new InvalidOperationException($"Slurm run {bad.Runs[0].Id} ended {bad.Runs[0].State}") : rate;
    }

    /// <summary>Sbatch one job after the other, then wait (one squeue a poll interval, as Runway) until all completed.</summary>
    private async Task<double> PlainLoopAsync(CancellationToken ct)
    {
        Log($"Slurm: {TrivialJobs} trivial jobs by a plain sbatch loop");
        var directory = Directory.CreateDirectory(Path.Combine(root, "loop")).FullName;
        var script = Path.Combine(directory, "true.sh");
        File.WriteAllText(script, "#!/bin/sh\n/bin/true\n");
        var started = Stopwatch.GetTimestamp();
        var ids = new List<string>();
        for (var i = 0; i < TrivialJobs; i++)
        {
            var (code, output) = await RunAsync("sbatch", ["--parsable", "--job-name=bench-loop", $"--chdir={directory}", $"--output={directory}/%j.out", script]);
            ids.Add(code == 0 ? output.Trim().Split(';')[0] : throw new InvalidOperationException($"sbatch: {output}"));
        }
        while (true)
        {
            var (code, output) = await RunAsync("squeue", ["--noheader", "--states=all", $"--jobs={string.Join(',', ids)}", "--format=%T"]);
            var states = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (code == 0 && states.Length == ids.Count && states.All(s => s == "COMPLETED"))
            {
                return TrivialJobs / Stopwatch.GetElapsedTime(started).TotalSeconds;
            }
            if (states.Any(s => s is "FAILED" or "CANCELLED" or "TIMEOUT" or "NODE_FAIL"))
            {
                throw new InvalidOperationException($"a plain sbatch job failed: {output}");
            }
            if (Stopwatch.GetElapsedTime(started) > options.PhaseLimit)
            {
                throw new TimeoutException("the plain sbatch jobs did not complete in time");
            }
            await Task.Delay(PollInterval, ct);
        }
    }

    /// <summary>Submits jobs that wait in Slurm's queue, then counts the tracking commands over a few poll intervals.</summary>
    private async Task<double> CommandsPerPollAsync(string pipelines, string wrappers, string log, int jobs, CancellationToken ct)
    {
        Log($"Slurm: commands per poll with {jobs} active jobs");
        await using var stage = await StartAsync(pipelines, wrappers, jobs, ct);
        var sbatchBefore = Count(log, "sbatch");
        var submitted = await Load.RunAsync(options.Clients, jobs, options.PhaseLimit, (_, token) => stage.Api.SubmitAsync(ApiClient.Body("slurm-later"), token), ct);
        if (submitted.Done < jobs)
        {
            throw new InvalidOperationException($"Slurm waiting submissions: {submitted.Done} done: {submitted.FirstError}");
        }
        await Load.UntilAsync(() => Task.FromResult(Count(log, "sbatch") - sbatchBefore >= jobs), TimeSpan.FromMilliseconds(100),
            options.PhaseLimit, $"{jobs} jobs to be submitted", ct);
        await Task.Delay(PollInterval * 2, ct); // the last submissions' first polls
        var before = Tracking(log);
        var started = Stopwatch.GetTimestamp();
        await Task.Delay(PollInterval * Polls, ct);
        var polls = Stopwatch.GetElapsedTime(started) / PollInterval;
        var perPoll = (Tracking(log) - before) / polls;
        results.AddDiagnostic($"slurm_commands_in_{Polls}_polls_with_{jobs}_jobs", Tracking(log) - before);
        // Ends the jobs in one scancel; Runway sees them CANCELLED at its next poll.
        var (_, ids) = await RunAsync("squeue", ["--noheader", "--name=runway-bench", "--format=%i"]);
        await CancelAllAsync(ids);
        return perPoll;
    }

    private async Task<Stage> StartAsync(string pipelines, string wrappers, int concurrency, CancellationToken ct)
    {
        var data = Path.Combine(root, $"data-{++servers}");
        var (server, startup) = await ServerProcess.StartAsync(runwayDll, data, pipelines, concurrency, null, ct,
        [
            "--Runway:Slurm:Enabled=true",
            $"--Runway:Slurm:CommandsDirectory={wrappers}",
            $"--Runway:Slurm:PollInterval={PollInterval:c}",
        ]);
        var token = await ApiClient.AdminTokenAsync(server.Url, ServerProcess.AdminPassword, ct);
        return new Stage(data, server, new ApiClient(server.Url, token, options.Clients), startup, new Seeder(data, null));
    }

    private (string Directory, string Log) WriteWrappers()
    {
        var directory = Directory.CreateDirectory(Path.Combine(root, "commands")).FullName;
        var log = Path.Combine(root, "commands.log");
        foreach (var command in Commands)
        {
            var real = Which(command);
            var path = Path.Combine(directory, command);
            File.WriteAllText(path, $"#!/bin/sh\necho {command} >>'{log}'\nexec '{real}' \"$@\"\n");
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead
                | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
            }
        }
        File.WriteAllText(log, "");
        return (directory, log);
    }

    private string WritePipelines()
    {
        var directory = Directory.CreateDirectory(Path.Combine(root, "pipelines")).FullName;
        File.WriteAllText(Path.Combine(directory, "slurm-true.yaml"), """
            name: slurm-true
            version: "1"
            executor: slurm
            command: [/bin/true]
            """);
        // Waits in the queue for an hour: active, never running; named so the benchmark can cancel them all.
        File.WriteAllText(Path.Combine(directory, "slurm-later.yaml"), """
            name: slurm-later
            version: "1"
            executor: slurm
            command: [/bin/true]
            slurm:
              options: [--begin=now+1hour, --job-name=runway-bench]
            """);
        return directory;
    }

    private static long Count(string log, string command) => File.ReadLines(log).Count(l => l == command);

    private static long Tracking(string log) => File.ReadLines(log).Count(l => l is "squeue" or "sacct" or "scontrol");

    private static async Task CancelAllAsync(string ids)
    {
        var list = ids.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (list.Length > 0)
        {
            await RunAsync("scancel", list);
        }
    }

    private static string Which(string command) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin").Split(':').Select(d => Path.Combine(d, command)).FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException($"{command} not found on PATH");

    private static async Task<(int Code, string Output)> RunAsync(string command, IReadOnlyList<string> arguments)
    {
        var info = new ProcessStartInfo(command) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        using var process = Process.Start(info)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, output + await error);
    }

    private static void Log(string message) => Console.Error.WriteLine($"bench: {message}");
}
