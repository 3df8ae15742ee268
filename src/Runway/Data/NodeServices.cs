using Microsoft.EntityFrameworkCore;
using Runway.Execution.Local;

namespace Runway.Data;

/// <summary>The settings and the start-up step of a node among several (README, "Several nodes").</summary>
public static class NodeServices
{
    /// <summary><c>Runway:Nodes</c> (<see cref="NodeSettings"/>), this process's <see cref="NodeLease"/>, and <c>Runway:Limits</c> (<see cref="UserRunLimits"/>).</summary>
    public static IServiceCollection AddRunwayNodes(this IServiceCollection services, IConfiguration configuration)
    {
        var settings = configuration.GetSection(NodeSettings.Section).Get<NodeSettings>() ?? new NodeSettings();
        if (settings.HeartbeatInterval <= TimeSpan.Zero || settings.LeaseTimeout < 2 * settings.HeartbeatInterval)
        {
            throw new NodeInUseException(
                $"{NodeSettings.Section}:LeaseTimeout ({settings.LeaseTimeout}) must be at least twice HeartbeatInterval ({settings.HeartbeatInterval}): "
                + "a node would lose its runs between two heartbeats");
        }
        services.AddSingleton(settings);
        services.AddSingleton(NodeLease.New(settings.LeaseTimeout));
        var limits = configuration.GetSection(UserRunLimits.Section).Get<UserRunLimits>() ?? new UserRunLimits();
        services.AddSingleton(limits);
        return services;
    }

    /// <summary>
    /// Checks that a node on PostgreSQL sees the shared data directory (<see cref="SharedDirectory"/>), then registers
    /// this node under its name, or throws <see cref="NodeInUseException"/>.
    /// </summary>
    public static async Task RegisterNodeAsync(this IServiceProvider services, string name, string dataDirectory, string role, bool shared, CancellationToken ct)
    {
        if (shared)
        {
            await SharedDirectory.CheckAsync(services.GetRequiredService<IDbContextFactory<RunwayDb>>(), dataDirectory, services.GetRequiredService<TimeProvider>(), ct);
        }
        var options = services.GetRequiredService<RunwayOptions>();
        var version = typeof(NodeServices).Assembly.GetName().Version?.ToString(3) ?? "";
        await services.GetRequiredService<NodeRegistry>().ClaimAsync(name, dataDirectory, ct,
            new NodeDescription(role, options.ExecutorNames, options.EffectiveConcurrency, version,
                services.GetService<GpuPool>() is { } gpus ? NodeGpus.Serialize(gpus.Use) : null));
    }
}
