using System.CommandLine;

namespace Runway.Cli;

/// <summary>The options every verb accepts (<c>Recursive</c>, so they may come before or after the verb).</summary>
internal sealed class CliGlobals
{
    public const string DefaultServer = "http://127.0.0.1:8080";

    private readonly CliHost _host;

    public CliGlobals(CliHost host)
    {
        _host = host;
        Server = new Option<string>("--server", "-s")
        {
            Description = "The Runway server's URL [env: RUNWAY_URL, else RUNWAY_SERVER]",
            HelpName = "url",
            Recursive = true,
            DefaultValueFactory = _ => host.Environment("RUNWAY_URL") is { Length: > 0 } url ? url
                : host.Environment("RUNWAY_SERVER") is { Length: > 0 } server ? server
                : StoredLogin.Read(host.Environment)?.Server ?? DefaultServer,
        };
        Json = new Option<bool>("--json") { Description = "Print the server's JSON instead of tables", Recursive = true };
        Token = new Option<string?>("--token")
        {
            Description = "Bearer token sent to the server [env: RUNWAY_TOKEN, else the one `runway login` stored]",
            Recursive = true,
            DefaultValueFactory = _ => host.Environment("RUNWAY_TOKEN"),
        };
    }

    public Option<string> Server { get; }
    public Option<bool> Json { get; }
    public Option<string?> Token { get; }

    public IEnumerable<Option> All => [Server, Json, Token];

    public Uri ServerUri(ParseResult parse) => ParseServer(parse.GetValue(Server) ?? DefaultServer);

    public CliContext Bind(ParseResult parse) =>
        new(_host, new RunwayClient(ServerUri(parse), TokenFor(parse), _host.Handler()), parse.GetValue(Json));

    /// <summary>--token or RUNWAY_TOKEN, else the stored login's token when it was made for this server.</summary>
    public string? TokenFor(ParseResult parse)
    {
        if (parse.GetValue(Token) is { Length: > 0 } token)
        {
            return token;
        }
        var server = ServerUri(parse);
        return StoredLogin.Read(_host.Environment) is { } login && login.IsFor(server) ? login.Token : null;
    }

    /// <summary>Accepts <c>host:port</c> as well as a URL, and keeps a path prefix (a server behind a proxy at <c>/runway/</c>).</summary>
    public static Uri ParseServer(string text)
    {
        var withScheme = text.Contains("://", StringComparison.Ordinal) ? text : "http://" + text;
        if (!Uri.TryCreate(withScheme, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            throw new CliUsageException($"'{text}' is not a server URL (expected something like {DefaultServer})");
        }
        return uri.AbsolutePath.EndsWith('/') ? uri : new Uri(uri + "/");
    }
}
