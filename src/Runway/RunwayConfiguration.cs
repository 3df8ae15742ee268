namespace Runway;

/// <summary>
/// Maps Runway's documented environment variables and flags onto configuration keys, so that
/// <c>RUNWAY_DATA_DIR=/srv/runway</c> and <c>--data-dir /srv/runway</c> both set <c>Runway:DataDir</c>.
/// Precedence, lowest first: appsettings.json, RUNWAY_* variables, command-line flags.
/// </summary>
public static class RunwayConfiguration
{
    public const string DefaultUrls = "http://127.0.0.1:8080";

    private static readonly (string? Flag, string Env, string Key)[] Settings =
    [
        ("--urls", "RUNWAY_URLS", "urls"),
        ("--data-dir", "RUNWAY_DATA_DIR", "Runway:DataDir"),
        ("--runs-dir", "RUNWAY_RUNS_DIRECTORY", "Runway:RunsDirectory"),
        ("--pipelines", "RUNWAY_PIPELINES", "Runway:Pipelines"),
        ("--concurrency", "RUNWAY_CONCURRENCY", "Runway:Concurrency"),
        ("--database", "RUNWAY_DATABASE", "Runway:Database"),
        ("--node", "RUNWAY_NODE", "Runway:Node"),
        ("--max-upload-bytes", "RUNWAY_MAX_UPLOAD_BYTES", "Runway:MaxUploadBytes"),
        ("--run-as", "RUNWAY_RUN_AS", "Runway:RunAs"),
        ("--log-format", "RUNWAY_LOG_FORMAT", "Runway:LogFormat"),
        // No flag: a password on the command line would show in `ps`.
        (null, "RUNWAY_ADMIN_PASSWORD", "Runway:Auth:AdminPassword"),
    ];

    public static void AddRunwaySettings(this ConfigurationManager configuration, string[] args)
    {
        var fromEnvironment = new Dictionary<string, string?>();
        foreach (var (_, env, key) in Settings)
        {
            if (Environment.GetEnvironmentVariable(env) is { Length: > 0 } value)
            {
                fromEnvironment[key] = value;
            }
        }
        configuration.AddInMemoryCollection(fromEnvironment);
        configuration.AddCommandLine(args, Settings.Where(s => s.Flag is not null).ToDictionary(s => s.Flag!, s => s.Key));
        if (string.IsNullOrEmpty(configuration["urls"]))
        {
            configuration["urls"] = DefaultUrls;
        }
    }
}
