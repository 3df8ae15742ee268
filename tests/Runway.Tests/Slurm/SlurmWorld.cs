using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Runway;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Slurm;

/// <summary>
/// A Runway server in process that submits to the test Slurm: the pipelines below (each says
/// <c>executor: slurm</c>), a short poll interval, short command time-outs and retries.
/// </summary>
internal static class SlurmWorld
{
    public static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(60);

    private static readonly Lazy<string> Pipelines = new(WritePipelines);

    public static string PipelinesDirectory => Pipelines.Value;

    public static Dictionary<string, string> Settings(string? dataDirectory = null, bool slurm = true)
    {
        var settings = new Dictionary<string, string>
        {
            ["Runway:Slurm:Enabled"] = slurm ? "true" : "false",
            ["Runway:Slurm:PollInterval"] = "00:00:00.300",
            ["Runway:Slurm:CommandTimeout"] = "00:00:10",
            ["Runway:Slurm:MaxRetryInterval"] = "00:00:01",
        };
        if (dataDirectory is not null)
        {
            settings["Runway:DataDir"] = dataDirectory;
        }
        return settings;
    }

    /// <summary>A server with the Slurm executor; Slurm itself must be up.</summary>
    public static RunwayApp App(string? dataDirectory = null, int concurrency = 4, IReadOnlyDictionary<string, string>? more = null)
    {
        Requires.Slurm();
        if (dataDirectory is not null)
        {
            WaitForLockReleased(dataDirectory);
        }
        var settings = Settings(dataDirectory);
        foreach (var (key, value) in more ?? new Dictionary<string, string>())
        {
            settings[key] = value;
        }
        return new RunwayApp(PipelinesDirectory, concurrency, settings);
    }

    /// <summary>A sleep run submitted to Slurm by a server that then stopped (its job goes on): its data directory, run and job.</summary>
    public static async Task<(string Data, string Id, string Job)> SubmittedByAnEarlierServerAsync(int seconds)
    {
        var data = Directory.CreateTempSubdirectory("runway-slurm-restart-").FullName;
        await using var first = App(data);
        using var client = await first.CreateUserClientAsync();
        var id = (await RunwayApp.SubmitAsync(client, new { pipeline = "slurm-sleep", @params = new { seconds } })).GetProperty("id").GetString()!;
        return (data, id, await WaitForJobAsync(client, id));
    }

    public static async Task SetNativeIdAsync(string data, string id, string? nativeId)
    {
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(data, "runway.db")};Pooling=false");
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var update = connection.CreateCommand();
        update.CommandText = "UPDATE runs SET native_id = $native WHERE id = $id";
        update.Parameters.AddWithValue("$id", id);
        update.Parameters.AddWithValue("$native", (object?)nativeId ?? DBNull.Value);
        Assert.Equal(1, await update.ExecuteNonQueryAsync(TestContext.Current.CancellationToken));
    }

    /// <summary>
    /// A server stopped a moment ago may still hold its data directory's lock through a child forked just
    /// before it closed the file and not yet exec'ed (the flock belongs to the open file, shared across fork):
    /// under load, for a few milliseconds. The next server on that directory waits for it.
    /// </summary>
    private static void WaitForLockReleased(string dataDirectory)
    {
        var path = Path.Combine(dataDirectory, NodeIdentity.LockFile);
        var deadline = TimeProvider.System.GetUtcNow() + TimeSpan.FromSeconds(10);
        while (File.Exists(path))
        {
            try
            {
                using var probe = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
                return;
            }
            catch (IOException) when (TimeProvider.System.GetUtcNow() < deadline)
            {
                Thread.Sleep(20);
            }
        }
    }

    /// <summary>Slurm, with <paramref name="value"/> in the setting <paramref name="key"/> of <c>scontrol show config</c>.</summary>
    public static void RequiresConfig(string key, string value, string why)
    {
        Requires.Slurm();
        if (Config(key) is not { } line || !line.Contains(value, StringComparison.Ordinal))
        {
            Requires.Skip(why);
        }
    }

    /// <summary>A setting as <c>scontrol show config</c> prints it ("Key = value"), or null.</summary>
    private static string? Config(string key) =>
        SlurmCluster.Run("scontrol", "show", "config").Output.Split('\n').FirstOrDefault(l => l.StartsWith(key + " ", StringComparison.Ordinal));

    /// <summary>
    /// A second configuration of the same cluster: a copy of its slurm.conf, in <paramref name="directory"/>, with
    /// <paramref name="key"/> set to <paramref name="value"/>. Slurm's commands given it (SLURM_CONF) reach the same
    /// controller, and believe what it says of the rest (where accounting is, whether there is any).
    /// </summary>
    public static string SecondConfiguration(string directory, string key, string value)
    {
        var conf = Config("SLURM_CONF")?.Split('=', 2)[1].Trim() ?? "/etc/slurm/slurm.conf";
        var lines = File.ReadAllLines(conf).Where(l => !l.StartsWith(key + "=", StringComparison.Ordinal)).Append($"{key}={value}");
        var path = Path.Combine(directory, "slurm.conf");
        File.WriteAllLines(path, lines);
        return path;
    }

    public static async Task<JsonElement> GetRunAsync(HttpClient client, string id) =>
        await client.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{id}", TestContext.Current.CancellationToken);

    /// <summary>Waits until the run is running with a Slurm job id, and returns that id.</summary>
    public static async Task<string> WaitForJobAsync(HttpClient client, string id)
    {
        string? job = null;
        await Eventually.TrueAsync(async () =>
        {
            var run = await GetRunAsync(client, id);
            Assert.True(run.GetProperty("state").GetString() is "queued" or "running", $"run {id} ended early: {run}");
            job = run.TryGetProperty("native_id", out var native) && native.ValueKind == JsonValueKind.String ? native.GetString() : null;
            return job is not null;
        }, RunTimeout, $"run {id} to be submitted to Slurm");
        return job!;
    }

    /// <summary>The job as <c>scontrol show job</c> tells it: Key=Value words.</summary>
    public static Dictionary<string, string> Scontrol(string jobId)
    {
        var (code, output) = SlurmCluster.Run("scontrol", "--oneliner", "show", "job", jobId);
        Assert.True(code == 0, $"scontrol show job {jobId}: {output}");
        return output.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(w => w.Split('=', 2)).Where(p => p.Length == 2)
            .GroupBy(p => p[0]).ToDictionary(g => g.Key, g => g.First()[1]);
    }

    /// <summary>The ids of the jobs of that name Slurm knows, finished ones included.</summary>
    public static List<string> JobsNamed(string name)
    {
        var (code, output) = SlurmCluster.Run("squeue", "--noheader", "--states=all", $"--name={name}", "--format=%i");
        Assert.True(code == 0, $"squeue: {output}");
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
    }

    private static string WritePipelines()
    {
        var directory = Directory.CreateTempSubdirectory("runway-slurm-pipelines-").FullName;
        void Write(string name, string yaml) => File.WriteAllText(Path.Combine(directory, name + ".yaml"), yaml);
        // The parameter reaches sh as "$1", a word the outer script never parses: printf writes it as it came.
        Write("slurm-echo", """
            name: slurm-echo
            version: '1'
            executor: slurm
            parameters:
              text: {type: string, default: hello}
            command: [/bin/sh, -c, 'printf %s "$1" > out.txt; echo to-stdout; echo to-stderr >&2', sh, "{text}"]
            outputs: [out.txt]
            """);
        Write("slurm-exit", """
            name: slurm-exit
            version: '1'
            executor: slurm
            command: [/bin/sh, -c, 'exit 3']
            """);
        Write("slurm-sleep", """
            name: slurm-sleep
            version: '1'
            executor: slurm
            parameters:
              seconds: {type: integer, default: 60, minimum: 0, maximum: 600}
            command: [/bin/sleep, "{seconds}"]
            """);
        Write("slurm-later", """
            name: slurm-later
            version: '1'
            executor: slurm
            command: [/bin/true]
            slurm:
              options: [--begin=now+1hour]
            """);
        Write("slurm-timeout", """
            name: slurm-timeout
            version: '1'
            executor: slurm
            time_limit: 1m
            command: [/bin/sleep, '600']
            """);
        Write("slurm-resources", """
            name: slurm-resources
            version: '1'
            executor: slurm
            resources: {cpus: 2, memory: 100M, time_limit: 10m}
            command: [/bin/sleep, '60']
            slurm:
              partition: debug
              options: [--nice=7]
            """);
        // Slurm gives a job its GPUs' indexes in CUDA_VISIBLE_DEVICES.
        Write("slurm-gpu", """
            name: slurm-gpu
            version: '1'
            executor: slurm
            resources: {gpus: 2}
            command: [/bin/sh, -c, 'printf %s "$CUDA_VISIBLE_DEVICES" > gpus.txt']
            outputs: [gpus.txt]
            """);
        // tail keeps every byte of a file without newlines: with /dev/zero, memory grows until the limit.
        Write("slurm-oom", """
            name: slurm-oom
            version: '1'
            executor: slurm
            resources: {memory: 40M}
            command: [/usr/bin/tail, /dev/zero]
            """);
        // A second of CPU by its own clock, holding 100 MiB it wrote to (as the local executor's ResourceUseTests).
        Write("slurm-burn", $$"""
            name: slurm-burn
            version: '1'
            executor: slurm
            command: {{System.Text.Json.JsonSerializer.Serialize(Runway.Tests.Execution.Limits.ResourceUseTests.Burner)}}
            """);
        Write("local-true", """
            name: local-true
            version: '1'
            executor: local
            command: [/bin/true]
            """);
        return directory;
    }
}
