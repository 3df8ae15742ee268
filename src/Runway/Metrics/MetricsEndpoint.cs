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

    public static void MapRunwayMetrics(this WebApplication app, MetricsOptions options)
    {
        if (!options.Enabled)
        {
            return;
        }
        var sampler = app.Services.GetRequiredService<MetricsSampler>();
        RunwayMetrics.Observe(() => sampler.Fresh);
        var endpoint = app.MapPrometheusScrapingEndpoint("/metrics").ExcludeFromDescription();
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
