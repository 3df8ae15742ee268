using System.Diagnostics;

namespace Runway.Bench;

/// <summary>What a mixed burst measured: submissions while runs execute, as issue 10's table has it.</summary>
internal sealed record BurstFigures(
    double SubmitPerSecond, double SubmitP99Ms, double RunsPerSecond, double TreeCpuMsPerRun, double ServerCpuMsPerRun, double PeakRssMib);

/// <summary>
/// Issue 10's burst: <c>count</c> runs of <c>/bin/echo</c> submitted by the clients while the first ones
/// already execute, timed from the first submission until none is queued or running. CPU is the whole
/// process tree's: the server's own plus what its reaped children (wrappers and commands) used, plus its live
/// descendants' and what they reaped (the run supervisor and the runs it started); RSS is
/// the peak of the server and its live children together, sampled while the burst drains.
/// </summary>
internal static class Burst
{
    public static readonly byte[] Echo = ApiClient.Body("echo", """{"msg":"hi"}""");

    // As in Phases: the end is seen soon enough, and the benchmark's own polls cost the server little.
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan RssSample = TimeSpan.FromMilliseconds(20);

    public static async Task<BurstFigures> RunAsync(Stage stage, int clients, int count, TimeSpan limit, CancellationToken ct)
    {
        var (api, pid) = (stage.Api, stage.Server.Pid);
        var (self, children, supervisor) = (ProcFs.CpuTime(pid), ProcFs.ChildrenCpuTime(pid), ProcFs.LiveDescendantsCpuTime(pid));
        using var sampling = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var peak = SamplePeakRssAsync(pid, sampling.Token);
        var started = Stopwatch.GetTimestamp();
        var submitted = await Load.RunAsync(clients, count, limit, (_, token) => api.SubmitAsync(Echo, token), ct);
        if (submitted.Failed > 0 || submitted.Done < count)
        {
            throw new InvalidOperationException($"burst submissions: {submitted.Done} done, {submitted.Failed} failed; first error: {submitted.FirstError}");
        }
        await Load.UntilAsync(async () => (await api.ListAsync("pipeline=echo&state=queued,running&limit=1", ct)).Runs.Count == 0,
            Poll, limit, $"{count} burst runs to finish", ct);
        var elapsed = Stopwatch.GetElapsedTime(started);
        var serverCpu = ProcFs.CpuTime(pid) - self;
        var treeCpu = serverCpu + (ProcFs.ChildrenCpuTime(pid) - children) + (ProcFs.LiveDescendantsCpuTime(pid) - supervisor);
        await sampling.CancelAsync();
        var peakBytes = await peak;
        var bad = await api.ListAsync("pipeline=echo&state=failed,system_error,canceled&limit=1", ct);
        if (bad.Runs.Count > 0)
        {
            throw new InvalidOperationException($"burst run {bad.Runs[0].Id} ended {bad.Runs[0].State}");
        }
        return new BurstFigures(submitted.PerSecond, Results.Percentile(submitted.LatenciesMs, 99), count / elapsed.TotalSeconds,
            treeCpu.TotalMilliseconds / count, serverCpu.TotalMilliseconds / count, peakBytes / 1048576.0);
    }

    private static async Task<long> SamplePeakRssAsync(int pid, CancellationToken ct)
    {
        long peak = 0;
        while (!ct.IsCancellationRequested)
        {
            peak = Math.Max(peak, ProcFs.TreeRssBytes(pid));
            try
            {
                await Task.Delay(RssSample, ct);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        return Math.Max(peak, ProcFs.TreeRssBytes(pid));
    }
}
