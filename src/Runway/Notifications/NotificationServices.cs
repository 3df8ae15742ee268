namespace Runway.Notifications;

public static class NotificationServices
{
    /// <summary>Notifications (README, "Notifications"): checked at submission, delivered from the outbox by every node.</summary>
    public static IServiceCollection AddRunwayNotifications(this IServiceCollection services, IConfiguration configuration)
    {
        var options = NotifyOptions.From(configuration);
        services.AddSingleton(options);
        services.AddSingleton(new WebhookAddresses(options.AllowedHosts));
        services.AddSingleton(new EmailRecipients(options.AllowedEmailDomains));
        services.AddSingleton<WebhookSender>();
        services.AddSingleton<EmailSender>();
        services.AddSingleton<NotifySettingsStore>();
        services.AddSingleton<NotifyTargets>();
        services.AddSingleton<NotificationOutbox>();
        services.AddSingleton<NotificationDelivery>();
        services.AddHostedService<NotificationWorker>();
        return services;
    }
}
