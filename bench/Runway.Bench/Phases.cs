using System.Diagnostics;
using System.Globalization;

namespace Runway.Bench;

/// <summary>The measurements, each against a running server; they fail loudly rather than report a wrong figure.</summary>
internal static class Phases
{
    public static readonly byte[] Trivial = ApiClient.Body("trivial");
    public static readonly byte[] LongSleep = ApiClient.Body("sleep", """{"seconds":3600}""");
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(10);

    // While a burst drains: often enough that the end is seen within 0.2 % of a phase, rarely enough that
    // serving the benchmark's own polls is not a visible part of the server's CPU per run.
    private static readonly TimeSpan BurstPoll = TimeSpan.FromMilliseconds(50);

    /// <summary>Process.Start of /bin/true, <paramref name="parallel"/> at a time, waiting for each: the floor a run cannot beat.</summary>
    public static async Task<double> RawSpawnAsync(int parallel, int total, TimeSpan limit, CancellationToken ct)
    {
        var result = await Load.RunAsync(parallel, total, limit, async (_, token) =>
        {
            using var process = Process.Start(new ProcessStartInfo("/bin/true") { UseShellExecute = false })
                ?? throw new InvalidOperationException("/bin/true did not start");
            await process.WaitForExitAsync(token);
        }, ct);
        return result.PerSecond;
    }

    /// <summary>Submit then wait for the end, one at a time; the latency is the record's started_at − submitted_at.</summary>
    public static async Task<double[]> QueueLatencyAsync(ApiClient api, int samples, CancellationToken ct)
    {
        var latencies = new double[samples];
        for (var i = 0; i < samples; i++)
        {
            var run = await WaitFinalAsync(api, await api.SubmitAsync(Trivial, ct), ct);
            latencies[i] = (run.StartedAt!.Value - run.SubmittedAt).TotalMilliseconds;
        }
        return latencies;
    }

    /// <summary>Request → state canceled and no process left in the run's group, by the client's clock.</summary>
    public static async Task<double[]> CancelLatencyAsync(ApiClient api, int samples, CancellationToken ct, Func<string>? serverLog = null)
    {
        var latencies = new double[samples];
        for (var i = 0; i < samples; i++)
        {
            var id = await api.SubmitAsync(LongSleep, ct);
            var group = 0;
            await Load.UntilAsync(async () =>
            {
                var run = await api.GetAsync(id, ct);
                return run.State == "running" && int.TryParse(run.NativeId, NumberStyles.None, CultureInfo.InvariantCulture, out group);
            }, TimeSpan.FromMilliseconds(5), TimeSpan.FromMinutes(1), $"run {id} to be running", ct);
            if (!ProcFs.GroupExists(group))
            {
                throw new InvalidOperationException($"run {id} is running but its process group {group} is not there");
            }
            var started = Stopwatch.GetTimestamp();
            await api.CancelAsync(id, ct);
            await Load.UntilAsync(async () => !ProcFs.GroupExists(group) && (await api.GetAsync(id, ct)).State == "canceled",
                TimeSpan.FromMilliseconds(1), TimeSpan.FromMinutes(1), $"run {id} to be canceled", ct);
            latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            if (latencies[i] > 1000 && serverLog is not null)
            {
                Console.Error.WriteLine($"bench: cancel of {id} took {latencies[i]:0} ms; the server's last lines:\n{serverLog()}");
            }
        }
        return latencies;
    }

    /// <summary>A burst of trivial runs submitted by the clients, until none is queued or running: runs/s and server CPU ms per run.</summary>
    public static async Task<(double PerSecond, double CpuMsPerRun)> TrivialThroughputAsync(
        Stage stage, int clients, int count, TimeSpan limit, CancellationToken ct)
    {
        var api = stage.Api;
        var cpu = stage.Server.CpuTime;
        var started = Stopwatch.GetTimestamp();
        var submitted = await Load.RunAsync(clients, count, limit, (_, token) => api.SubmitAsync(Trivial, token), ct);
        Check(submitted, count, "trivial submissions");
        await Load.UntilAsync(async () => (await api.ListAsync("pipeline=trivial&state=queued,running&limit=1", ct)).Runs.Count == 0,
            BurstPoll, limit, $"{count} trivial runs to finish", ct);
        var elapsed = Stopwatch.GetElapsedTime(started);
        var cpuMs = (stage.Server.CpuTime - cpu).TotalMilliseconds;
        var bad = await api.ListAsync("pipeline=trivial&state=failed,system_error,canceled&limit=1", ct);
        if (bad.Runs.Count > 0)
        {
            throw new InvalidOperationException($"trivial run {bad.Runs[0].Id} ended {bad.Runs[0].State}");
        }
        return (count / elapsed.TotalSeconds, cpuMs / count);
    }

    public static async Task<LoadResult> SubmissionsAsync(ApiClient api, int clients, int count, TimeSpan limit, CancellationToken ct)
    {
        var result = await Load.RunAsync(clients, count, limit, (_, token) => api.SubmitAsync(LongSleep, token), ct);
        Check(result, 1, "submissions");
        return result;
    }

    /// <summary>Peak RSS while the server works through the first <paramref name="burst"/> of a seeded queue.</summary>
    public static async Task<double> QueuedBurstRssAsync(Stage stage, string lastOfBurst, TimeSpan limit, CancellationToken ct)
    {
        long peak = stage.Server.RssBytes;
        await Load.UntilAsync(async () =>
        {
            peak = Math.Max(peak, stage.Server.RssBytes);
            return (await stage.Api.GetAsync(lastOfBurst, ct)).FinishedAt is not null;
        }, TimeSpan.FromMilliseconds(20), limit, "the burst to run", ct);
        return Math.Max(peak, stage.Server.RssBytes) / 1048576.0;
    }

    /// <summary>Sequential lookups against the seeded database: p99 of a filtered page, the next page, and one run.</summary>
    public static async Task<(double List, double Next, double Get)> LookupsAsync(
        ApiClient api, IReadOnlyList<string> ids, int count, CancellationToken ct)
    {
        var (list, next, get) = (new double[count], new double[count], new double[count]);
        for (var i = 0; i < count; i++)
        {
            var started = Stopwatch.GetTimestamp();
            var page = await api.ListAsync("state=failed&limit=50", ct);
            list[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            if (page.Runs.Count != 50 || page.NextCursor is null)
            {
                throw new InvalidOperationException($"the filtered page held {page.Runs.Count} runs");
            }
            started = Stopwatch.GetTimestamp();
            var second = await api.ListAsync($"state=failed&limit=50&cursor={page.NextCursor}", ct);
            next[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            if (second.Runs.Count != 50)
            {
                throw new InvalidOperationException($"the next page held {second.Runs.Count} runs");
            }
            started = Stopwatch.GetTimestamp();
            await api.GetAsync(ids[(i * 7919) % ids.Count], ct);
            get[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        }
        return (Results.Percentile(list, 99), Results.Percentile(next, 99), Results.Percentile(get, 99));
    }

    /// <summary>
    /// Issue 16's accounting over the whole seeded table (every run finished in 2026's first hour, owned by the
    /// admin): grouped by user and by day, and the caller's own (/me/usage, the owner's index). Each answer must
    /// count every seeded run; a handful of repetitions, since each reads a million index entries.
    /// </summary>
    public static async Task<(double User, double Day, double Mine)> UsageAsync(ApiClient api, int seeded, CancellationToken ct)
    {
        const int Repetitions = 10;
        const string Range = "from=2025-12-01T00:00:00Z&to=2026-02-01T00:00:00Z";
        var times = new double[3][];
        string[] paths = [$"/api/v1/admin/usage?{Range}&group_by=user", $"/api/v1/admin/usage?{Range}&group_by=day", $"/api/v1/me/usage?{Range}"];
        for (var p = 0; p < paths.Length; p++)
        {
            times[p] = new double[Repetitions];
            for (var i = 0; i < Repetitions; i++)
            {
                var started = Stopwatch.GetTimestamp();
                var usage = await api.ReadAsync<UsageView>(paths[p], ct);
                times[p][i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                var runs = usage.Rows.Sum(r => r.Runs);
                if (runs < seeded)
                {
                    throw new InvalidOperationException($"{paths[p]} counted {runs} runs of the {seeded} seeded");
                }
            }
        }
        return (Results.Percentile(times[0], 99), Results.Percentile(times[1], 99), Results.Percentile(times[2], 99));
    }

    public static async Task<RunView> WaitFinalAsync(ApiClient api, string id, CancellationToken ct)
    {
        RunView? run = null;
        await Load.UntilAsync(async () => (run = await api.GetAsync(id, ct)).FinishedAt is not null, Poll, TimeSpan.FromMinutes(1), $"run {id} to finish", ct);
        return run!.State == "succeeded" ? run : throw new InvalidOperationException($"run {id} ended {run.State}");
    }

    private static void Check(LoadResult result, int atLeast, string what)
    {
        if (result.Failed > 0 || result.Done < atLeast)
        {
            throw new InvalidOperationException($"{what}: {result.Done} done, {result.Failed} failed; first error: {result.FirstError}");
        }
    }
}
