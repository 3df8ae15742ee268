namespace Runway.Bench;

/// <summary>
/// The order of the benchmark: per repetition, the raw spawn rates, then fresh servers for the main
/// figures, the serial throughput and the full queue; last, the seeded database (seeded once, since
/// PostgreSQL has only one database to seed), started and queried once per repetition.
/// </summary>
internal sealed class Bench(BenchOptions options, string runwayDll, string work, Results results)
{
    private readonly string pipelines = Directory.CreateDirectory(Path.Combine(work, "pipelines")).FullName;
    private int stages;

    public async Task RunAsync(CancellationToken ct)
    {
        File.WriteAllText(Path.Combine(pipelines, "trivial.yaml"), """
            name: trivial
            version: "1"
            command: [/bin/true]
            """);
        File.WriteAllText(Path.Combine(pipelines, "echo.yaml"), """
            name: echo
            version: "1"
            parameters:
              msg: {type: string, required: true}
            command: [/bin/echo, "{msg}"]
            """);
        File.WriteAllText(Path.Combine(pipelines, "sleep.yaml"), """
            name: sleep
            version: "1"
            parameters:
              seconds: {type: integer, default: 30}
            command: [/bin/sleep, "{seconds}"]
            """);
        var n = options.Parallelism;
        for (var rep = 1; rep <= options.Repetitions; rep++)
        {
            Log($"repetition {rep}/{options.Repetitions}");
            if (Runs("raw"))
            {
                var (self, children) = (ProcFs.CpuTime(Environment.ProcessId), ProcFs.ChildrenCpuTime(Environment.ProcessId));
                results.Add(Figures.RawSerial, await Phases.RawSpawnAsync(1, options.RawSpawns, options.PhaseLimit, ct));
                results.AddDiagnostic("raw_spawn_parent_cpu_ms", (ProcFs.CpuTime(Environment.ProcessId) - self).TotalMilliseconds / options.RawSpawns);
                results.AddDiagnostic("raw_spawn_child_cpu_ms", (ProcFs.ChildrenCpuTime(Environment.ProcessId) - children).TotalMilliseconds / options.RawSpawns);
                results.Add(Figures.RawParallel, await Phases.RawSpawnAsync(n, options.RawSpawns, options.PhaseLimit, ct));
            }
            if (Runs("main"))
            {
                await MainAsync(ct);
            }
            if (Runs("serial"))
            {
                await SerialAsync(ct);
            }
            if (Runs("queued"))
            {
                await QueuedAsync(ct);
            }
            if (Runs("burst"))
            {
                await BurstAsync(ct);
            }
            if (Runs("submit"))
            {
                await SubmitAsync(ct);
            }
            if (Runs("batch"))
            {
                await using var stage = await StartAsync(NewDataDir(), options.Parallelism, ct);
                await WarmUpAsync(stage, ct);
                Log($"one batch of {options.BatchRows} rows");
                await BatchRow.MeasureAsync(stage, options.BatchRows, options.Clients, results, ct);
            }
            if (Runs("raw") && Runs("main") && Runs("serial"))
            {
                results.Add(Figures.RatioSerial, 100 * results.Of(Figures.TrivialSerial)[^1] / results.Of(Figures.RawSerial)[^1]);
                results.Add(Figures.RatioParallel, 100 * results.Of(Figures.TrivialParallel)[^1] / results.Of(Figures.RawParallel)[^1]);
            }
        }
        if (Runs("seeded"))
        {
            await SeededAsync(ct);
        }
        if (Runs("slurm"))
        {
            // Once, not per repetition: a thousand jobs in the queue is a measurement of its own (the rate is three pairs).
            if (await SlurmRow.UnavailableAsync() is { } why)
            {
                Log($"Slurm row not measured: {why} (sudo scripts/slurm-single-node.sh up)");
            }
            else
            {
                await new SlurmRow(options, runwayDll, work, results).RunAsync(ct);
            }
        }
        if (Runs("nodes"))
        {
            // Once, not per repetition: three server processes per stage.
            if ((options.NodesPostgres ?? options.Postgres) is not { } postgres)
            {
                Log("Nodes row not measured: it needs PostgreSQL (--nodes-postgres or --postgres)");
            }
            else
            {
                await new NodesRow(options, runwayDll, work, results, postgres).RunAsync(ct);
            }
        }
    }

    private async Task MainAsync(CancellationToken ct)
    {
        await using var stage = await StartAsync(NewDataDir(), options.Parallelism, ct);
        await WarmUpAsync(stage, ct);
        Log("queue → running latency on an idle server");
        var latencies = await Phases.QueueLatencyAsync(stage.Api, options.LatencySamples, ct);
        results.Add(Figures.QueueP50, Results.Percentile(latencies, 50));
        results.Add(Figures.QueueP99, Results.Percentile(latencies, 99));
        await Task.Delay(TimeSpan.FromSeconds(1), ct); // let it settle: "idle" means nothing in flight
        results.Add(Figures.RssIdle, stage.Server.RssBytes / 1048576.0);
        results.AddDiagnostic("rss_idle_anonymous_mib", ProcFs.Status(stage.Server.Pid, "RssAnon:") / 1048576.0);
        results.AddDiagnostic("rss_idle_file_backed_mib", ProcFs.Status(stage.Server.Pid, "RssFile:") / 1048576.0);

        Log("cancel latency");
        var cancels = await Phases.CancelLatencyAsync(stage.Api, options.CancelSamples, ct, () => stage.Server.Tail);
        results.Add(Figures.CancelP50, Results.Percentile(cancels, 50));
        results.Add(Figures.CancelP99, Results.Percentile(cancels, 99));

        Log($"{options.TrivialRuns} trivial runs at concurrency {options.Parallelism}");
        var jit = await stage.Api.JitSecondsAsync(ct);
        var children = ProcFs.ChildrenCpuTime(stage.Server.Pid);
        var system = ProcFs.SystemCpuTime(stage.Server.Pid);
        var supervisor = ProcFs.SupervisorCpuTime(stage.Server.Pid);
        var (perSecond, cpuMs) = await Phases.TrivialThroughputAsync(stage, options.Clients, options.TrivialRuns, options.PhaseLimit, ct);
        results.AddDiagnostic("children_cpu_per_trivial_run_ms", (ProcFs.ChildrenCpuTime(stage.Server.Pid) - children).TotalMilliseconds / options.TrivialRuns);
        // Runway's own: the server's and the supervisor's, which starts, reaps and records every run since issue 10 (what
        // the sh wrapper did as the run's own process before); not the run's processes (issue 3: "not counting the child
        // process"). Until 2026-12-05 the figure was the server's alone.
        var supervisorMs = (ProcFs.SupervisorCpuTime(stage.Server.Pid) - supervisor).TotalMilliseconds / options.TrivialRuns;
        results.AddDiagnostic("supervisor_cpu_per_trivial_run_ms", supervisorMs);
        results.AddDiagnostic("server_cpu_per_trivial_run_ms", cpuMs);
        results.AddDiagnostic("server_kernel_cpu_per_trivial_run_ms", (ProcFs.SystemCpuTime(stage.Server.Pid) - system).TotalMilliseconds / options.TrivialRuns);
        // The runtime's compiling counts in the server's CPU: its share says whether the server was warm (0.06–0.07 ms
        // in this phase on 2026-12-05, against 1.7 ms per run over a fresh server's runs 600 to 1,600).
        await AddJitAsync(stage, "jit_per_trivial_run_ms", jit, options.TrivialRuns, ct);
        results.Add(Figures.TrivialParallel, perSecond);
        results.Add(Figures.CpuPerRun, cpuMs + supervisorMs);

        Log($"submissions from {options.Clients} clients");
        var cpu = stage.Server.CpuTime;
        var submissions = await Phases.SubmissionsAsync(stage.Api, options.Clients, options.Submissions, options.SubmitTime, ct);
        results.AddDiagnostic("server_cpu_per_submission_ms", (stage.Server.CpuTime - cpu).TotalMilliseconds / submissions.Done);
        results.Add(Figures.SubmitRate, submissions.PerSecond);
        results.Add(Figures.SubmitP50, Results.Percentile(submissions.LatenciesMs, 50));
        results.Add(Figures.SubmitP99, Results.Percentile(submissions.LatenciesMs, 99));
    }

    /// <summary>
    /// Main's submission phase alone, after a warm-up that includes submissions (so the tiered JIT has compiled their
    /// path): the server's CPU per durable submission, user and kernel apart, with less else running than in main.
    /// </summary>
    private async Task SubmitAsync(CancellationToken ct)
    {
        await using var stage = await StartAsync(NewDataDir(), options.Parallelism, ct);
        await WarmUpAsync(stage, ct);
        await Phases.SubmissionsAsync(stage.Api, options.Clients, options.WarmUpRuns * 10, options.PhaseLimit, ct);
        Log($"submissions from {options.Clients} clients (submit part)");
        var (cpu, system) = (stage.Server.CpuTime, ProcFs.SystemCpuTime(stage.Server.Pid));
        var submissions = await Phases.SubmissionsAsync(stage.Api, options.Clients, options.Submissions, options.SubmitTime, ct);
        results.AddDiagnostic("server_cpu_per_submission_ms", (stage.Server.CpuTime - cpu).TotalMilliseconds / submissions.Done);
        results.AddDiagnostic("server_kernel_cpu_per_submission_ms", (ProcFs.SystemCpuTime(stage.Server.Pid) - system).TotalMilliseconds / submissions.Done);
        results.Add(Figures.SubmitRate, submissions.PerSecond);
        results.Add(Figures.SubmitP50, Results.Percentile(submissions.LatenciesMs, 50));
        results.Add(Figures.SubmitP99, Results.Percentile(submissions.LatenciesMs, 99));
    }

    private async Task SerialAsync(CancellationToken ct)
    {
        await using var stage = await StartAsync(NewDataDir(), 1, ct);
        await WarmUpAsync(stage, ct);
        Log($"{options.TrivialRunsSerial} trivial runs at concurrency 1");
        var (perSecond, _) = await Phases.TrivialThroughputAsync(stage, options.Clients, options.TrivialRunsSerial, options.PhaseLimit, ct);
        results.Add(Figures.TrivialSerial, perSecond);
    }

    private async Task QueuedAsync(CancellationToken ct)
    {
        var dataDir = NewDataDir();
        Log($"seeding {options.QueuedRuns} queued runs");
        var ids = await SeedAsync(dataDir, options.QueuedRuns, queued: true, sampleEvery: options.BurstRuns, ct);
        await using var stage = await StartAsync(dataDir, options.Parallelism, ct, empty: false);
        Log($"RSS while a burst of {options.BurstRuns} of them runs");
        results.Add(Figures.RssQueued, await Phases.QueuedBurstRssAsync(stage, ids[1], options.PhaseLimit, ct));
    }

    private async Task BurstAsync(CancellationToken ct)
    {
        await using var stage = await StartAsync(NewDataDir(), BenchOptions.MixedConcurrency, ct);
        await WarmUpAsync(stage, ct);
        Log($"mixed burst: {options.MixedRuns} echo runs submitted by {BenchOptions.MixedClients} clients while they run, {BenchOptions.MixedConcurrency} at a time");
        var burst = await Burst.RunAsync(stage, BenchOptions.MixedClients, options.MixedRuns, options.PhaseLimit, ct);
        results.Add(Figures.BurstSubmitRate, burst.SubmitPerSecond);
        results.Add(Figures.BurstSubmitP99, burst.SubmitP99Ms);
        results.Add(Figures.BurstRuns, burst.RunsPerSecond);
        results.Add(Figures.BurstCpuPerRun, burst.TreeCpuMsPerRun);
        results.Add(Figures.BurstRss, burst.PeakRssMib);
        results.AddDiagnostic("burst_server_cpu_per_run_ms", burst.ServerCpuMsPerRun);
    }

    private async Task SeededAsync(CancellationToken ct)
    {
        var dataDir = NewDataDir();
        Log($"seeding {options.SeededRuns} finished runs");
        var ids = await SeedAsync(dataDir, options.SeededRuns, queued: false, sampleEvery: Math.Max(1, options.SeededRuns / 1000), ct);
        for (var rep = 1; rep <= options.Repetitions; rep++)
        {
            Log($"seeded database, repetition {rep}: start-up and lookups");
            await using var stage = await StartAsync(dataDir, options.Parallelism, ct, empty: false);
            results.Add(Figures.Startup, stage.Startup.TotalSeconds);
            var (list, next, get) = await Phases.LookupsAsync(stage.Api, ids, options.Lookups, ct);
            results.Add(Figures.ListP99, list);
            results.Add(Figures.NextPageP99, next);
            results.Add(Figures.GetP99, get);
            var (user, day, mine) = await Phases.UsageAsync(stage.Api, options.SeededRuns, ct);
            results.Add(Figures.UsageUserP99, user);
            results.Add(Figures.UsageDayP99, day);
            results.Add(Figures.UsageOwnerP99, mine);
            await PageTimings.MeasureAsync(results, stage.Server.Url, ServerProcess.AdminPassword, ids, options.Lookups, ct);
        }
    }

    private async Task AddJitAsync(Stage stage, string key, double? before, int runs, CancellationToken ct)
    {
        if (before is { } seconds && await stage.Api.JitSecondsAsync(ct) is { } after)
        {
            results.AddDiagnostic(key, (after - seconds) * 1000 / runs);
        }
    }

    /// <summary>
    /// Steady state, not start-up, is what the throughput figures are about: the server's JIT compiles
    /// and re-compiles (tiered) its hot paths in its first seconds, on the same two cores.
    /// </summary>
    private async Task WarmUpAsync(Stage stage, CancellationToken ct)
    {
        Log("warming up");
        await Phases.TrivialThroughputAsync(stage, options.Clients, options.WarmUpRuns, options.PhaseLimit, ct);
        await Load.RunAsync(options.Clients, options.WarmUpRuns, options.PhaseLimit, (_, token) => stage.Api.ListAsync("limit=50", token), ct);
    }

    /// <summary>A server stores one real run as the template; stopped, its database gets the seeded copies.</summary>
    private async Task<IReadOnlyList<string>> SeedAsync(string dataDir, int count, bool queued, int sampleEvery, CancellationToken ct)
    {
        string template;
        await using (var stage = await StartAsync(dataDir, options.Parallelism, ct))
        {
            template = (await Phases.WaitFinalAsync(stage.Api, await stage.Api.SubmitAsync(Phases.Trivial, ct), ct)).Id;
        }
        return await new Seeder(dataDir, options.Postgres).SeedAsync(template, count, queued, sampleEvery, ct);
    }

    private async Task<Stage> StartAsync(string dataDir, int concurrency, CancellationToken ct, bool empty = true)
    {
        if (empty)
        {
            // PostgreSQL keeps one database for all stages: each starts from empty tables, as SQLite does.
            await new Seeder(dataDir, options.Postgres).EmptyAsync(ct);
        }
        var (server, startup) = await ServerProcess.StartAsync(runwayDll, dataDir, pipelines, concurrency, options.Postgres, ct);
        if (empty)
        {
            results.AddDiagnostic("startup_empty_database_s", startup.TotalSeconds);
        }
        var token = await ApiClient.AdminTokenAsync(server.Url, ServerProcess.AdminPassword, ct);
        return new Stage(dataDir, server, new ApiClient(server.Url, token, options.Clients), startup, new Seeder(dataDir, options.Postgres));
    }

    private bool Runs(string part) => options.Parts.Contains(part);

    private string NewDataDir() => Path.Combine(work, $"data-{++stages}");

    private static void Log(string message) => Console.Error.WriteLine($"bench: {message}");
}
