using System.Diagnostics;

namespace Runway.Tests.Compat;

/// <summary>
/// Runs a documented curl command as a user pastes it into a shell: <c>/bin/sh -c</c> with the text, in a working
/// directory of the test's, with a curl configuration directory of the test's (CURL_HOME: its .curlrc is where a
/// user keeps the token that caesar-rest's examples, written for a server without login, do not show).
/// </summary>
public sealed class SeedCurl(string directory)
{
    public string Directory { get; } = directory;

    public Dictionary<string, string> Environment { get; } = [];

    /// <summary>Writes the .curlrc that sends the token with every request of this directory's curl.</summary>
    public void UseToken(string token) => File.WriteAllText(Path.Combine(Directory, ".curlrc"), $"header = \"Authorization: Bearer {token}\"\n");

    /// <summary>
    /// The command with the documented host swapped for <paramref name="url"/> and any other <paramref name="replace"/>
    /// pairs (a token, an id the server gave), each line's trailing blanks dropped as a copy from the rendered page has them.
    /// </summary>
    public async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string documented, string host, string url, params (string From, string To)[] replace)
    {
        var command = string.Join('\n', documented.Split('\n').Select(l => l.TrimEnd()));
        command = host.Length == 0 ? command : command.Replace(host, url, StringComparison.Ordinal);
        foreach (var (from, to) in replace)
        {
            command = command.Replace(from, to, StringComparison.Ordinal);
        }
        var info = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = Directory };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(command);
        info.Environment["CURL_HOME"] = Directory;
        info.Environment["HOME"] = Directory;
        foreach (var (key, value) in Environment)
        {
            info.Environment[key] = value;
        }
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        return (process.ExitCode, await stdout, await stderr);
    }

    public static void RequireCurl()
    {
        if (!File.Exists("/usr/bin/curl"))
        {
            Fixtures.Requires.Skip("curl not available: no /usr/bin/curl (apt-get install curl)");
        }
    }
}
