using System.CommandLine;
using System.CommandLine.Invocation;

namespace Runway.Cli;

/// <summary>The command-line client: every verb of <c>runway</c> except <c>serve</c>, which Program.cs supplies.</summary>
public static class Cli
{
    private const string Description = "Runway runs analysis pipelines on a Runway server and fetches their logs and outputs.";

    private const string Examples = """
        Examples:
          runway pipelines                                   what can I run?
          runway pipelines wordstats                         its parameters
          ID=$(runway submit wordstats input=@book.txt min_length=3)
          runway wait $ID && runway download $ID             fetch outputs into ./$ID/
          runway list --state running
          runway logs --follow $ID
          runway login --user ana                            store a token for the other verbs
        """;

    /// <param name="serve">
    /// Runs the server; receives the arguments that follow <c>serve</c>. When null, <c>runway serve</c> reports
    /// that this build has no server.
    /// </param>
    public static Task<int> RunAsync(
        string[] args,
        TextWriter stdout,
        TextWriter stderr,
        CancellationToken ct,
        Func<string[], CancellationToken, Task<int>>? serve = null)
    {
        // A progress line is only for a person watching: never into a file or a pipe.
        var errorIsTerminal = ReferenceEquals(stderr, Console.Error) && !Console.IsErrorRedirected;
        var host = new CliHost(
            stdout,
            stderr,
            errorIsTerminal,
            Environment.GetEnvironmentVariable,
            () => new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(10) },
            TimeProvider.System,
            serve,
            () => Console.In);
        return RunAsync(args, host, ct);
    }

    internal static async Task<int> RunAsync(string[] args, CliHost host, CancellationToken ct)
    {
        var root = Build(host);
        // No response files: `@path` is how a file parameter names a local file to upload.
        var parse = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        var invocation = new InvocationConfiguration
        {
            Output = host.Out,
            Error = host.Error,
            EnableDefaultExceptionHandler = false,
            // Ctrl+C is left to the process (and to the server's host for `serve`), not intercepted here.
            ProcessTerminationTimeout = null,
        };
        if (parse.Errors.Count > 0 && parse.Action is ParseErrorAction)
        {
            if (parse.CommandResult.Command == root && parse.UnmatchedTokens.Count == 0)
            {
                // `runway` alone: show what there is to run rather than "required command was not provided".
                await root.Parse(["--help"]).InvokeAsync(invocation, ct);
                return ExitCodes.Usage;
            }
            foreach (var error in parse.Errors)
            {
                await host.Error.WriteLineAsync($"runway: {error.Message}");
            }
            await host.Error.WriteLineAsync($"(see `{CommandPath(parse.CommandResult.Command)} --help`)");
            return ExitCodes.Usage;
        }
        return await parse.InvokeAsync(invocation, ct);
    }

    internal static RootCommand Build(CliHost host)
    {
        var globals = new CliGlobals(host);
        var root = new RootCommand(Description).WithEpilog(Examples);
        foreach (var option in globals.All)
        {
            root.Options.Add(option);
        }
        root.Subcommands.Add(ServeCommand(host));
        root.Subcommands.Add(WorkerCommand(host));
        root.Subcommands.Add(PipelinesVerb.Command(globals));
        root.Subcommands.Add(SubmitVerb.Command(globals));
        root.Subcommands.Add(BatchVerb.Command(globals));
        root.Subcommands.Add(ListVerb.Command(globals));
        root.Subcommands.Add(StatusVerb.Command(globals));
        root.Subcommands.Add(LogsVerb.Command(globals));
        root.Subcommands.Add(WaitVerb.Command(globals));
        root.Subcommands.Add(CancelVerb.Command(globals));
        root.Subcommands.Add(ResubmitVerb.Command(globals));
        root.Subcommands.Add(SchedulesVerb.Command(globals));
        root.Subcommands.Add(UploadVerb.Command(globals));
        root.Subcommands.Add(DownloadVerb.Command(globals));
        root.Subcommands.Add(LoginVerb.Command(globals, host));
        root.Subcommands.Add(LoginVerb.Logout(host));
        root.Subcommands.Add(UsersVerb.Command(host));
        root.Subcommands.Add(ClientsVerb.Command(host));
        root.Subcommands.Add(NodesVerb.Command(globals));
        root.Subcommands.Add(PurgeVerb.Command(globals));
        root.Subcommands.Add(UsageVerb.Command(globals));
        CliHelp.Install(root);
        return root;
    }

    /// <summary>Runs a verb with a bound context and turns any failure into a message and an exit code.</summary>
    internal static void SetVerb(this Command command, CliGlobals globals, Func<CliContext, ParseResult, CancellationToken, Task<int>> verb) =>
        command.SetAction(async (parse, ct) =>
        {
            Uri server;
            try
            {
                server = globals.ServerUri(parse);
            }
            catch (CliUsageException e)
            {
                return CliErrors.Report(e, parse.InvocationConfiguration.Error, new Uri(CliGlobals.DefaultServer));
            }
            using var context = globals.Bind(parse);
            try
            {
                return await verb(context, parse, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return 130;
            }
            catch (Exception e)
            {
                return CliErrors.Report(e, context.Error, server);
            }
        });

    // The server reads these through .NET configuration (RunwayConfiguration), not through this parser.
    private const string ServeSettings = """
        Settings (flag, or environment variable, or the Runway section of appsettings.json):
          --urls URL              RUNWAY_URLS              where to listen [http://127.0.0.1:8080]
          --data-dir DIR          RUNWAY_DATA_DIR          database, uploads, run directories [./runway-data]
          --pipelines DIR         RUNWAY_PIPELINES         pipeline YAML files, reloaded on change [./pipelines]
          --concurrency N         RUNWAY_CONCURRENCY       runs executed at once on this node [processor count]
          --database CONNECTION   RUNWAY_DATABASE          a PostgreSQL connection string [SQLite in the data dir]
          --max-upload-bytes N    RUNWAY_MAX_UPLOAD_BYTES  largest accepted upload [10 GiB]
          --node NAME             RUNWAY_NODE              this node's name in its runs [id kept in data dir]

        Example:
          runway serve --urls http://0.0.0.0:8080 --data-dir /srv/runway --pipelines /srv/pipelines
        """;

    private static Command ServeCommand(CliHost host)
    {
        var serve = new Command("serve", "start the Runway server") { TreatUnmatchedTokensAsErrors = false }.WithEpilog(ServeSettings);
        serve.SetAction(async (parse, ct) =>
        {
            if (host.Serve is null)
            {
                await host.Error.WriteLineAsync("runway: this build has no server; `serve` is not available");
                return ExitCodes.Error;
            }
            var tokens = parse.Tokens.Select(t => t.Value).ToList();
            return await host.Serve([.. tokens.SkipWhile(t => t != "serve").Skip(1)], ct);
        });
        return serve;
    }

    private const string WorkerSettings = """
        A node that executes runs and serves no API or web UI, only /healthz and /readyz on --urls. It shares the
        PostgreSQL database and the data directory (on a file system every node mounts) with the serve nodes.
        It takes the same settings as `runway serve`; --database and --node are required in practice.

        Example:
          runway worker --database postgres://runway@db/runway --data-dir /shared/runway --node hpc-login-2
        """;

    private static Command WorkerCommand(CliHost host)
    {
        var worker = new Command("worker", "start a worker node: runs only, no API or UI (README, \"Several nodes\")") { TreatUnmatchedTokensAsErrors = false }
            .WithEpilog(WorkerSettings + "\n" + ServeSettings);
        worker.SetAction(async (parse, ct) =>
        {
            if (host.Serve is null)
            {
                await host.Error.WriteLineAsync("runway: this build has no server; `worker` is not available");
                return ExitCodes.Error;
            }
            var tokens = parse.Tokens.Select(t => t.Value).ToList();
            // RunwayServer reads the role from configuration: the same host, without the API and the UI.
            return await host.Serve([.. tokens.SkipWhile(t => t != "worker").Skip(1), "--Runway:Role=worker"], ct);
        });
        return worker;
    }

    // Verbs are one level deep; the root is `runway` itself.
    private static string CommandPath(Command command) => command is RootCommand ? "runway" : $"runway {command.Name}";
}
