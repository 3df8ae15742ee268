using System.Diagnostics;
using Npgsql;

namespace Runway.Bench;

/// <summary>
/// Issue 13's row: one <c>runway serve</c> (drained: it takes submissions, runs none) and 1 or 2 <c>runway worker</c>
/// nodes on one PostgreSQL and one data directory: submissions/s and trivial runs completed/s through the workers,
/// and, with 2 workers, the time from one worker's SIGKILL until every run it held is taken over by the other.
/// </summary>
internal sealed class NodesRow(BenchOptions options, string runwayDll, string work, Results results, string postgres)
{
    public const string Submit1 = "nodes_1_worker_submit_per_s";
    public const string Trivial1 = "nodes_1_worker_trivial_per_s";
    public const string Submit2 = "nodes_2_workers_submit_per_s";
    public const string Trivial2 = "nodes_2_workers_trivial_per_s";
    public const string Takeover = "nodes_takeover_after_sigkill_s";

    public static readonly Figure[] Figures =
    [
        new(Submit1, "PostgreSQL, 1 worker node: submissions/s", "/s", "", null),
        new(Trivial1, "PostgreSQL, 1 worker node: trivial runs completed/s", "/s", "", null),
        new(Submit2, "PostgreSQL, 2 worker nodes: submissions/s", "/s", "", null),
        new(Trivial2, "PostgreSQL, 2 worker nodes: trivial runs completed/s", "/s", "", null),
        new(Takeover, "worker SIGKILL → all its runs taken over (lease timeout 3 s)", "s", "≤ 5", v => v <= 5),
    ];

    private static readonly string[] NodeSettings =
    [
        "--Runway:Nodes:HeartbeatInterval=00:00:00.5", "--Runway:Nodes:LeaseTimeout=00:00:03", "--Runway:Nodes:PollInterval=00:00:02",
    ];

    private readonly string root = Directory.CreateDirectory(Path.Combine(work, "nodes")).FullName;
    private int stages;

    private int Runs => options.Quick ? 40 : 2_000;

    public async Task RunAsync(CancellationToken ct)
    {
        var pipelines = Directory.CreateDirectory(Path.Combine(root, "pipelines")).FullName;
        File.WriteAllText(Path.Combine(pipelines, "true.yaml"), "name: \"true\"\nversion: \"1\"\ncommand: [/bin/true]\n");
        File.WriteAllText(Path.Combine(pipelines, "sleep.yaml"), "name: sleep\nversion: \"1\"\ncommand: [/bin/sleep, \"60\"]\n");
        foreach (var workers in (int[])[1, 2])
        {
            var data = Path.Combine(root, $"data-{++stages}");
            await new Seeder(data, postgres).EmptyAsync(ct);
            await using var serve = await StartAsync("serve", "bench-serve", data, pipelines, ct);
            var token = await ApiClient.AdminTokenAsync(serve.Url, ServerProcess.AdminPassword, ct);
            using var api = new ApiClient(serve.Url, token, options.Clients);
            await api.PostAsync("/api/v1/admin/nodes/bench-serve/drain", ct);
            var nodes = new List<ServerProcess>();
            try
            {
                for (var i = 1; i <= workers; i++)
                {
                    nodes.Add(await StartAsync("worker", $"bench-worker-{i}", data, pipelines, ct));
                }
                await MeasureAsync(api, workers, ct);
                if (workers == 2)
                {
                    results.Add(Takeover, await TakeoverAsync(api, nodes[0], ct));
                }
            }
            finally
            {
                // As a stage does (Stage.DisposeAsync): runs canceled while their nodes are up are stopped by them, and
                // their cgroups removed; the kill below finds only those whose process group was recorded.
                try
                {
                    await api.CancelAllAsync(TimeSpan.FromMinutes(1), CancellationToken.None);
                }
                catch (Exception e) when (e is HttpRequestException or TimeoutException or TaskCanceledException)
                {
                    Log($"nodes: could not cancel the runs before stopping the nodes: {e.Message}");
                }
                foreach (var node in nodes)
                {
                    await node.DisposeAsync();
                }
                await new Seeder(data, postgres).KillRunningAsync(CancellationToken.None);
                // The worker killed for the takeover left its node's cgroup folders, which a stopped node removes
                // itself; each one left is one more group the kernel walks on every later run's CPU-quota write.
                for (var i = 1; i <= workers; i++)
                {
                    Execution.Local.RunCgroups.Probe(pidsLimit: 1, $"bench-worker-{i}").Dispose();
                }
            }
        }
    }

    private async Task MeasureAsync(ApiClient api, int workers, CancellationToken ct)
    {
        Log($"nodes: {Runs} trivial runs through {workers} worker node(s)");
        var body = ApiClient.Body("true");
        var started = Stopwatch.GetTimestamp();
        var submitted = await Load.RunAsync(options.Clients, Runs, options.PhaseLimit, (_, token) => api.SubmitAsync(body, token), ct);
        if (submitted.Done < Runs || submitted.Failed > 0)
        {
            throw new InvalidOperationException($"nodes submissions: {submitted.Done} done, {submitted.Failed} failed: {submitted.FirstError}");
        }
        results.Add(workers == 1 ? Submit1 : Submit2, Runs / Stopwatch.GetElapsedTime(started).TotalSeconds);
        await Load.UntilAsync(async () => (await api.ListAsync("state=queued,running&limit=1", ct)).Runs.Count == 0,
            TimeSpan.FromMilliseconds(50), options.PhaseLimit, "the runs to finish", ct);
        results.Add(workers == 1 ? Trivial1 : Trivial2, Runs / Stopwatch.GetElapsedTime(started).TotalSeconds);
        var bad = await api.ListAsync("state=failed,system_error,canceled,timed_out&limit=1", ct);
        if (bad.Runs.Count > 0)
        {
            throw new InvalidOperationException($"nodes: run {bad.Runs[0].Id} ended {bad.Runs[0].State}");
        }
    }

    /// <summary>Long runs on both workers; SIGKILL the first; the seconds until none of its runs is still its own.</summary>
    private async Task<double> TakeoverAsync(ApiClient api, ServerProcess victim, CancellationToken ct)
    {
        var body = ApiClient.Body("sleep");
        var ids = new List<string>();
        for (var i = 0; i < 2 * options.Parallelism; i++)
        {
            ids.Add(await api.SubmitAsync(body, ct));
        }
        await Load.UntilAsync(async () => await HeldAsync("bench-worker-1", ct) >= options.Parallelism,
            TimeSpan.FromMilliseconds(50), options.PhaseLimit, "bench-worker-1 to run its share", ct);
        Log("nodes: SIGKILL bench-worker-1");
        await victim.KillAsync();
        var killed = Stopwatch.GetTimestamp();
        await Load.UntilAsync(async () => await HeldAsync("bench-worker-1", ct) == 0,
            TimeSpan.FromMilliseconds(20), options.PhaseLimit, "bench-worker-1's runs to be taken over", ct);
        var seconds = Stopwatch.GetElapsedTime(killed).TotalSeconds;
        foreach (var id in ids)
        {
            await api.CancelAsync(id, ct);
        }
        return seconds;
    }

    private async Task<long> HeldAsync(string node, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(postgres);
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand("SELECT count(*) FROM runs WHERE state = 'running' AND node = @node", connection);
        command.Parameters.AddWithValue("node", node);
        return (long)(await command.ExecuteScalarAsync(ct) ?? 0L);
    }

    private async Task<ServerProcess> StartAsync(string command, string node, string data, string pipelines, CancellationToken ct) =>
        (await ServerProcess.StartAsync(runwayDll, data, pipelines, options.Parallelism, postgres, ct, [.. NodeSettings, "--node", node], command)).Server;

    private static void Log(string message) => Console.Error.WriteLine($"bench: {message}");
}
