using System.Diagnostics;
using Npgsql;

namespace Runway.Tests.Fixtures;

/// <summary>
/// initdb + pg_ctl into a temp dir. initdb refuses to run as root, so under root every command runs as the
/// Debian package's <c>postgres</c> user, which then owns the temp dir. fsync is off: the data is thrown away.
/// </summary>
internal static class PrivateCluster
{
    public static string Start(string bin, int port)
    {
        var asRoot = Environment.UserName == "root";
        // Under root, TMPDIR may sit below /root, which the postgres user cannot enter.
        var root = asRoot
            ? Directory.CreateDirectory(Path.Combine("/tmp", "runway-pg-" + Guid.NewGuid().ToString("N")[..8])).FullName
            : Directory.CreateTempSubdirectory("runway-pg-").FullName;
        var data = Path.Combine(root, "data");
        var log = Path.Combine(root, "server.log");
        if (asRoot)
        {
            Run("chown", ["postgres:postgres", root], asUser: false);
        }
        Run(Path.Combine(bin, "initdb"), ["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync"], asRoot);
        var options = $"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off -c synchronous_commit=off "
            + "-c full_page_writes=off -c max_connections=300";
        try
        {
            Run(Path.Combine(bin, "pg_ctl"), ["-D", data, "-l", log, "-w", "-t", "60", "-o", options, "start"], asRoot);
        }
        catch (InvalidOperationException e)
        {
            var tail = File.Exists(log) ? File.ReadAllText(log) : "";
            throw new InvalidOperationException($"{e.Message}\n{tail}", e);
        }
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            NpgsqlConnection.ClearAllPools();
            Run(Path.Combine(bin, "pg_ctl"), ["-D", data, "-m", "immediate", "-w", "stop"], asRoot, throwOnError: false);
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
                // Best effort: a leftover temp dir is harmless.
            }
        };
        return $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres;Include Error Detail=true";
    }

    private static void Run(string file, string[] args, bool asUser, bool throwOnError = true)
    {
        var start = new ProcessStartInfo(asUser ? "runuser" : file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = "/",
        };
        if (asUser)
        {
            foreach (var a in (string[])["-u", "postgres", "--", file])
            {
                start.ArgumentList.Add(a);
            }
        }
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {file}");
        // Both pipes drain at once (a full one would block the child); this runs in ProcessExit too, so no task to block on.
        var stderr = new System.Text.StringBuilder();
        process.ErrorDataReceived += (_, e) => stderr.AppendLine(e.Data);
        process.BeginErrorReadLine();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit(); // also waits for the last ErrorDataReceived
        if (process.ExitCode != 0 && throwOnError)
        {
            throw new InvalidOperationException(
                $"{Path.GetFileName(file)} exited with {process.ExitCode}: {stderr}{stdout}");
        }
    }
}
