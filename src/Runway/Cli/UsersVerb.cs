using System.CommandLine;
using System.Text.Json.Nodes;
using Runway.Auth;

namespace Runway.Cli;

/// <summary><c>runway users add|list|disable|enable|reset-password</c>, on the server machine, against its database.</summary>
internal static class UsersVerb
{
    public static Command Command(CliHost host)
    {
        var users = new Command("users", "Manage accounts on this server machine (reads the server's database directly)");
        users.Subcommands.Add(Add(host));
        users.Subcommands.Add(List(host));
        users.Subcommands.Add(SetEnabled(host, "disable", false, "Disable a user: their password and tokens stop working"));
        users.Subcommands.Add(SetEnabled(host, "enable", true, "Enable a disabled user again"));
        users.Subcommands.Add(ResetPassword(host));
        return users;
    }

    private static Command Add(CliHost host)
    {
        var local = new LocalServer();
        var name = new Argument<string>("username");
        var admin = new Option<bool>("--admin") { Description = "Make the user an admin" };
        var display = new Option<string?>("--display-name") { HelpName = "text" };
        var email = new Option<string?>("--email") { HelpName = "address" };
        var groups = new Option<string[]>("--group") { Description = "A group the user belongs to (repeatable)", HelpName = "name", AllowMultipleArgumentsPerToken = false };
        var stdin = new Option<bool>("--password-stdin") { Description = "Read the password from standard input instead of generating one" };
        var command = new Command("add", "Add a user; prints the generated password once") { name, admin, display, email, groups, stdin };
        local.AddTo(command);
        command.SetAction((parse, ct) => LocalAsync(host, local, parse, async services =>
        {
            var password = parse.GetValue(stdin) ? await ReadPasswordAsync(host, ct) : null;
            var user = new NewUser(parse.GetRequiredValue(name), password, parse.GetValue(admin) ? Roles.Admin : Roles.User,
                parse.GetValue(display), parse.GetValue(email), parse.GetValue(groups) ?? []);
            if (Accounts.Validate(user) is { Count: > 0 } errors)
            {
                return await UsageAsync(host, errors);
            }
            var chosen = password ?? Secrets.NewPassword();
            if (await services.GetRequiredService<Accounts>().AddAsync(user, chosen, ct) is null)
            {
                await host.Error.WriteLineAsync($"runway: a user named '{user.Username}' exists");
                return ExitCodes.Error;
            }
            await LocalServer.AuditAsync(services, "user.create", user.Username, ct);
            await host.Out.WriteLineAsync(password is null ? $"added {user.Username} ({user.Role}); password: {chosen}" : $"added {user.Username} ({user.Role})");
            return 0;
        }, ct));
        return command;
    }

    private static Command List(CliHost host)
    {
        var local = new LocalServer();
        var json = new Option<bool>("--json") { Description = "Print JSON instead of a table" };
        var command = new Command("list", "List users") { json };
        local.AddTo(command);
        command.SetAction((parse, ct) => LocalAsync(host, local, parse, async services =>
        {
            var users = await services.GetRequiredService<Accounts>().ListAsync(ct);
            if (parse.GetValue(json))
            {
                var array = new JsonArray([.. users.Select(u => (JsonNode)new JsonObject
                {
                    ["username"] = u.Username, ["role"] = u.Role, ["enabled"] = u.Enabled,
                    ["groups"] = new JsonArray([.. u.GroupList.Select(g => (JsonNode)g)]), ["display_name"] = u.DisplayName, ["email"] = u.Email,
                })]);
                await host.Out.WriteLineAsync(array.ToJsonString());
                return 0;
            }
            var table = new TextTable("USERNAME", "ROLE", "ENABLED", "GROUPS", "NAME");
            foreach (var u in users)
            {
                table.Add(u.Username, u.Role, u.Enabled ? "yes" : "no", string.Join(',', u.GroupList), u.DisplayName);
            }
            await host.Out.WriteAsync(table.ToString());
            return 0;
        }, ct));
        return command;
    }

    private static Command SetEnabled(CliHost host, string verb, bool enabled, string description)
    {
        var local = new LocalServer();
        var name = new Argument<string>("username");
        var command = new Command(verb, description) { name };
        local.AddTo(command);
        command.SetAction((parse, ct) => LocalAsync(host, local, parse, async services =>
        {
            var username = parse.GetRequiredValue(name);
            if (await services.GetRequiredService<Accounts>().UpdateAsync(username, u => u.Enabled = enabled, ct) is null)
            {
                return await NoSuchUserAsync(host, username);
            }
            await LocalServer.AuditAsync(services, enabled ? "user.enable" : "user.disable", username, ct);
            await host.Out.WriteLineAsync($"{username} {(enabled ? "enabled" : "disabled")}");
            return 0;
        }, ct));
        return command;
    }

    private static Command ResetPassword(CliHost host)
    {
        var local = new LocalServer();
        var name = new Argument<string>("username");
        var stdin = new Option<bool>("--password-stdin") { Description = "Read the new password from standard input instead of generating one" };
        var command = new Command("reset-password", "Set a new password; prints the generated one once") { name, stdin };
        local.AddTo(command);
        command.SetAction((parse, ct) => LocalAsync(host, local, parse, async services =>
        {
            var username = parse.GetRequiredValue(name);
            var password = parse.GetValue(stdin) ? await ReadPasswordAsync(host, ct) : null;
            if (password is not null && Passwords.Problem(password) is { } weak)
            {
                return await UsageAsync(host, new() { ["password"] = [weak] });
            }
            var chosen = password ?? Secrets.NewPassword();
            if (await services.GetRequiredService<Accounts>().SetPasswordAsync(username, chosen, ct) is null)
            {
                return await NoSuchUserAsync(host, username);
            }
            await LocalServer.AuditAsync(services, "user.reset_password", username, ct);
            await host.Out.WriteLineAsync(password is null ? $"new password for {username}: {chosen}" : $"password of {username} changed");
            return 0;
        }, ct));
        return command;
    }

    /// <summary>Opens the server's database, runs <paramref name="verb"/>, and turns failures into a message and an exit code.</summary>
    internal static async Task<int> LocalAsync(CliHost host, LocalServer local, ParseResult parse, Func<IServiceProvider, Task<int>> verb, CancellationToken ct)
    {
        try
        {
            await using var services = await local.OpenAsync(parse, ct);
            return await verb(services);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return 130;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            await host.Error.WriteLineAsync($"runway: cannot use the server's database: {e.GetBaseException().Message}");
            return ExitCodes.Error;
        }
    }

    private static async Task<string> ReadPasswordAsync(CliHost host, CancellationToken ct) =>
        (await (host.Input?.Invoke() ?? TextReader.Null).ReadLineAsync(ct) ?? "").TrimEnd('\r', '\n');

    private static async Task<int> UsageAsync(CliHost host, Dictionary<string, string[]> errors)
    {
        foreach (var (field, messages) in errors)
        {
            await host.Error.WriteLineAsync($"runway: {field} {string.Join("; ", messages)}");
        }
        return ExitCodes.Usage;
    }

    private static async Task<int> NoSuchUserAsync(CliHost host, string username)
    {
        await host.Error.WriteLineAsync($"runway: no user named '{username}'");
        return ExitCodes.Error;
    }
}
