using System.Diagnostics;
using System.Text;

namespace Runway.Bench;

/// <summary>
/// Issue 14: one POST /api/v1/batches of 10,000 rows (200 with --quick), timed from the request to its 201, on a fresh
/// server. Per run, that time and the server's CPU compare with a single submission's (submit_p50_ms, and the
/// server_cpu_per_submission_ms diagnostic): the batch must cost no more per run than one submission does.
/// </summary>
internal static class BatchRow
{
    public const string AcceptSeconds = "batch_accept_s";
    public const string PerRunMs = "batch_per_run_ms";
    public const string CpuPerRunMs = "batch_server_cpu_per_run_ms";
    public const string SinglePerRunMs = "batch_single_per_run_ms";
    public const string SingleCpuPerRunMs = "batch_single_cpu_per_run_ms";

    public static readonly Figure[] Figures =
    [
        new(AcceptSeconds, "batch of 10,000 rows: request → 201 (all queued)", "s", "", null),
        new(PerRunMs, "batch: time per run accepted", "ms", "≤ single submission p50", null),
        new(CpuPerRunMs, "batch: server CPU per run accepted", "ms", "≤ single submission's", null),
        new(SinglePerRunMs, "same server, single submissions (16 clients): time per run", "ms", "", null),
        new(SingleCpuPerRunMs, "same server, single submissions: server CPU per run", "ms", "", null),
    ];

    /// <summary>Every row differs (msg), so each is validated and rendered on its own, as a sheet of samples would be.</summary>
    public static byte[] Body(int rows)
    {
        var json = new StringBuilder("""{"pipeline":"echo","name":"bench","rows":[""");
        for (var i = 0; i < rows; i++)
        {
            json.Append(i == 0 ? "" : ",").Append("""{"msg":"sample-""").Append(i).Append("\"}");
        }
        return Encoding.UTF8.GetBytes(json.Append("]}").ToString());
    }

    public static async Task MeasureAsync(Stage stage, int rows, int clients, Results results, CancellationToken ct)
    {
        // The budget, measured on the same server under the same load: single submissions from concurrent clients.
        var before = stage.Server.CpuTime;
        var single = await Phases.SubmissionsAsync(stage.Api, clients, rows, TimeSpan.FromMinutes(2), ct);
        results.Add(SinglePerRunMs, 1000 / single.PerSecond);
        results.Add(SingleCpuPerRunMs, (stage.Server.CpuTime - before).TotalMilliseconds / single.Done);

        // The batch path's own first-call costs (JIT of its validation and insert) are not what is measured.
        await stage.Api.SubmitBatchAsync(Body(50), ct);
        var body = Body(rows);
        var cpu = stage.Server.CpuTime;
        var clock = Stopwatch.StartNew();
        await stage.Api.SubmitBatchAsync(body, ct);
        var elapsed = clock.Elapsed;
        results.Add(AcceptSeconds, elapsed.TotalSeconds);
        results.Add(PerRunMs, elapsed.TotalMilliseconds / rows);
        results.Add(CpuPerRunMs, (stage.Server.CpuTime - cpu).TotalMilliseconds / rows);
    }
}
