using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.RateLimiting;
using Runway.Logging;

namespace Runway.Auth;

public static class AuthServiceCollectionExtensions
{
    public const string TokenEndpointLimit = "oauth-token";

    /// <summary>
    /// Anyone, with or without credentials, yet credentials are still read (unlike AllowAnonymous, which skips them):
    /// for a public document that tells an identified caller more (WES service-info: the caller's state counts;
    /// /readyz: how runs are isolated and limited, for an admin).
    /// </summary>
    public const string AnyonePolicy = "anyone";

    /// <summary>
    /// Accounts and the services behind them, without HTTP: what the server and the CLI's
    /// <c>users</c>/<c>clients</c> verbs share.
    /// </summary>
    public static IServiceCollection AddRunwayAccounts(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.GetSection(AuthOptions.Section).Get<AuthOptions>() ?? new AuthOptions();
        services.AddSingleton(options);
        services.AddSingleton<Passwords>();
        services.AddSingleton<Accounts>();
        services.AddSingleton<GrantCache>();
        services.AddSingleton<Tokens>();
        services.AddSingleton<Clients>();
        services.AddSingleton(sp => new AuditSyslog(configuration[AuditSyslog.Setting],
            sp.GetService<ILoggerFactory>()?.CreateLogger<AuditSyslog>() ?? (ILogger)Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance));
        services.AddSingleton<AuditTrail>();
        return services;
    }

    /// <summary>The one authentication scheme, a scope policy per scope, and authentication required by default.</summary>
    public static IServiceCollection AddRunwayAuth(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddRunwayAccounts(configuration);
        services.AddHostedService(sp => sp.GetRequiredService<AuditSyslog>());
        services.AddSingleton<LoginThrottle>();
        services.AddSingleton<PasswordLogin>();
        services.AddKeyedSingleton<LoginThrottle>(LoginThrottle.Clients);
        services.AddAuthentication(RunwayAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, RunwayAuthenticationHandler>(RunwayAuthenticationHandler.SchemeName, null)
            .AddCookie(SignInCookie.Scheme, SignInCookie.Configure);
        var authorization = services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build());
        authorization.AddPolicy(AnyonePolicy, p => p.RequireAssertion(_ => true));
        foreach (var scope in Scopes.All)
        {
            authorization.AddPolicy(scope, p => p.RequireAuthenticatedUser().RequireClaim(Scopes.ClaimType, scope));
        }
        services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.AddPolicy(TokenEndpointLimit, http => RateLimitPartition.GetFixedWindowLimiter(
                http.Connection.RemoteIpAddress?.ToString() ?? "unknown",
                _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = Math.Max(1, http.RequestServices.GetRequiredService<AuthOptions>().TokenRequestsPerMinute),
                    Window = TimeSpan.FromMinutes(1),
                }));
            limiter.OnRejected = async (context, ct) =>
            {
                context.HttpContext.Response.Headers.RetryAfter = "60";
                await context.HttpContext.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = context.HttpContext,
                    ProblemDetails = new ProblemDetails
                    {
                        Type = "https://www.rfc-editor.org/rfc/rfc6585#section-4",
                        Status = StatusCodes.Status429TooManyRequests,
                        Title = "Too many requests",
                        Detail = "too many token requests from this address; try again in a minute",
                    },
                });
            };
        });
        return services;
    }

    /// <summary>
    /// First start: a database without users gets <c>admin</c>, with RUNWAY_ADMIN_PASSWORD or a generated
    /// password printed once to <paramref name="console"/> (never to the log, which may be shipped elsewhere).
    /// </summary>
    public static async Task EnsureFirstAdminAsync(this IServiceProvider services, string urls, TextWriter console, CancellationToken ct)
    {
        // The first address it listens on, as a client would type it: a wildcard host is this machine.
        var serverUrl = urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? urls;
        foreach (var wildcard in new[] { "://0.0.0.0", "://[::]", "://+", "://*" })
        {
            serverUrl = serverUrl.Replace(wildcard, "://localhost", StringComparison.Ordinal);
        }
        var options = services.GetRequiredService<AuthOptions>();
        var generated = await services.GetRequiredService<Accounts>().EnsureFirstAdminAsync(options.AdminPassword, ct);
        if (generated is null)
        {
            return;
        }
        await console.WriteLineAsync($"""

            Runway created the first user, {Accounts.FirstAdmin}, with this generated password (shown only this once):

                {generated}

            Log in:   runway login --server {serverUrl} --user {Accounts.FirstAdmin}
                      curl --user {Accounts.FirstAdmin}:'{generated}' {serverUrl}/api/v1/me
            Change it: runway users reset-password {Accounts.FirstAdmin}   (on this machine, with serve's --data-dir or --database)
            Set RUNWAY_ADMIN_PASSWORD before the first start to choose it instead.

            """);
    }
}
