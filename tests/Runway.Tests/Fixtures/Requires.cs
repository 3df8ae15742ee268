using System.Diagnostics.CodeAnalysis;

namespace Runway.Tests.Fixtures;

/// <summary>
/// Integration tests ask for what they need here. Missing parts skip the test with the reason, except
/// under CI=true, where a skipped integration test would hide a broken setup, so it fails instead.
/// </summary>
public static class Requires
{
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> PrintedReasons = new(StringComparer.Ordinal);

    [DoesNotReturn]
    public static void Skip(string reason)
    {
        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            Assert.Fail($"{reason} (CI=true, so this is a failure, not a skip)");
        }
        // dotnet test's console logger shows a skip without its reason: say it once per reason as a
        // diagnostic message (xunit.runner.json turns those on), so a developer sees what to install.
        if (PrintedReasons.TryAdd(reason, 0))
        {
            TestContext.Current.SendDiagnosticMessage($"skipped: {reason}");
        }
        Assert.Skip(reason);
        throw new System.Diagnostics.UnreachableException();
    }

    /// <summary>Debian's Chromium, which the browser tests drive through Playwright (never a browser Playwright downloads).</summary>
    public static string Chromium()
    {
        const string path = "/usr/bin/chromium";
        if (!File.Exists(path))
        {
            Skip($"Chromium not available: no {path} (apt-get install chromium)");
        }
        return path;
    }

    /// <summary>A connection string to a new, empty database of its own on the test PostgreSQL server.</summary>
    public static string Postgres()
    {
        var server = PostgresServer.Shared;
        if (server.Unavailable is { } why)
        {
            Skip($"PostgreSQL not available: {why}");
        }
        return server.CreateDatabase();
    }

    /// <summary>A single-node Slurm whose controller answers (scripts/slurm-single-node.sh brings one up, as root).</summary>
    public static void Slurm()
    {
        if (SlurmCluster.Unavailable is { } why)
        {
            Skip($"Slurm not available: {why} (sudo scripts/slurm-single-node.sh up)");
        }
    }
}
