using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Runway.Cli;
using Runway.Tests.Fakes;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Cli;

/// <summary>
/// The operator verbs (<c>users</c>, <c>clients</c>) on the database of a running server, and <c>login</c>
/// against that server, in process: the CLI's HTTP goes to the test server's handler.
/// </summary>
public sealed class AccountVerbsTests : IAsyncLifetime
{
    private readonly RunwayApp app = new();
    private readonly TempDirectory config = new();
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync()
    {
        _ = app.Server; // starts the server, which creates the schema and the first admin
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        config.Dispose();
        await app.DisposeAsync();
    }

    private async Task<CliRun> RunAsync(string stdin, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var host = new CliHost(stdout, stderr, ErrorIsTerminal: false,
            Environment: name => name == "XDG_CONFIG_HOME" ? config.Path : null,
            Handler: () => app.Server.CreateHandler(),
            Clock: TimeProvider.System,
            Input: () => new StringReader(stdin));
        var code = await Runway.Cli.Cli.RunAsync(args, host, Ct);
        return new CliRun(code, stdout.ToString(), stderr.ToString());
    }

    private async Task<HttpStatusCode> MeAsync(string username, string password)
    {
        using var client = app.CreateClient();
        client.DefaultRequestHeaders.Authorization = RunwayApp.Basic(username, password);
        using var response = await client.GetAsync("/api/v1/me", Ct);
        return response.StatusCode;
    }

    [Fact]
    public async Task Users_AddListDisableResetPassword_OnTheServersDatabase()
    {
        var added = await RunAsync("", "users", "add", "ana", "--group", "lab", "--data-dir", app.DataDirectory);
        var password = added.Out.Trim().Split("password: ")[1];
        var loginWithGenerated = await MeAsync("ana", password);
        var reset = await RunAsync("chosen-password\n", "users", "reset-password", "ana", "--password-stdin", "--data-dir", app.DataDirectory);
        var loginWithChosen = await MeAsync("ana", "chosen-password");
        var disabled = await RunAsync("", "users", "disable", "ana", "--data-dir", app.DataDirectory);
        var loginDisabled = await MeAsync("ana", "chosen-password");
        var list = await RunAsync("", "users", "list", "--data-dir", app.DataDirectory);
        var duplicate = await RunAsync("", "users", "add", "ana", "--data-dir", app.DataDirectory);

        Assert.Equal(0, added.ExitCode);
        Assert.Equal(HttpStatusCode.OK, loginWithGenerated);
        Assert.Equal(0, reset.ExitCode);
        Assert.Equal(HttpStatusCode.OK, loginWithChosen);
        Assert.Equal(0, disabled.ExitCode);
        Assert.Equal(HttpStatusCode.Unauthorized, loginDisabled);
        Assert.Contains(list.Out.Split('\n'), l => l.StartsWith("ana ", StringComparison.Ordinal) && l.Contains("user", StringComparison.Ordinal) && l.Contains(" no ", StringComparison.Ordinal) && l.Contains("lab", StringComparison.Ordinal));
        Assert.Contains(list.Out.Split('\n'), l => l.StartsWith("admin ", StringComparison.Ordinal));
        Assert.Equal(1, duplicate.ExitCode);
    }

    [Fact]
    public async Task Clients_AddListRevoke_AndTheSecretWorksAtTheTokenEndpoint()
    {
        await app.EnsureUserAsync("ana");
        var added = await RunAsync("", "clients", "add", "nightly", "--owner", "ana", "--scope", "runs:read", "--data-dir", app.DataDirectory);
        var fields = added.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(':', 2)).ToDictionary(p => p[0], p => p[1].Trim());
        using var client = app.CreateClient();
        using var issued = await client.PostAsync("/oauth/token", new FormUrlEncodedContent(
            [new("grant_type", "client_credentials"), new("client_id", fields["client_id"]), new("client_secret", fields["client_secret"])]), Ct);
        var list = await RunAsync("", "clients", "list", "--data-dir", app.DataDirectory);
        var revoked = await RunAsync("", "clients", "revoke", fields["client_id"], "--data-dir", app.DataDirectory);
        var listAfter = await RunAsync("", "clients", "list", "--data-dir", app.DataDirectory);

        Assert.Equal(0, added.ExitCode);
        Assert.Equal("runs:read", fields["scopes"]);
        Assert.Equal(HttpStatusCode.OK, issued.StatusCode);
        Assert.Contains("active", list.Out, StringComparison.Ordinal);
        Assert.Equal(0, revoked.ExitCode);
        Assert.Contains("revoked", listAfter.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Login_StoresATokenReadableOnlyByItsOwner_WhichTheOtherVerbsUse()
    {
        await app.EnsureUserAsync("ana");
        var login = await RunAsync(RunwayApp.PasswordOf("ana") + "\n", "login", "--server", "http://localhost", "--user", "ana", "--password-stdin");
        var path = Path.Combine(config.Path, "runway", "credentials");
        var mode = OperatingSystem.IsWindows() ? default : File.GetUnixFileMode(path);
        var list = await RunAsync("", "list", "--json");
        var logout = await RunAsync("", "logout");
        var afterLogout = await RunAsync("", "list", "--server", "http://localhost");

        Assert.True(login.ExitCode == 0, login.Error);
        Assert.Contains("as ana", login.Out, StringComparison.Ordinal);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, mode);
        }
        Assert.True(list.ExitCode == 0, list.Error);
        Assert.Equal(0, logout.ExitCode);
        Assert.False(File.Exists(path));
        Assert.NotEqual(0, afterLogout.ExitCode);
    }

    [Fact]
    public async Task Login_WithAWrongPassword_FailsAndStoresNothing()
    {
        await app.EnsureUserAsync("ana");
        var login = await RunAsync("not-it\n", "login", "--server", "http://localhost", "--user", "ana", "--password-stdin");

        Assert.NotEqual(0, login.ExitCode);
        Assert.False(File.Exists(Path.Combine(config.Path, "runway", "credentials")));
    }
}
