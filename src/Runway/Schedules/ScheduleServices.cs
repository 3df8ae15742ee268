namespace Runway.Schedules;

public static class ScheduleServices
{
    /// <summary>The firer and the loop, on every node (PostgreSQL's nodes fire each time once between them: <see cref="ScheduleFirer"/>).</summary>
    public static IServiceCollection AddRunwaySchedules(this IServiceCollection services)
    {
        services.AddSingleton<ScheduleFirer>();
        services.AddSingleton<ScheduleLoop>();
        services.AddHostedService(sp => sp.GetRequiredService<ScheduleLoop>());
        return services;
    }
}
