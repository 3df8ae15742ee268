using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Runway.Api;
using Runway.Auth;
using Runway.Notifications;

namespace Runway.Web.Pages.Account;

/// <summary>Who I am, my groups, and my personal API tokens, through <see cref="PersonalTokens"/> as /api/v1/tokens.</summary>
public sealed class IndexModel(Accounts accounts, PersonalTokens tokens, NotifySettingsStore notifySettings, NotifyTargets notifyTargets) : PageModel
{
    public const int PageSize = 50;

    [FromQuery(Name = "cursor")]
    public string? Cursor { get; set; }

    public UserAccount Account { get; private set; } = null!;

    public IReadOnlyList<string> MyScopes => Caller.ScopesOf(User);

    public TokenPage Tokens { get; private set; } = new([], null);

    /// <summary>The token just made, with its secret: on this answer only.</summary>
    public TokenCreation? Created { get; private set; }

    public string? Revoked { get; private set; }

    public string? Problem { get; private set; }

    /// <summary>What the create form shows after a refusal.</summary>
    public string NewName { get; private set; } = "";

    public IReadOnlyList<string> NewScopes { get; private set; } = [];

    public string NewExpiry { get; private set; } = "";

    /// <summary>Notification defaults and the webhook signing secret (as /api/v1/me/notify).</summary>
    public Data.NotifySettings Notify { get; private set; } = null!;

    public NotifyRequest NotifyDefaults => NotifySettingsStore.Defaults(Notify);

    public Dictionary<string, string[]> NotifyErrors { get; } = [];

    public string? NotifySaved { get; private set; }

    public async Task<IActionResult> OnGetAsync(string? revoked, CancellationToken cancellationToken)
    {
        Revoked = revoked;
        return await ShowAsync(StatusCodes.Status200OK, cancellationToken);
    }

    public async Task<IActionResult> OnPostCreateAsync(string? name, List<string>? scopes, string? expiresInDays, CancellationToken cancellationToken)
    {
        NewName = name ?? "";
        NewScopes = scopes ?? [];
        NewExpiry = expiresInDays ?? "";
        int? days = null;
        if (!string.IsNullOrWhiteSpace(expiresInDays))
        {
            if (!int.TryParse(expiresInDays, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var parsed))
            {
                Created = new TokenCreation(Errors: new() { ["expires_in_days"] = ["must be a whole number of days"] });
                return await ShowAsync(StatusCodes.Status422UnprocessableEntity, cancellationToken);
            }
            days = parsed;
        }
        var request = new CreateTokenRequest(name, scopes is { Count: > 0 } ? scopes : [], days, null);
        Created = await tokens.CreateAsync(User, request, Audit.AddressOf(HttpContext), cancellationToken);
        if (Created.Token is null)
        {
            Problem = Created.Forbidden;
            return await ShowAsync(Created.Forbidden is null ? StatusCodes.Status422UnprocessableEntity : StatusCodes.Status403Forbidden, cancellationToken);
        }
        NewName = "";
        NewScopes = [];
        NewExpiry = "";
        // The secret is in this answer only: no cache may keep it.
        Response.Headers.CacheControl = "no-store";
        return await ShowAsync(StatusCodes.Status201Created, cancellationToken);
    }

    public async Task<IActionResult> OnPostNotifyAsync(string? email, string? webhook, CancellationToken cancellationToken)
    {
        var defaults = new NotifyRequest(
            (email ?? "").Split([',', ';', ' ', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries),
            string.IsNullOrWhiteSpace(webhook) ? null : webhook.Trim());
        if (!await notifyTargets.CheckAsync(defaults, Caller.NameOf(User), "notify", NotifyErrors, cancellationToken))
        {
            return await ShowAsync(StatusCodes.Status422UnprocessableEntity, cancellationToken);
        }
        await notifySettings.SetDefaultsAsync(Caller.NameOf(User), defaults, cancellationToken);
        NotifySaved = "Notification defaults saved.";
        return await ShowAsync(StatusCodes.Status200OK, cancellationToken);
    }

    public async Task<IActionResult> OnPostRotateSecretAsync(CancellationToken cancellationToken)
    {
        await notifySettings.RotateSecretAsync(Caller.NameOf(User), cancellationToken);
        NotifySaved = "A new webhook signing secret is in use from now on.";
        return await ShowAsync(StatusCodes.Status200OK, cancellationToken);
    }

    public string? NotifyErrorOf(string field) =>
        string.Join(" ", NotifyErrors.Where(e => e.Key == field || e.Key.StartsWith(field + "[", StringComparison.Ordinal)).SelectMany(e => e.Value)) is { Length: > 0 } text ? text : null;

    public async Task<IActionResult> OnPostRevokeAsync(string id, CancellationToken cancellationToken) =>
        await tokens.RevokeAsync(User, id, Audit.AddressOf(HttpContext), cancellationToken) switch
        {
            TokenRevocation.Revoked => Redirect($"/account?revoked={Uri.EscapeDataString(id)}"),
            TokenRevocation.Forbidden => StatusCode(StatusCodes.Status403Forbidden),
            _ => NotFound(),
        };

    public string? ErrorOf(string field) => Created?.Errors is { } errors && errors.TryGetValue(field, out var messages) ? string.Join(" ", messages) : null;

    public bool Checked(string scope) => NewScopes.Count == 0 || NewScopes.Contains(scope);

    public string Link(string? cursor) => string.IsNullOrEmpty(cursor) ? "/account" : $"/account?cursor={Uri.EscapeDataString(cursor)}";

    private async Task<IActionResult> ShowAsync(int status, CancellationToken cancellationToken)
    {
        if (await accounts.FindAsync(Caller.NameOf(User), cancellationToken) is not { } account)
        {
            return NotFound();
        }
        Account = account;
        Notify = await notifySettings.GetOrCreateAsync(account.Username, cancellationToken);
        // The secret is on this page: no cache may keep it.
        Response.Headers.CacheControl = "no-store";
        Tokens = await tokens.PageAsync(User, null, PageSize, Cursor, cancellationToken);
        if (Tokens.Errors is not null)
        {
            Problem ??= "This page link is not valid any more. The list starts from the newest token.";
            Tokens = await tokens.PageAsync(User, null, PageSize, null, cancellationToken);
        }
        Response.StatusCode = status;
        return Page();
    }
}
