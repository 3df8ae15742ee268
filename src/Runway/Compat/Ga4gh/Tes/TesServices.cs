namespace Runway.Compat.Ga4gh.Tes;

public static class TesServices
{
    public static IServiceCollection AddTes(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(configuration.GetSection(TesOptions.Section).Get<TesOptions>() ?? new TesOptions());
        services.AddSingleton<TesTaskCheck>();
        services.AddSingleton<TesOutputs>();
        services.AddSingleton<TesOutputCollector>();
        // On every node, TES on or off: a task that ended before TES was turned off still has its outputs collected.
        services.AddHostedService<TesOutputWorker>();
        services.AddSingleton<TesTaskView>();
        services.AddSingleton<TesInputFetch>();
        return services;
    }
}
