using System.CommandLine;
using System.Net.Http.Headers;
using System.Text;

namespace Runway.Cli;

/// <summary>
/// <c>runway login</c>: trades a user name and password (HTTP Basic, once) for a personal token and stores it
/// with the server's URL, so later verbs need neither <c>--token</c> nor RUNWAY_TOKEN. <c>runway logout</c> forgets it.
/// </summary>
internal static class LoginVerb
{
    public static Command Command(CliGlobals globals, CliHost host)
    {
        var user = new Option<string?>("--user", "-u") { Description = "Your user name (asked when missing)", HelpName = "name" };
        var stdin = new Option<bool>("--password-stdin") { Description = "Read the password from standard input" };
        var days = new Option<int?>("--expires-in-days") { Description = "Let the stored token expire (default: never; revoke with `runway logout`)", HelpName = "days" };
        var command = new Command("login", "Log in to a server and store a token for the other verbs (file readable only by you)") { user, stdin, days };
        command.SetVerb(globals, async (context, parse, ct) =>
        {
            if (StoredLogin.PathFor(host.Environment) is not { } path)
            {
                await context.Error.WriteLineAsync("runway: neither XDG_CONFIG_HOME nor HOME is set: nowhere to store the login");
                return ExitCodes.Error;
            }
            var server = globals.ServerUri(parse);
            CreatedToken token;
            string username;
            if (parse.GetValue(globals.Token) is { Length: > 0 } given)
            {
                // An existing token (--token or RUNWAY_TOKEN) is checked and stored as it is.
                username = (await context.Client.GetMeAsync(ct)).Value.Username;
                token = new CreatedToken("", "given", given);
            }
            else
            {
                username = parse.GetValue(user) ?? await PromptAsync(host, "Username: ", ct);
                var password = parse.GetValue(stdin) ? await ReadLineAsync(host, ct) : await PromptSecretAsync(host, "Password: ", ct);
                var basic = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{username}:{password}")));
                token = (await context.Client.CreateTokenAsync($"runway login on {Environment.MachineName}", parse.GetValue(days), basic, ct)).Value;
            }
            new StoredLogin(server.ToString(), token.Token, username, token.Id is { Length: > 0 } id ? id : null).Write(path);
            await context.Out.WriteLineAsync($"logged in to {server} as {username}; token stored in {path}");
            return 0;
        });
        return command;
    }

    public static Command Logout(CliHost host)
    {
        var command = new Command("logout", "Revoke the stored token and forget it");
        command.SetAction(async (parse, ct) =>
        {
            if (StoredLogin.PathFor(host.Environment) is not { } path || StoredLogin.Read(host.Environment) is not { } login)
            {
                await host.Out.WriteLineAsync("not logged in");
                return 0;
            }
            if (login.TokenId is { } id)
            {
                try
                {
                    using var client = new RunwayClient(CliGlobals.ParseServer(login.Server), login.Token, host.Handler());
                    await client.RevokeTokenAsync(id, ct);
                }
                catch (Exception e) when (e is HttpRequestException or RunwayApiException)
                {
                    await host.Error.WriteLineAsync($"runway: could not revoke the token on {login.Server} ({e.Message}); forgetting it anyway");
                }
            }
            File.Delete(path);
            await host.Out.WriteLineAsync($"logged out of {login.Server}");
            return 0;
        });
        return command;
    }

    private static async Task<string> PromptAsync(CliHost host, string prompt, CancellationToken ct)
    {
        await host.Error.WriteAsync(prompt);
        return await ReadLineAsync(host, ct);
    }

    private static async Task<string> ReadLineAsync(CliHost host, CancellationToken ct) =>
        (await (host.Input?.Invoke() ?? TextReader.Null).ReadLineAsync(ct) ?? "").TrimEnd('\r', '\n');

    /// <summary>At a terminal the password is read without echo; from a pipe it is one line.</summary>
    private static async Task<string> PromptSecretAsync(CliHost host, string prompt, CancellationToken ct)
    {
        if (!host.ErrorIsTerminal || Console.IsInputRedirected)
        {
            return await PromptAsync(host, prompt, ct);
        }
        await host.Error.WriteAsync(prompt);
        var password = new StringBuilder();
        while (Console.ReadKey(intercept: true) is var key && key.Key != ConsoleKey.Enter)
        {
            if (key.Key == ConsoleKey.Backspace)
            {
                password.Length = Math.Max(0, password.Length - 1);
            }
            else if (!char.IsControl(key.KeyChar))
            {
                password.Append(key.KeyChar);
            }
        }
        await host.Error.WriteLineAsync();
        return password.ToString();
    }
}
