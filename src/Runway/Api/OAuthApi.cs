using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Runway.Auth;

namespace Runway.Api;

/// <summary>
/// The OAuth 2.0 token endpoint for the client credentials grant (RFC 6749 §4.4). Clients authenticate with
/// <c>client_secret_basic</c> or <c>client_secret_post</c> (§2.3.1); errors are §5.2's JSON, not problem details,
/// because OAuth libraries parse exactly that.
/// </summary>
public static class OAuthApi
{
    public static IEndpointRouteBuilder MapOAuth(this IEndpointRouteBuilder app)
    {
        app.MapPost("/oauth/token", TokenAsync).WithTags("OAuth").AllowAnonymous().DisableAntiforgery()
            .RequireRateLimiting(AuthServiceCollectionExtensions.TokenEndpointLimit)
            .WithSummary("Client credentials grant: form body grant_type=client_credentials (scope optional), client secret by Basic or in the body")
            .Accepts<TokenRequest>("application/x-www-form-urlencoded")
            .Produces<TokenResponse>().Produces<OAuthError>(StatusCodes.Status400BadRequest).Produces<OAuthError>(StatusCodes.Status401Unauthorized);
        return app;
    }

    public static async Task<Results<JsonHttpResult<TokenResponse>, JsonHttpResult<OAuthError>, ProblemHttpResult>> TokenAsync(
        HttpContext http, Clients clients, Accounts accounts, Tokens tokens, [FromKeyedServices(LoginThrottle.Clients)] LoginThrottle throttle, AuthOptions options,
        AuditTrail audit, TimeProvider clock, CancellationToken ct)
    {
        http.Response.Headers.CacheControl = "no-store";
        http.Response.Headers.Pragma = "no-cache";
        if (!http.Request.HasFormContentType)
        {
            return Error("invalid_request", "send the parameters as application/x-www-form-urlencoded");
        }
        var form = await http.Request.ReadFormAsync(ct);
        var basic = BasicCredentials(http.Request.Headers.Authorization.ToString());
        var posted = form.TryGetValue("client_secret", out var postedSecret) ? (Id: form["client_id"].ToString(), Secret: postedSecret.ToString()) : ((string Id, string Secret)?)null;
        if (basic is not null && posted is not null)
        {
            return Error("invalid_request", "authenticate the client one way only: Basic or client_secret in the body");
        }
        if (string.IsNullOrEmpty(form["grant_type"]))
        {
            return Error("invalid_request", "grant_type is required");
        }
        var address = http.Connection.RemoteIpAddress?.ToString();
        var presented = basic ?? posted;
        // RFC 6749 has no error for this; the endpoint's rate limiter answers 429 as problem details, and so does this.
        if (presented is { } attempt && throttle.RetryAfter(attempt.Id, address) is { } wait)
        {
            var seconds = LoginThrottle.Seconds(wait);
            http.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return TypedResults.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many failed client logins",
                detail: $"too many failed attempts for this client or from this address; try again in {seconds} seconds",
                type: "https://www.rfc-editor.org/rfc/rfc6585#section-4");
        }
        if (presented is not var (clientId, secret)
            || await clients.VerifyAsync(clientId, secret, ct) is not { } client
            || await accounts.FindAsync(client.Owner, ct) is not { Enabled: true } owner)
        {
            if (presented is { } p)
            {
                throttle.RecordFailure(p.Id, address);
            }
            // RFC 6749 requires the challenge when the client tried Basic; HTTP requires one on every 401.
            http.Response.Headers.WWWAuthenticate = "Basic realm=\"runway\"";
            return Error("invalid_client", "unknown client, wrong secret, or no client authentication", StatusCodes.Status401Unauthorized);
        }
        throttle.RecordSuccess(clientId, address);
        if (form["grant_type"] != "client_credentials")
        {
            return Error("unsupported_grant_type", "only grant_type=client_credentials is supported");
        }
        var allowed = Scopes.Parse(client.Scopes).Intersect(Scopes.OfRole(owner.Role), StringComparer.Ordinal).ToList();
        var requested = form.ContainsKey("scope") ? Scopes.Parse(form["scope"]) : allowed;
        if (requested.Count == 0 || requested.Except(allowed, StringComparer.Ordinal).Any())
        {
            return Error("invalid_scope", $"this client may ask for: {Scopes.Format(allowed)}");
        }
        var (_, token) = await tokens.IssueAsync(owner.Username, $"client {client.Name}", requested, clock.GetUtcNow() + options.ClientTokenLifetime, client.ClientId, ct);
        await audit.RecordAsync(owner.Username, "client.token", client.ClientId, address, ct);
        return TypedResults.Json(new TokenResponse(token, "Bearer", (long)options.ClientTokenLifetime.TotalSeconds, Scopes.Format(requested)));
    }

    private static JsonHttpResult<OAuthError> Error(string error, string description, int status = StatusCodes.Status400BadRequest) =>
        TypedResults.Json(new OAuthError(error, description), statusCode: status);

    /// <summary>RFC 6749 §2.3.1: the id and secret are form-urlencoded before they are joined and base64-encoded.</summary>
    private static (string Id, string Secret)? BasicCredentials(string header)
    {
        if (!header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        try
        {
            var text = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim()));
            var colon = text.IndexOf(':', StringComparison.Ordinal);
            return colon < 0 ? null : (FormDecode(text[..colon]), FormDecode(text[(colon + 1)..]));
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static string FormDecode(string value) => Uri.UnescapeDataString(value.Replace('+', ' '));
}

public sealed record TokenRequest(string GrantType, string? Scope, string? ClientId, string? ClientSecret);

public sealed record TokenResponse(string AccessToken, string TokenType, long ExpiresIn, string Scope);

public sealed record OAuthError(string Error, string ErrorDescription);
