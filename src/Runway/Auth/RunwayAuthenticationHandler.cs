using System.Security.Claims;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Runway.Auth;

/// <summary>
/// One scheme for every credential a request may carry: <c>Authorization: Bearer &lt;token&gt;</c> (personal or
/// OAuth-issued), and HTTP Basic with a user name and either the password or one of the user's tokens.
/// Tokens are opaque and looked up by hash; revoking one takes effect on the next request to this server,
/// and within <see cref="GrantCache.Lifetime"/> on another server of the same database. Without an
/// Authorization header, the web UI's sign-in cookie (<see cref="SignInCookie"/>) stands for a person.
/// </summary>
public sealed class RunwayAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    Accounts accounts,
    Tokens tokens,
    PasswordLogin passwords)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "Runway";

    /// <summary>When the presented token expires, so the tokens it makes cannot outlive it.</summary>
    public const string TokenExpiresClaim = "token_expires";
    private const string Throttled = "runway.throttled";
    private const string BadToken = "runway.bad_token";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        // The token endpoint reads Basic as client credentials; anonymous endpoints need no identity at all.
        if (Context.GetEndpoint()?.Metadata.GetMetadata<IAllowAnonymous>() is not null)
        {
            return AuthenticateResult.NoResult();
        }
        var header = Request.Headers.Authorization.ToString();
        var space = header.IndexOf(' ', StringComparison.Ordinal);
        if (space <= 0)
        {
            return header.Length == 0 && SignInCookie.Accepted(Request) ? await CookieAsync() : AuthenticateResult.NoResult();
        }
        var kind = header[..space];
        var value = header[(space + 1)..].Trim();
        var address = Context.Connection.RemoteIpAddress?.ToString();
        var ct = Context.RequestAborted;
        // A token is never throttled: it cannot be guessed, and refusing a valid one would let anyone who shares
        // its address (a proxy, a NAT) lock its owner out. Wrong tokens are not counted either.
        if (kind.Equals("Bearer", StringComparison.OrdinalIgnoreCase))
        {
            return await tokens.ValidateAsync(value, ct) is { } grant
                ? Success(grant.User, grant.Scopes, "token", grant.Token)
                : Failure("bearer", badToken: true);
        }
        if (!kind.Equals("Basic", StringComparison.OrdinalIgnoreCase))
        {
            return AuthenticateResult.NoResult();
        }
        if (DecodeBasic(value) is not var (username, secret))
        {
            return AuthenticateResult.Fail("malformed Basic credentials");
        }
        if (Secrets.LooksLikeToken(secret))
        {
            return await tokens.ValidateAsync(secret, ct) is { } grant && grant.User.Username == username
                ? Success(grant.User, grant.Scopes, "basic-token", grant.Token)
                : Failure("basic-token", username, address);
        }
        // Passwords can be guessed: the same throttled check as the web UI's sign-in form.
        var login = await passwords.TryAsync(username, secret, address, ct);
        if (login.RetryAfter is { } wait)
        {
            Context.Items[Throttled] = wait;
            return AuthenticateResult.Fail("too many failed logins");
        }
        return login.User is { } user
            ? Success(user, Scopes.OfRole(user.Role), "password", null)
            : Failure("password", username, address);
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        // A person at a page signs in and comes back; a program gets the 401 below.
        if (!SignInCookie.IsApi(Request) && Request.Headers.Authorization.Count == 0)
        {
            Response.Redirect("/login?ReturnUrl=" + Uri.EscapeDataString(Request.PathBase + Request.Path + Request.QueryString));
            return;
        }
        if (Context.Items[Throttled] is TimeSpan wait)
        {
            var seconds = LoginThrottle.Seconds(wait);
            Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            await WriteProblemAsync(StatusCodes.Status429TooManyRequests, "Too many failed logins",
                $"too many failed logins for this user or from this address; try again in {seconds} seconds, or use a token",
                "https://www.rfc-editor.org/rfc/rfc6585#section-4");
            return;
        }
        Response.Headers.Append("WWW-Authenticate", "Basic realm=\"runway\", charset=\"UTF-8\"");
        // RFC 6750 §3.1: a presented bearer token that is unknown, revoked or expired is named as such.
        Response.Headers.Append("WWW-Authenticate", Context.Items.ContainsKey(BadToken)
            ? "Bearer realm=\"runway\", error=\"invalid_token\", error_description=\"the token is unknown, revoked or expired\""
            : "Bearer realm=\"runway\"");
        await WriteProblemAsync(StatusCodes.Status401Unauthorized, "Unauthorized",
            "send a token (Authorization: Bearer …) or a user name and password or token (HTTP Basic)");
    }

    /// <summary>The account the cookie names, read again now: a disabled user or a reset password has no session.</summary>
    private async Task<AuthenticateResult> CookieAsync()
    {
        var cookie = await Context.AuthenticateAsync(SignInCookie.Scheme);
        if (cookie.Principal?.Identity?.Name is not { } name
            || await accounts.FindAsync(name, Context.RequestAborted) is not { Enabled: true } user
            || !SignInCookie.IsCurrent(cookie.Principal, user))
        {
            return AuthenticateResult.NoResult();
        }
        return Success(user, Scopes.OfRole(user.Role), "cookie", null);
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        // A person at a page (an admin page, say) gets the rendered 403 page: the status pages fill the empty answer.
        if (SignInCookie.IsPage(Request) && Request.Headers.Authorization.Count == 0)
        {
            Response.StatusCode = StatusCodes.Status403Forbidden;
            return Task.CompletedTask;
        }
        var needed = Context.GetEndpoint()?.Metadata.GetOrderedMetadata<IAuthorizeData>().Select(a => a.Policy).OfType<string>().ToList() ?? [];
        return WriteProblemAsync(StatusCodes.Status403Forbidden, "Forbidden",
            needed.Count > 0 ? $"this credential lacks the scope {string.Join(", ", needed)}" : "this credential may not do this");
    }

    private static AuthenticateResult Success(UserAccount user, IReadOnlyList<string> scopes, string method, ApiToken? token)
    {
        var claims = new List<Claim>
        {
            new(ClaimTypes.Name, user.Username),
            new(ClaimTypes.Role, user.Role),
            new("auth_method", method),
        };
        claims.AddRange(user.GroupList.Select(g => new Claim("group", g)));
        claims.AddRange(scopes.Select(s => new Claim(Scopes.ClaimType, s)));
        if (token is not null)
        {
            claims.Add(new Claim("token_id", token.Id));
            if (token.ExpiresAt is { } expires)
            {
                claims.Add(new Claim(TokenExpiresClaim, expires.ToString("O", System.Globalization.CultureInfo.InvariantCulture)));
            }
            if (token.ClientId is not null)
            {
                claims.Add(new Claim("client_id", token.ClientId));
            }
        }
        var identity = new ClaimsIdentity(claims, SchemeName, ClaimTypes.Name, ClaimTypes.Role);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    private AuthenticateResult Failure(string method, string? username = null, string? address = null, bool badToken = false)
    {
        if (badToken)
        {
            Context.Items[BadToken] = true;
        }
        // The user name and address only: the presented secret is never logged.
        Logger.LogInformation("Failed {Method} login for {User} from {Address}", method, username ?? "(token)", address ?? Context.Connection.RemoteIpAddress?.ToString());
        return AuthenticateResult.Fail("invalid credentials");
    }

    private static (string Username, string Secret)? DecodeBasic(string value)
    {
        try
        {
            var text = Encoding.UTF8.GetString(Convert.FromBase64String(value));
            var colon = text.IndexOf(':', StringComparison.Ordinal);
            return colon > 0 ? (text[..colon], text[(colon + 1)..]) : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private async Task WriteProblemAsync(int status, string title, string detail, string? type = null)
    {
        Response.StatusCode = status;
        var problems = Context.RequestServices.GetRequiredService<IProblemDetailsService>();
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = new ProblemDetails { Type = type, Status = status, Title = title, Detail = detail },
        });
    }
}
