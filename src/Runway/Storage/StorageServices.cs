using Runway.Data;
using Runway.Retention;

namespace Runway.Storage;

/// <summary><c>Runway:Retention</c> and <c>Runway:Quota</c>: the sweep on every node (one at a time sweeps), purges, and the quota.</summary>
public static class StorageServices
{
    public static IServiceCollection AddRunwayStorage(this IServiceCollection services, IConfiguration configuration)
    {
        var retention = configuration.GetSection(RetentionOptions.Section).Get<RetentionOptions>() ?? new RetentionOptions();
        var quota = configuration.GetSection(QuotaOptions.Section).Get<QuotaOptions>() ?? new QuotaOptions();
        var problems = retention.Problems().ToList();
        if (quota.UserBytes < 0 || quota.Groups.Values.Any(g => g.UserBytes < 0))
        {
            problems.Add($"{QuotaOptions.Section}:UserBytes must be 0 (no quota) or a number of bytes");
        }
        if (problems.Count > 0)
        {
            throw new InvalidOperationException(string.Join("; ", problems));
        }
        services.AddSingleton(retention);
        services.AddSingleton(quota);
        services.AddSingleton<StorageUse>();
        services.AddSingleton<StorageQuota>();
        services.AddSingleton<JobLeases>();
        services.AddSingleton<RunFilesPurge>();
        services.AddSingleton<RetentionPolicy>();
        services.AddSingleton<RetentionSweep>();
        services.AddHostedService<RetentionSweeper>();
        return services;
    }
}
