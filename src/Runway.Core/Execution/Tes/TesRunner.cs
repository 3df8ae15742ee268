using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using Runway.Execution.Local;

namespace Runway.Execution.Tes;

/// <summary>
/// Runs a TES task's executors one after another: <c>runway tes-chain PLAN</c>, started by the local executor as the
/// run's command (so the supervisor records its exit, a stop kills it with its group, and a restart finds it). Each
/// executor is one container client whose argv the server built (<see cref="ContainerEngine.StepCommand"/>); this
/// process only wires stdio and records what each did. No shell anywhere.
/// </summary>
/// <remarks>
/// Protocol, per executor i:
/// 1. stdin is the executor's container path read through RunTree (never following a link the task left), else none;
/// 2. stdout and stderr go to the executor's container paths, opened one component at a time without following links
///    (an earlier executor may have planted one), else to <c>tes/log/i.stdout|stderr</c>, which no container sees;
/// 3. <c>tes/log/i.json</c> gets the start, end and exit code;
/// 4. a non-zero exit ends the task with that code unless the executor says <c>ignore_error</c>.
/// A TERM (a cancel) starts no further executor; the executor stops the running container by its name.
/// </remarks>
public static class TesRunner
{
    public const string Verb = "tes-chain";

    /// <summary>What the runner is given on its command line: built by the server from the checked task, never read from the run directory.</summary>
    public sealed record Plan(string RunDirectory, IReadOnlyList<PlanStep> Steps);

    public sealed record PlanStep(IReadOnlyList<string> Argv, string? Stdin, string? Stdout, string? Stderr, bool IgnoreError);

    /// <summary>One executor's record, as the runner writes it and the server reads it back.</summary>
    public sealed record StepRecord(DateTimeOffset StartTime, DateTimeOffset? EndTime, int? ExitCode);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>The runner's command: this program (the <c>runway</c> apphost beside the running assembly) and the plan as one argument.</summary>
    public static IReadOnlyList<string> Command(Plan plan)
    {
        var binary = Path.Combine(AppContext.BaseDirectory, "runway");
        if (!File.Exists(binary))
        {
            throw new ExecutorStartException($"the TES runner {binary} is missing");
        }
        return [binary, Verb, JsonSerializer.Serialize(plan, Json)];
    }

    public static StepRecord? ReadRecord(RunTree tree, int index)
    {
        using var stream = tree.OpenFile(TesPaths.StepRecord(index));
        if (stream is null || stream.Length > 4096)
        {
            return null;
        }
        try
        {
            return JsonSerializer.Deserialize<StepRecord>(stream, Json);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public static async Task<int> RunAsync(string planJson, TimeProvider clock)
    {
        var plan = JsonSerializer.Deserialize<Plan>(planJson, Json) ?? throw new ArgumentException("no plan", nameof(planJson));
        using var stop = new CancellationTokenSource();
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            stop.Cancel();
        });
        for (var i = 0; i < plan.Steps.Count; i++)
        {
            if (stop.IsCancellationRequested)
            {
                return 143;
            }
            var step = plan.Steps[i];
            var started = clock.GetUtcNow();
            Record(plan.RunDirectory, i, new StepRecord(started, null, null));
            var code = await RunStepAsync(plan.RunDirectory, i, step, stop.Token);
            Record(plan.RunDirectory, i, new StepRecord(started, clock.GetUtcNow(), code));
            if (code != 0 && !step.IgnoreError)
            {
                return code is > 0 and < 256 ? code : 1;
            }
        }
        return stop.IsCancellationRequested ? 143 : 0;
    }

    private static async Task<int> RunStepAsync(string runDirectory, int index, PlanStep step, CancellationToken stop)
    {
        var start = new ProcessStartInfo(step.Argv[0])
        {
            RedirectStandardInput = step.Stdin is not null,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = runDirectory,
        };
        foreach (var argument in step.Argv.Skip(1))
        {
            start.ArgumentList.Add(argument);
        }
        using var tree = RunTree.Open(runDirectory) ?? throw new IOException($"the run directory {runDirectory} is gone");
        await using var stdout = OpenWrite(runDirectory, step.Stdout is { } o ? TesPaths.Host(o) : TesPaths.StepStream(index, "stdout"));
        await using var stderr = OpenWrite(runDirectory, step.Stderr is { } e ? TesPaths.Host(e) : TesPaths.StepStream(index, "stderr"));
        await using var stdin = step.Stdin is { } i ? tree.OpenFile(TesPaths.Host(i)) : null;
        if (step.Stdin is not null && stdin is null)
        {
            await stderr.WriteAsync(System.Text.Encoding.UTF8.GetBytes($"runway: stdin {step.Stdin} is not a regular file in the task\n"), stop);
            return 1;
        }
        using var process = Process.Start(start) ?? throw new IOException($"could not start {step.Argv[0]}");
        var output = process.StandardOutput.BaseStream.CopyToAsync(stdout, CancellationToken.None);
        var errors = process.StandardError.BaseStream.CopyToAsync(stderr, CancellationToken.None);
        if (stdin is not null)
        {
            try
            {
                await stdin.CopyToAsync(process.StandardInput.BaseStream, stop);
            }
            catch (IOException)
            {
                // The command stopped reading (it may not need all of its stdin): not the task's failure.
            }
            finally
            {
                process.StandardInput.Close();
            }
        }
        await process.WaitForExitAsync(CancellationToken.None);
        await Task.WhenAll(output, errors);
        return process.ExitCode;
    }

    private static void Record(string runDirectory, int index, StepRecord record)
    {
        using var file = OpenWrite(runDirectory, TesPaths.StepRecord(index));
        JsonSerializer.Serialize(file, record, Json);
    }

    /// <summary>
    /// Creates a file at a path relative to the run directory, making missing directories, one component at a time and
    /// never through a link: the task's executors may have left links anywhere under tes/fs.
    /// </summary>
    private static FileStream OpenWrite(string runDirectory, string relativePath)
    {
        var parts = relativePath.Split('/');
        if (parts.Any(p => p is "" or "." or ".."))
        {
            throw new IOException($"'{relativePath}' is not a plain relative path");
        }
        var directory = PosixFiles.OpenDirectory(PosixFiles.AtFdCwd, runDirectory);
        try
        {
            foreach (var part in parts[..^1])
            {
                PosixFiles.MakeDirectory(directory, part);
                var child = PosixFiles.OpenDirectory(directory, part);
                PosixFiles.Close(directory);
                directory = child;
                if (directory < 0)
                {
                    throw new IOException($"'{relativePath}' passes through a link or a file");
                }
            }
            var handle = PosixFiles.OpenWriteNoFollow(directory, parts[^1]);
            if (handle < 0 || !PosixFiles.TryStat(handle, out var status) || !status.IsRegular)
            {
                PosixFiles.Close(handle);
                throw new IOException($"'{relativePath}' cannot be written (a link, a directory or a device there?)");
            }
            return new FileStream(PosixFiles.Own(handle), FileAccess.Write);
        }
        finally
        {
            PosixFiles.Close(directory);
        }
    }
}
