using System.Globalization;
using System.Text;
using System.Text.Json;
using Runway.Data;
using Runway.Execution;
using Runway.Execution.Tes;
using Runway.Runs;

namespace Runway.Compat.Ga4gh.Tes;

/// <summary>
/// A run of a TES task as the task, in one of the spec's views: MINIMAL (id and state), BASIC (all but executors'
/// stdout and stderr, inputs' content and system logs), FULL (everything). What the run did is read from its
/// directory through RunTree; stdout and stderr are the last <see cref="MaxStream"/> bytes.
/// </summary>
public sealed class TesTaskView(RunwayPaths paths)
{
    public const string Minimal = "MINIMAL", Basic = "BASIC", Full = "FULL";
    public static readonly string[] Views = [Minimal, Basic, Full];
    public const int MaxStream = 64 * 1024;

    /// <summary>The task of the run; <paramref name="outputs"/>: its collected outputs' row, if any.</summary>
    public TesTask Show(Run run, TesOutputRecord? outputs, string view)
    {
        var state = TesStates.Of(run, outputs?.CollectedAt is not null);
        if (view == Minimal)
        {
            return new TesTask { Id = run.Id, State = state };
        }
        var task = JsonSerializer.Deserialize<TesTask>(run.ParamsJson, TesJson.Options) ?? new TesTask();
        var full = view == Full;
        return task with
        {
            Id = run.Id,
            State = state,
            CreationTime = Time(run.SubmittedAt),
            Inputs = full ? task.Inputs : task.Inputs?.Select(i => i with { Content = null }).ToList(),
            Logs = run.StartedAt is null && run.FinishedAt is null ? null : [Log(run, task, outputs, full)],
        };
    }

    private TesTaskLog Log(Run run, TesTask task, TesOutputRecord? outputs, bool full)
    {
        var executors = new List<TesExecutorLog>();
        using (var tree = RunTree.Open(paths.RunDirectory(run.Id)))
        {
            for (var i = 0; tree is not null && i < (task.Executors?.Count ?? 0); i++)
            {
                if (TesRunner.ReadRecord(tree, i) is not { } record)
                {
                    break;
                }
                var executor = task.Executors![i];
                executors.Add(new TesExecutorLog
                {
                    StartTime = Time(record.StartTime),
                    EndTime = record.EndTime is { } end ? Time(end) : null,
                    ExitCode = record.ExitCode ?? 0,
                    Stdout = full ? Tail(tree, executor.Stdout is { } o ? TesPaths.Host(o.TrimEnd('/')) : TesPaths.StepStream(i, "stdout")) : null,
                    Stderr = full ? Tail(tree, executor.Stderr is { } e ? TesPaths.Host(e.TrimEnd('/')) : TesPaths.StepStream(i, "stderr")) : null,
                });
            }
        }
        var metadata = new Dictionary<string, string> { ["runway_run_id"] = run.Id, ["runway_state"] = RunStateText(run.State) };
        if (run.Node is { } node)
        {
            metadata["node"] = node;
        }
        if (run.ExitCode is { } code)
        {
            metadata["exit_code"] = code.ToString(CultureInfo.InvariantCulture);
        }
        return new TesTaskLog
        {
            StartTime = run.StartedAt is { } started ? Time(started) : null,
            EndTime = run.FinishedAt is { } finished ? Time(finished) : null,
            Logs = executors,
            Metadata = metadata,
            Outputs = TesOutputCollector.Logs(outputs),
            SystemLogs = full ? [.. new[] { run.Message, run.Node is { } n ? $"node: {n}" : null, TesTaskCheck.IgnoredWarning(run.ParamsJson) }.OfType<string>()] : null,
        };
    }

    private static string? Tail(RunTree tree, string relativePath)
    {
        using var stream = tree.OpenFile(relativePath);
        if (stream is null)
        {
            return null;
        }
        stream.Position = Math.Max(0, stream.Length - MaxStream);
        var buffer = new byte[(int)Math.Min(MaxStream, stream.Length)];
        var read = 0;
        while (read < buffer.Length && stream.Read(buffer, read, buffer.Length - read) is var n and > 0)
        {
            read += n;
        }
        return Encoding.UTF8.GetString(buffer, 0, read);
    }

    private static string RunStateText(RunState state) => JsonNamingPolicy.SnakeCaseLower.ConvertName(state.ToString());

    public static string Time(DateTimeOffset at) => at.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);
}
