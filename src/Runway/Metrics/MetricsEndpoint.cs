using Microsoft.EntityFrameworkCore;
using OpenTelemetry.Metrics;
using Runway.Auth;
using Runway.Data;
using Runway.Runs;

namespace Runway.Metrics;

/// <summary>The <c>Runway:Metrics</c> settings (README, "Metrics").</summary>
public sealed class MetricsOptions
{
    /// <summary>Serve <c>/metrics</c> at all.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Open to anyone who can reach it (a scraper inside the cluster) instead of behind the admin scope.</summary>
    public bool Anonymous { get; set; }

    /// <summary>
    /// A port of its own for <c>/metrics</c>, on the API's first address's host: then <c>/metrics</c> is served
    /// there only, and that port serves nothing else (a firewall can open it to Prometheus alone).
    /// </summary>
    public int? Port { get; set; }

    /// <summary>How often the gauges read from the database (queue depth, stored bytes) are refreshed.</summary>
    public TimeSpan SampleInterval { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>
/// Reads the database-backed gauges on its own clock, so a scrape (or ten scrapers) never queries the
/// database: one small query per figure each <see cref="MetricsOptions.SampleInterval"/>.
/// </summary>
public sealed class MetricsSampler(IDbContextFactory<RunwayDb> databases, MetricsOptions options, TimeProvider clock, ILogger<MetricsSampler> logger) : BackgroundService
{
    private volatile MetricsSample? last;

    /// <summary>The last sample, or null before the first one or once it is older than three intervals (the database does not answer).</summary>
    public MetricsSample? Fresh => last is { } sample && clock.GetUtcNow() - sample.At <= 3 * options.SampleInterval ? sample : null;

    public async Task<MetricsSample> SampleAsync(CancellationToken ct)
    {
        await using var db = await databases.CreateDbContextAsync(ct);
        var runs = db.Runs.AsNoTracking();
        var queued = await runs.LongCountAsync(r => r.State == RunState.Queued, ct);
        var oldest = await runs.Where(r => r.State == RunState.Queued).OrderBy(r => r.Id).Select(r => (DateTimeOffset?)r.SubmittedAt).FirstOrDefaultAsync(ct);
        var active = await runs.Where(r => r.State == RunState.Running).GroupBy(r => new { r.Node, r.Executor })
            .Select(g => new { g.Key.Node, g.Key.Executor, Count = g.LongCount() }).ToListAsync(ct);
        var storedBytes = await db.Files.SumAsync(f => f.Size, ct);
        var storedFiles = await db.Files.LongCountAsync(ct);
        var now = clock.GetUtcNow();
        var sample = new MetricsSample(now, queued, oldest is { } at ? Math.Max(0, (now - at).TotalSeconds) : 0,
            [.. active.Select(a => (a.Node ?? "", a.Executor, a.Count))], storedBytes, storedFiles);
        last = sample;
        return sample;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.SampleInterval, clock);
        do
        {
            try
            {
                await SampleAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Could not read the metrics' gauges from the database");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}

public static class MetricsEndpoint
{
    private const string Path = "/metrics";

    /// <summary>The server's addresses, and with <see cref="MetricsOptions.Port"/> one more on the first one's host for <c>/metrics</c>.</summary>
    public static string Urls(string urls, MetricsOptions options)
    {
        if (!options.Enabled || options.Port is not { } port)
        {
            return urls;
        }
        var first = new Uri(urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[0].Replace("*", "0.0.0.0", StringComparison.Ordinal).Replace("+", "0.0.0.0", StringComparison.Ordinal));
        return $"{urls};http://{first.Host}:{port.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
    }

    /// <summary>Runway's meter, ASP.NET Core's and Kestrel's, and the runtime's, exported for Prometheus.</summary>
    public static IServiceCollection AddRunwayMetrics(this IServiceCollection services, MetricsOptions options)
    {
        if (!options.Enabled)
        {
            return services;
        }
        services.AddSingleton(options);
        services.AddSingleton<MetricsSampler>();
        services.AddHostedService(sp => sp.GetRequiredService<MetricsSampler>());
        services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(RunwayMetrics.MeterName, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "System.Runtime")
            // No cached answer: a scrape sees every count made before it.
            .AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0));
        return services;
    }

    /// <summary>First in the pipeline, so nothing else (pages, sign-in, a 401) answers on the metrics port.</summary>
    public static void UseRunwayMetricsPort(this WebApplication app, MetricsOptions options)
    {
        if (!options.Enabled)
        {
            return;
        }
        if (options.Port is { } port)
        {
            // By the port the connection came in on (never the Host header, which the client writes): /metrics
            // only there, and nothing else there.
            app.Use((context, next) =>
            {
                var onMetricsPort = context.Connection.LocalPort == port;
                var forMetrics = context.Request.Path.StartsWithSegments(Path, StringComparison.OrdinalIgnoreCase);
                if (onMetricsPort != forMetrics)
                {
                    context.Response.StatusCode = StatusCodes.Status404NotFound;
                    return Task.CompletedTask;
                }
                return next(context);
            });
        }
    }

    public static void MapRunwayMetrics(this WebApplication app, MetricsOptions options)
    {
        if (!options.Enabled)
        {
            return;
        }
        var sampler = app.Services.GetRequiredService<MetricsSampler>();
        RunwayMetrics.Observe(() => sampler.Fresh);
        var endpoint = app.MapPrometheusScrapingEndpoint(Path).ExcludeFromDescription();
        if (options.Anonymous)
        {
            endpoint.AllowAnonymous();
        }
        else
        {
            endpoint.RequireAuthorization(Scopes.Admin);
        }
    }
}
