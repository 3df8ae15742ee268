using System.CommandLine;
using System.Globalization;

namespace Runway.Cli;

/// <summary><c>runway nodes</c>, <c>runway nodes drain NAME</c>, <c>runway nodes undrain NAME</c>: the nodes sharing the server's database (admins).</summary>
internal static class NodesVerb
{
    public static Command Command(CliGlobals globals)
    {
        var nodes = new Command("nodes", "List the nodes that share the server's database: state, executors, capacity, heartbeat (admins)");
        nodes.SetVerb(globals, (context, _, ct) => ListAsync(context, ct));
        nodes.Subcommands.Add(Drain(globals, "drain", true, "Drain a node: it finishes its runs and claims no more"));
        nodes.Subcommands.Add(Drain(globals, "undrain", false, "Let a draining node claim runs again"));
        return nodes;
    }

    private static Command Drain(CliGlobals globals, string verb, bool draining, string description)
    {
        var name = new Argument<string>("name") { Description = "The node's name, as `runway nodes` lists it" };
        var command = new Command(verb, description) { name };
        command.SetVerb(globals, async (context, parse, ct) =>
        {
            var reply = await context.Client.SetDrainingAsync(parse.GetRequiredValue(name), draining, ct);
            if (context.Json)
            {
                context.WriteJson(reply.Json);
            }
            else
            {
                await context.Out.WriteLineAsync($"{reply.Value.Name}: {reply.Value.State}");
            }
            return 0;
        });
        return command;
    }

    public static async Task<int> ListAsync(CliContext context, CancellationToken ct)
    {
        var reply = await context.Client.GetNodesAsync(ct);
        if (context.Json)
        {
            context.WriteJson(reply.Json);
            return 0;
        }
        var now = context.Clock.GetUtcNow();
        var table = new TextTable("NAME", "ROLE", "STATE", "EXECUTORS", "RUNNING", "CAPACITY", "GPUS", "VERSION", "STARTED", "HEARTBEAT");
        foreach (var n in reply.Value.Nodes)
        {
            table.Add(n.Name, n.Role, n.State, string.Join(',', n.Executors), (n.Running ?? 0).ToString(CultureInfo.InvariantCulture),
                n.Capacity.ToString(CultureInfo.InvariantCulture), Gpus(n.Gpus), n.Version, n.StartedAt.ToString("u", CultureInfo.InvariantCulture),
                $"{Math.Max(0, (now - n.HeartbeatAt).TotalSeconds):0}s ago");
        }
        await context.Out.WriteAsync(table.ToString());
        return 0;
    }

    /// <summary>"-" for none, else each id and its run ("free" when none holds it): "0=01JB…,1=free".</summary>
    private static string Gpus(IReadOnlyList<NodeGpuInfo>? gpus) =>
        gpus is not { Count: > 0 } ? "-" : string.Join(',', gpus.Select(g => $"{g.Id}={g.Run ?? "free"}"));
}
