using System.Diagnostics;
using System.Text.Json.Nodes;
using Npgsql;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Bench;

/// <summary>
/// Runs the benchmark of bench/ in its quick sizes against this build's runway.dll, so it keeps working.
/// It checks that every figure was measured, never what the figures are.
/// </summary>
public sealed class BenchmarkTests : IDisposable
{
    private readonly string output = Directory.CreateTempSubdirectory("runway-bench-test-").FullName;

    [Fact]
    public async Task QuickRun_MeasuresEveryFigure_AndWritesThemAsJson()
    {
        var ct = TestContext.Current.CancellationToken;
        var bench = await BenchDllAsync(ct);
        var json = Path.Combine(output, "figures.json");

        // The nodes row runs a serve and two workers on PostgreSQL: a database of the suite's own server, when there is one.
        var postgres = PostgresServer.Shared.Unavailable is null ? PostgresServer.Shared.CreateDatabase() : null;
        // With a password (the suite's own server trusts its local connections and ignores this one), which the benchmark
        // must not print or keep in its JSON.
        var connection = new NpgsqlConnectionStringBuilder(postgres ?? "");
        connection.Password ??= "not-for-the-results";
        string[] nodes = postgres is null ? [] : ["--nodes-postgres", connection.ConnectionString];
        var (exitCode, log) = await RunAsync("dotnet", [bench, "--quick", "--out", json, "--runway", Path.Combine(AppContext.BaseDirectory, "runway.dll"), .. nodes], ct);
        if (postgres is not null)
        {
            PostgresServer.Shared.DropDatabase(postgres);
        }

        Assert.True(exitCode == 0, $"the benchmark exited with {exitCode}:\n{log}");
        var figures = JsonNode.Parse(await File.ReadAllTextAsync(json, ct))!["figures"]!.AsObject();
        Assert.Equal(46, figures.Count);
        // The Slurm row needs a cluster (scripts/slurm-single-node.sh); without one the benchmark says so and goes on.
        var slurm = SlurmCluster.Unavailable is null;
        // The nodes row needs PostgreSQL (under CI=true the suite always has it).
        Assert.All(figures.Where(f => (slurm || !f.Key.StartsWith("slurm_", StringComparison.Ordinal))
            && (postgres is not null || !f.Key.StartsWith("nodes_", StringComparison.Ordinal))), f =>
        {
            var values = f.Value!["values"]!.AsArray();
            Assert.True(values.Count >= 1, $"{f.Key} was not measured");
            Assert.All(values, v => Assert.True(v!.GetValue<double>() >= 0, $"{f.Key} is {v}"));
        });
        Assert.Contains("| durable submissions/s", log, StringComparison.Ordinal);
        Assert.Contains("| burst: submissions/s while runs execute", log, StringComparison.Ordinal);
        Assert.DoesNotContain(connection.Password, log, StringComparison.Ordinal);
        Assert.DoesNotContain(connection.Password, await File.ReadAllTextAsync(json, ct), StringComparison.Ordinal);
    }

    /// <summary>The benchmark built with the solution, in this test's configuration; built here if it is missing.</summary>
    private static async Task<string> BenchDllAsync(CancellationToken ct)
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        var project = Path.Combine(Repository.Root, "bench", "Runway.Bench");
        var dll = Path.Combine(project, "bin", configuration, "net10.0", "Runway.Bench.dll");
        if (!File.Exists(dll))
        {
            var (code, log) = await RunAsync("dotnet", ["build", project, "-c", configuration], ct);
            Assert.True(code == 0, $"building the benchmark failed:\n{log}");
        }
        return dll;
    }

    private static async Task<(int ExitCode, string Log)> RunAsync(string program, string[] args, CancellationToken ct)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        return (process.ExitCode, await stdout + await stderr);
    }

    public void Dispose() => Directory.Delete(output, recursive: true);
}
