namespace Runway.Notifications;

/// <summary>
/// What notifications need of the operator: where Runway is reached from outside (<c>Runway:PublicUrl</c>, for the
/// links in a message), which non-public hosts webhooks may reach (<c>Runway:Webhooks:AllowedHosts</c>) and the SMTP
/// server (<c>Runway:Smtp</c>).
/// </summary>
public sealed class NotifyOptions
{
    /// <summary>The base of the links in webhooks and emails; without it, the first address Runway listens on.</summary>
    public required Uri PublicUrl { get; init; }

    /// <summary>Host names, addresses and networks (CIDR) webhooks may reach besides public addresses; <c>*</c> for any.</summary>
    public IReadOnlyList<string> AllowedHosts { get; init; } = [];

    /// <summary>Domains any address of which users may email besides their account's own (<see cref="EmailRecipients"/>); <c>*</c> for any.</summary>
    public IReadOnlyList<string> AllowedEmailDomains { get; init; } = [];

    /// <summary>How long one webhook request may take.</summary>
    public TimeSpan WebhookTimeout { get; init; } = TimeSpan.FromSeconds(15);

    public SmtpOptions Smtp { get; init; } = new();

    public static NotifyOptions From(IConfiguration configuration)
    {
        var urls = configuration["urls"] ?? RunwayConfiguration.DefaultUrls;
        var publicUrl = configuration["Runway:PublicUrl"] is { Length: > 0 } configured ? configured : urls.Split(';')[0];
        // A wildcard listen address is no address to link to: the machine's name stands in for it.
        publicUrl = publicUrl.Replace("://*", "://" + Environment.MachineName, StringComparison.Ordinal)
            .Replace("://+", "://" + Environment.MachineName, StringComparison.Ordinal)
            .Replace("://0.0.0.0", "://" + Environment.MachineName, StringComparison.Ordinal)
            .Replace("://[::]", "://" + Environment.MachineName, StringComparison.Ordinal);
        if (!Uri.TryCreate(publicUrl.TrimEnd('/') + "/", UriKind.Absolute, out var baseUri) || baseUri.Scheme is not ("http" or "https"))
        {
            throw new InvalidOperationException($"Runway:PublicUrl '{publicUrl}' is not an absolute http(s) URL.");
        }
        return new NotifyOptions
        {
            PublicUrl = baseUri,
            AllowedHosts = ListOf(configuration.GetSection("Runway:Webhooks:AllowedHosts")),
            AllowedEmailDomains = ListOf(configuration.GetSection("Runway:Notify:AllowedEmailDomains")),
            WebhookTimeout = configuration.GetValue("Runway:Webhooks:Timeout", TimeSpan.FromSeconds(15)),
            Smtp = configuration.GetSection("Runway:Smtp").Get<SmtpOptions>() ?? new SmtpOptions(),
        };
    }

    /// <summary>A list (appsettings.json, RUNWAY_Webhooks__AllowedHosts__0) or one string of names separated by commas or spaces.</summary>
    private static List<string> ListOf(IConfigurationSection section) =>
        [.. section.GetChildren().Select(c => c.Value ?? "").Concat((section.Value ?? "").Split([',', ' ', ';'])).Select(h => h.Trim()).Where(h => h.Length > 0)];
}

/// <summary><c>Runway:Smtp</c>: the server email notifications go through; none without a host.</summary>
public sealed class SmtpOptions
{
    public string Host { get; set; } = "";

    /// <summary>0: the mode's usual port (25 for none, 587 for starttls, 465 for tls).</summary>
    public int Port { get; set; }

    /// <summary><c>none</c>, <c>starttls</c> (required, not opportunistic) or <c>tls</c> (implicit, from the first byte).</summary>
    public string Tls { get; set; } = "starttls";

    public string User { get; set; } = "";
    public string Password { get; set; } = "";
    public string From { get; set; } = "";

    public bool Configured => Host.Length > 0;

    public int EffectivePort => Port > 0 ? Port : Tls switch { "none" => 25, "tls" => 465, _ => 587 };
}
