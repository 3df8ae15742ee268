using System.CommandLine;
using Runway.Auth;

namespace Runway.Cli;

/// <summary><c>runway clients add|list|revoke</c>: OAuth clients, on the server machine, against its database.</summary>
internal static class ClientsVerb
{
    public static Command Command(CliHost host)
    {
        var clients = new Command("clients", "Manage OAuth clients (client credentials) on this server machine");
        clients.Subcommands.Add(Add(host));
        clients.Subcommands.Add(List(host));
        clients.Subcommands.Add(Revoke(host));
        return clients;
    }

    private static Command Add(CliHost host)
    {
        var local = new LocalServer();
        var name = new Argument<string>("name") { Description = "What the client is, e.g. nightly-ingest" };
        var owner = new Option<string>("--owner") { Description = "The user the client acts for", Required = true, HelpName = "username" };
        var scopes = new Option<string[]>("--scope") { Description = $"A scope the client may ask for (repeatable; default: all of the owner's): {Scopes.Format(Scopes.All)}", HelpName = "scope" };
        var command = new Command("add", "Register a client; prints its id and secret (the secret only this once)") { name, owner, scopes };
        local.AddTo(command);
        command.SetAction((parse, ct) => UsersVerb.LocalAsync(host, local, parse, async services =>
        {
            if (await services.GetRequiredService<Accounts>().FindAsync(parse.GetRequiredValue(owner), ct) is not { } user)
            {
                await host.Error.WriteLineAsync($"runway: no user named '{parse.GetValue(owner)}'");
                return ExitCodes.Usage;
            }
            var asked = parse.GetValue(scopes) is { Length: > 0 } s ? s : Scopes.OfRole(user.Role);
            if (Scopes.Unknown(asked) is { Count: > 0 } unknown)
            {
                await host.Error.WriteLineAsync($"runway: unknown scope {string.Join(", ", unknown)}; choose among {Scopes.Format(Scopes.All)}");
                return ExitCodes.Usage;
            }
            var (client, secret) = await services.GetRequiredService<Clients>().AddAsync(parse.GetRequiredValue(name), user.Username, asked, ct);
            await LocalServer.AuditAsync(services, "client.create", client.ClientId, ct);
            await host.Out.WriteLineAsync($"client_id:     {client.ClientId}\nclient_secret: {secret}\nscopes:        {client.Scopes}");
            return 0;
        }, ct));
        return command;
    }

    private static Command List(CliHost host)
    {
        var local = new LocalServer();
        var command = new Command("list", "List clients");
        local.AddTo(command);
        command.SetAction((parse, ct) => UsersVerb.LocalAsync(host, local, parse, async services =>
        {
            var table = new TextTable("CLIENT_ID", "NAME", "OWNER", "SCOPES", "STATE");
            foreach (var c in await services.GetRequiredService<Clients>().ListAsync(ct))
            {
                table.Add(c.ClientId, c.Name, c.Owner, c.Scopes, c.RevokedAt is null ? "active" : "revoked");
            }
            await host.Out.WriteAsync(table.ToString());
            return 0;
        }, ct));
        return command;
    }

    private static Command Revoke(CliHost host)
    {
        var local = new LocalServer();
        var id = new Argument<string>("client-id");
        var command = new Command("revoke", "Revoke a client and every token issued to it") { id };
        local.AddTo(command);
        command.SetAction((parse, ct) => UsersVerb.LocalAsync(host, local, parse, async services =>
        {
            var clientId = parse.GetRequiredValue(id);
            if (!await services.GetRequiredService<Clients>().RevokeAsync(clientId, ct))
            {
                await host.Error.WriteLineAsync($"runway: no client with id '{clientId}'");
                return ExitCodes.Error;
            }
            await LocalServer.AuditAsync(services, "client.revoke", clientId, ct);
            await host.Out.WriteLineAsync($"{clientId} revoked");
            return 0;
        }, ct));
        return command;
    }
}
