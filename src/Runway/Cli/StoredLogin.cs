using System.Text.Json;

namespace Runway.Cli;

/// <summary>
/// What <c>runway login</c> saves: one server and a personal token for it, in
/// <c>$XDG_CONFIG_HOME/runway/credentials</c> (else <c>~/.config/runway/credentials</c>), readable by its owner only.
/// </summary>
internal sealed record StoredLogin(string Server, string Token, string? Username = null, string? TokenId = null)
{
    public static string? PathFor(Func<string, string?> environment)
    {
        var config = environment("XDG_CONFIG_HOME") is { Length: > 0 } xdg ? xdg
            : environment("HOME") is { Length: > 0 } home ? System.IO.Path.Combine(home, ".config")
            : null;
        return config is null ? null : System.IO.Path.Combine(config, "runway", "credentials");
    }

    public static StoredLogin? Read(Func<string, string?> environment)
    {
        try
        {
            return PathFor(environment) is { } path && File.Exists(path)
                ? JsonSerializer.Deserialize<StoredLogin>(File.ReadAllText(path), RunwayClient.Json)
                : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            return null;
        }
    }

    /// <summary>Writes a new file created with mode 0600 (never widened then narrowed), then moves it over the old one.</summary>
    public void Write(string path)
    {
        var directory = System.IO.Path.GetDirectoryName(path)!;
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory);
        }
        else
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        var temporary = path + ".tmp";
        File.Delete(temporary);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        using (var file = new FileStream(temporary, options))
        {
            JsonSerializer.Serialize(file, this, RunwayClient.Json);
        }
        File.Move(temporary, path, overwrite: true);
    }

    public bool IsFor(Uri server) => Uri.TryCreate(CliGlobals.ParseServer(Server).ToString(), UriKind.Absolute, out var stored) && stored == server;
}
