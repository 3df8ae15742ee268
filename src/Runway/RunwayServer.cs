using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;
using Runway.Api;
using Runway.Auth;
using Runway.Compat;
using Runway.Compat.Ga4gh.Tes;
using Runway.Data;
using Runway.Execution;
using Runway.Execution.Local;
using Runway.Execution.Slurm;
using Runway.Files;
using Runway.Logging;
using Runway.Metrics;
using Runway.Notifications;
using Runway.Pipelines;
using Runway.Runs;
using Runway.Schedules;
using Runway.Storage;
using Runway.Web;

namespace Runway;

/// <summary>The server's table of contents: one line per feature.</summary>
public static class RunwayServer
{
    public static async Task<WebApplication> BuildAsync(string[] args, CancellationToken cancellationToken)
    {
        // The content root is where runway.dll and its appsettings.json are (the log levels), not the
        // directory it is started from, which only relative paths of settings (--data-dir…) are read against.
        // The slim builder leaves out what Runway does not use (IIS, HTTP/3, the Debug and EventSource log
        // providers): less to load and keep in memory. HTTPS endpoints from configuration stay possible.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        builder.WebHost.UseKestrelHttpsConfiguration();
        builder.Configuration.AddRunwaySettings(args);
        var options = builder.Configuration.GetSection(RunwayOptions.Section).Get<RunwayOptions>() ?? new RunwayOptions();
        builder.Services.AddSingleton(Options.Create(options));
        builder.Services.AddSingleton(options);
        builder.Logging.AddRunwayLogging(options.LogFormat);

        var paths = new RunwayPaths(options.DataDir, options.RunsDirectory);
        paths.CheckRunsDirectory();
        paths.EnsureCreated();
        paths.MakePrivate();
        builder.Services.AddSingleton(paths);
        // `runway worker`: a node that executes runs and serves no API or UI, only its health (README, "Several nodes").
        var worker = builder.Configuration["Runway:Role"] == NodeRoles.Worker;
        // On PostgreSQL the data directory may be shared by several nodes (README, "Several nodes").
        var shared = DatabaseConnection.Parse(options.Database, paths.DataDirectory).Provider == DatabaseProvider.Postgres;
        // Before anything touches the database or the runs: a second server here must stop now.
        var node = NodeIdentity.Acquire(options.Node, paths.DataDirectory, shared);
        builder.Services.AddSingleton(_ => node); // built by a factory, so the container releases the lock at shutdown
        // ASP.NET Core's data protection keys (authentication registers it) belong in the data directory,
        // not in ~/.aspnet: nothing Runway writes may land outside it.
        builder.Services.AddDataProtection().PersistKeysToFileSystem(new DirectoryInfo(Path.Combine(paths.DataDirectory, "keys")));
        builder.Services.AddSingleton(TimeProvider.System);

        if (!worker && options.Metrics is { Enabled: true, Port: not null })
        {
            builder.WebHost.UseUrls(MetricsEndpoint.Urls(builder.Configuration["urls"] ?? RunwayConfiguration.DefaultUrls, options.Metrics));
        }
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = options.MaxUploadBytes + MultipartOverhead);
        builder.Services.ConfigureHttpJsonOptions(o => ConfigureJson(o.SerializerOptions));
        builder.Services.AddCompatViews();
        builder.Services.AddProblemDetails(o => o.CustomizeProblemDetails = ProblemDefaults.Complete);
        builder.Services.AddExceptionHandler<BadRequestExceptionHandler>();
        // Binding failures (a query value of the wrong type, JSON of the wrong shape) reach the handler above,
        // which answers a 400 that says what was wrong instead of an empty one.
        builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        builder.Services.AddOpenApi(o => o.AddDocumentTransformer<OpenApiSecurity>().AddOperationTransformer<OpenApiSecurity>());

        builder.Services.AddRunwayNodes(builder.Configuration);
        builder.Services.AddRunwayData(options.Database, paths.DataDirectory);
        builder.Services.AddRunwayAuth(builder.Configuration);
        builder.Services.AddSingleton(sp => new PipelineCatalog(
            Path.GetFullPath(options.Pipelines), sp.GetRequiredService<ILogger<PipelineCatalog>>()));
        builder.Services.AddRunwayStorage(builder.Configuration);
        builder.Services.AddSingleton<FileStore>();
        builder.Services.AddSingleton<Blobs>();
        builder.Services.AddSingleton<Uploads>();
        builder.Services.AddSingleton<OwnedFiles>();
        builder.Services.AddSingleton<PersonalTokens>();
        builder.Services.AddSingleton<UserAdmin>();
        builder.Services.AddSingleton<ClientAdmin>();
        builder.Services.AddSingleton<AuditQuery>();
        builder.Services.AddSingleton<QueueQuery>();
        builder.Services.AddSingleton<UsageQuery>();
        builder.Services.AddSingleton<QueueReason>();
        builder.Services.AddSingleton<RunCache>();
        builder.Services.AddSingleton<PipelineVersions>();
        builder.Services.AddHostedService<PipelineVersionKeeper>();
        builder.Services.AddSingleton<Submissions>();
        builder.Services.AddRunwayNotifications(builder.Configuration);
        builder.Services.AddSingleton<RunCancel>();
        builder.Services.AddTes(builder.Configuration);
        builder.Services.AddRunwayBatches(builder.Configuration);
        builder.Services.AddSingleton<RunBulkCancel>();
        builder.Services.AddRunwaySchedules();
        builder.Services.AddRunwayExecution(options, node.Name, shared);
        builder.Services.AddHostedService<GpuDemand>();
        builder.Services.AddHostedService<IdleMemoryTrim>();
        if (!worker)
        {
            builder.Services.AddWebUi();
            builder.Services.AddRunwayMetrics(options.Metrics);
        }

        // Only the web UI's cookies (sign-in, antiforgery) are protected with those keys, so the key ring is not
        // loaded at start-up (its hosted service) but on first use by a browser: an API-only server has no key file.
        foreach (var eager in builder.Services.Where(d => d.ServiceType == typeof(IHostedService)
            && d.ImplementationType?.Name == "DataProtectionHostedService").ToList())
        {
            builder.Services.Remove(eager);
        }

        var app = builder.Build();
        await app.Services.MigrateRunwayDatabaseAsync(cancellationToken);
        await app.Services.RegisterNodeAsync(node.Name, paths.DataDirectory, worker ? NodeRoles.Worker : NodeRoles.Serve, shared, cancellationToken);
        if (worker)
        {
            app.MapHealth();
            return app;
        }
        await FirstAdminAsync(app, options, paths, cancellationToken);
        app.Services.GetRequiredService<PipelineCatalog>();

        app.UseRunwayMetricsPort(options.Metrics);
        app.UseExceptionHandler();
        app.UseWebStatusPages();
        app.UseWebUi();
        app.UseRouting();
        app.UseAuthentication();
        app.UseUserLogScope(options.LogFormat);
        app.UseAuthorization();
        app.UseRateLimiter();
        app.MapOpenApi().AllowAnonymous();
        app.MapHealth();
        app.MapOAuth();
        app.MapMe();
        app.MapNotify();
        app.MapTokens();
        app.MapAdmin();
        app.MapUsage();
        app.MapNodes();
        app.MapRetention();
        app.MapPipelines();
        app.MapRuns();
        app.MapTes();
        app.MapBatches();
        app.MapSchedules();
        app.MapRunFiles();
        app.MapFiles();
        app.MapCompatViews();
        app.MapWebUi();
        app.MapRunwayMetrics(options.Metrics);
        return app;
    }

    /// <summary>
    /// Creates the first admin when there is none. Its generated password is shown once on the console, as
    /// text; with JSON logs, whose lines go to a log shipper, it goes to a file only Runway's account can read,
    /// and the log says where.
    /// </summary>
    private static async Task FirstAdminAsync(WebApplication app, RunwayOptions options, RunwayPaths paths, CancellationToken cancellationToken)
    {
        var urls = app.Configuration["urls"] ?? RunwayConfiguration.DefaultUrls;
        if (!RunwayLogging.IsJson(options.LogFormat))
        {
            await app.Services.EnsureFirstAdminAsync(urls, Console.Out, cancellationToken);
            return;
        }
        await using var shown = new StringWriter();
        await app.Services.EnsureFirstAdminAsync(urls, shown, cancellationToken);
        if (shown.GetStringBuilder().Length > 0)
        {
            var file = Path.Combine(paths.DataDirectory, "first-admin-password.txt");
            // Whatever the umask of the host process, and never through a link left where the file goes.
            File.Delete(file);
            var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }
            await using (var written = new FileStream(file, create))
            await using (var text = new StreamWriter(written))
            {
                await text.WriteAsync(shown.ToString().AsMemory(), cancellationToken);
            }
            app.Services.GetRequiredService<ILogger<RunwayOptions>>().LogWarning(
                "Runway created the first user, admin, with a generated password: it is in {PasswordFile}, readable only by Runway's account; delete the file once read", file);
        }
    }

    /// <summary>Room for multipart boundaries and part headers around the largest accepted file.</summary>
    private const long MultipartOverhead = 1024 * 1024;

    public static void ConfigureJson(JsonSerializerOptions json)
    {
        json.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        json.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
        json.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
    }

    /// <summary>
    /// Says once at start how this node isolates, starts or limits runs (<paramref name="aspect"/>): a warning
    /// when it falls short (no isolation, no supervisor, no limits), else information.
    /// </summary>
    private static T LogMode<T>(T chosen, IServiceProvider services, string aspect, string mode, bool fallsShort, string detail)
    {
        var logger = services.GetRequiredService<ILogger<T>>();
        logger.Log(fallsShort ? LogLevel.Warning : LogLevel.Information, "Run {Aspect}: {Mode}: {Detail}", aspect, mode, detail);
        return chosen;
    }

    private static IServiceCollection AddRunwayExecution(this IServiceCollection services, RunwayOptions options, string node, bool shared)
    {
        services.AddSingleton<RunWorkspace>();
        services.AddSingleton(sp =>
        {
            var isolation = RunIsolation.Probe(sp.GetRequiredService<RunwayPaths>().DataDirectory, options.RunAs, sp.GetRequiredService<RunwayPaths>().RunsDirectory);
            return LogMode(isolation, sp, "isolation", isolation.WireName, isolation.Mode == IsolationMode.None, isolation.Detail);
        });
        services.AddSingleton(sp =>
        {
            var start = RunStartPath.Choose(sp.GetRequiredService<RunwayPaths>().DataDirectory, sp.GetRequiredService<RunIsolation>());
            return LogMode(start, sp, "start", start.Supervisor is null ? "chain (unshare, sh, setpriv per run)" : "supervisor", start.Supervisor is null, start.Detail);
        });
        services.AddSingleton(sp =>
        {
            var cgroups = RunCgroups.Probe(options.Limits.Pids > 0 ? options.Limits.Pids : null, node);
            return LogMode(cgroups, sp, "limits", cgroups.WireName, cgroups.Layout == CgroupLayout.None, cgroups.Detail);
        });
        var gpus = GpuPool.Parse(options.Gpus);
        services.AddSingleton(gpus);
        services.AddSingleton<IExecutor>(sp => new LocalExecutor(sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<LocalExecutor>>(),
            sp.GetRequiredService<RunIsolation>(), sp.GetRequiredService<RunStartPath>().Supervisor, sp.GetRequiredService<RunCgroups>(), gpus, node));
        services.AddSingleton(new ClaimableExecutors(options.ExecutorNames, gpus));
        if (options.Slurm.Enabled)
        {
            services.AddSingleton(options.Slurm);
            services.AddSingleton<SlurmCommands>();
            services.AddSingleton<SlurmExecutor>();
            services.AddSingleton<IExecutor>(sp => sp.GetRequiredService<SlurmExecutor>());
        }
        services.AddSingleton(sp => new SchedulerOptions
        {
            Node = node,
            Concurrency = options.EffectiveConcurrency,
            StopGrace = options.StopGrace,
            // Told of work by LISTEN/NOTIFY on PostgreSQL (RunNotifications): the poll is only a safety net there.
            PollInterval = shared ? sp.GetRequiredService<NodeSettings>().PollInterval : new SchedulerOptions().PollInterval,
            LeaseInterval = sp.GetRequiredService<NodeSettings>().HeartbeatInterval,
            // PostgreSQL: runs can be taken over, so a run's process must not outlive its lease (SQLite: it outlives any restart).
            EnforcedLease = shared ? sp.GetRequiredService<NodeSettings>().LeaseTimeout + (2 * sp.GetRequiredService<NodeSettings>().HeartbeatInterval) : null,
        });
        services.AddSingleton<NodeRegistry>();
        services.AddHostedService<NodeHeartbeat>();
        services.AddSingleton<RunScheduler>();
        services.AddHostedService(sp => sp.GetRequiredService<RunScheduler>());
        if (shared)
        {
            services.AddHostedService<RunNotifications>();
        }
        return services;
    }
}
