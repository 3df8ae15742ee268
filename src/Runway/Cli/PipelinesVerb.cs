using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;

namespace Runway.Cli;

/// <summary><c>runway pipelines [NAME]</c>: what can be run, and with which parameters.</summary>
internal static class PipelinesVerb
{
    public static Command Command(CliGlobals globals)
    {
        var name = new Argument<string?>("name") { Description = "Show this pipeline and its parameters", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("pipelines", "List the pipelines you may run, or show one with its parameters")
        {
            name,
        }.WithEpilog("Examples:\n  runway pipelines\n  runway pipelines wordstats");
        command.SetVerb(globals, (context, parse, ct) => parse.GetValue(name) is { } one
            ? ShowAsync(context, one, ct)
            : ListAsync(context, ct));
        return command;
    }

    public static async Task<int> ListAsync(CliContext context, CancellationToken ct)
    {
        var reply = await context.Client.GetPipelinesAsync(ct);
        if (context.Json)
        {
            context.WriteJson(reply.Json);
            return 0;
        }
        var table = new TextTable("NAME", "VERSION", "TITLE");
        foreach (var p in reply.Value.Pipelines.OrderBy(p => p.Name, StringComparer.Ordinal))
        {
            table.Add(p.Name, p.Version, p.Title);
        }
        table.WriteTo(context.Out);
        return 0;
    }

    public static async Task<int> ShowAsync(CliContext context, string name, CancellationToken ct)
    {
        var reply = await context.Client.GetPipelineAsync(name, ct);
        if (context.Json)
        {
            context.WriteJson(reply.Json);
            return 0;
        }
        var p = reply.Value;
        var o = context.Out;
        o.WriteLine($"{p.Name} {p.Version}{(p.Title is null ? "" : " — " + p.Title)}");
        if (!string.IsNullOrWhiteSpace(p.Description))
        {
            o.WriteLine();
            o.WriteLine(p.Description.Trim());
        }
        o.WriteLine();
        if (p.Executor is not null)
        {
            o.WriteLine($"executor:   {p.Executor}");
        }
        if (p.Resources is { Count: > 0 })
        {
            o.WriteLine($"resources:  {string.Join(", ", p.Resources.Select(r => $"{r.Key}={Plain(r.Value)}"))}");
        }
        if (p.Outputs is JsonArray { Count: > 0 } outputs)
        {
            o.WriteLine($"outputs:    {string.Join(", ", outputs.Select(Plain))}");
        }
        o.WriteLine();
        ParameterTable(p.Parameters).WriteTo(o);
        o.WriteLine();
        o.WriteLine($"Submit with: runway submit {p.Name} key=value...   (a file parameter takes a file id, or @path to upload)");
        return 0;
    }

    public static TextTable ParameterTable(JsonObject? schema)
    {
        var required = (schema?["required"] as JsonArray)?.Select(r => r?.GetValue<string>()).ToHashSet() ?? [];
        var table = new TextTable("PARAMETER", "TYPE", "REQUIRED", "DEFAULT", "DESCRIPTION");
        foreach (var (name, node) in schema?["properties"] as JsonObject ?? [])
        {
            var property = node as JsonObject;
            table.Add(name, TypeName(property), required.Contains(name) ? "yes" : "no", Plain(property?["default"]), Describe(property));
        }
        return table;
    }

    private static string TypeName(JsonObject? property) =>
        ParameterValues.IsFile(property) ? "file"
        : property?["enum"] is JsonArray ? "enum"
        : ParameterValues.TypeOf(property) ?? "any";

    /// <summary>The description followed by the constraints a user must meet, in brackets.</summary>
    private static string Describe(JsonObject? property)
    {
        var rules = new List<string>();
        if (property?["enum"] is JsonArray values)
        {
            rules.Add("one of " + string.Join(", ", values.Select(Plain)));
        }
        var min = property?["minimum"];
        var max = property?["maximum"];
        if (min is not null && max is not null)
        {
            rules.Add($"{Plain(min)}..{Plain(max)}");
        }
        else if (min is not null)
        {
            rules.Add($">= {Plain(min)}");
        }
        else if (max is not null)
        {
            rules.Add($"<= {Plain(max)}");
        }
        if (property?["pattern"] is { } pattern)
        {
            rules.Add($"matches {Plain(pattern)}");
        }
        var description = Plain(property?["description"]);
        return rules.Count == 0 ? description : $"{description} [{string.Join("; ", rules)}]".TrimStart();
    }

    /// <summary>A JSON value as a person would type it: strings without quotes.</summary>
    internal static string Plain(JsonNode? node) => node switch
    {
        null => "",
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonValue v when v.TryGetValue<double>(out var d) => d.ToString(CultureInfo.InvariantCulture),
        _ => node.ToJsonString(),
    };
}
