using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Runway.Cli;

/// <summary>
/// What the process gives the CLI: its writers, environment, clock and HTTP handler. Tests build one with
/// string writers and a fake handler; <see cref="Cli.RunAsync(string[], TextWriter, TextWriter, CancellationToken, Func{string[], CancellationToken, Task{int}}?)"/> builds the real one.
/// </summary>
internal sealed record CliHost(
    TextWriter Out,
    TextWriter Error,
    bool ErrorIsTerminal,
    Func<string, string?> Environment,
    Func<HttpMessageHandler> Handler,
    TimeProvider Clock,
    Func<string[], CancellationToken, Task<int>>? Serve = null,
    Func<TextReader>? Input = null);

/// <summary>Everything a verb needs once the global options are parsed.</summary>
internal sealed class CliContext(CliHost host, RunwayClient client, bool json) : IDisposable
{
    private static readonly JsonSerializerOptions Indented = new()
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public RunwayClient Client => client;
    public TextWriter Out => host.Out;
    public TextWriter Error => host.Error;
    public bool ErrorIsTerminal => host.ErrorIsTerminal;
    public bool Json => json;
    public TimeProvider Clock => host.Clock;

    public ProgressLine Progress(string label, long? total) => new(host.Error, host.ErrorIsTerminal, host.Clock, label, total);

    public void WriteJson(JsonNode node) => Out.WriteLine(node.ToJsonString(Indented));

    public void Dispose() => client.Dispose();
}
