using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Runway.Api;
using Runway.Auth;

namespace Runway.Web.Pages.Admin;

/// <summary>One user: role, groups, enabled, password, changed through <see cref="UserAdmin"/> as PATCH /api/v1/admin/users/{name}.</summary>
public sealed class UserModel(Accounts accounts, UserAdmin users) : PageModel
{
    public UserAccount Account { get; private set; } = null!;

    public UserChange? Change { get; private set; }

    /// <summary>What was done, for the note at the top.</summary>
    public string? Done { get; private set; }

    public bool IsSelf => Account.Username == Caller.NameOf(User);

    public async Task<IActionResult> OnGetAsync(string username, string? done, CancellationToken cancellationToken)
    {
        Done = done switch
        {
            "saved" => "Saved.",
            "enabled" => "Enabled: they can sign in again.",
            "disabled" => "Disabled: their sessions and tokens stop working now.",
            _ => null,
        };
        return await ShowAsync(username, StatusCodes.Status200OK, cancellationToken);
    }

    public Task<IActionResult> OnPostSaveAsync(string username, string? role, string? groups, string? displayName, string? email, CancellationToken cancellationToken) =>
        ApplyAsync(username, new UpdateUserRequest(displayName?.Trim() ?? "", email?.Trim() ?? "", role, GroupForm.Parse(groups), null, null), false, "saved", cancellationToken);

    public Task<IActionResult> OnPostEnabledAsync(string username, bool enabled, CancellationToken cancellationToken) =>
        ApplyAsync(username, new UpdateUserRequest(null, null, null, null, enabled, null), false, enabled ? "enabled" : "disabled", cancellationToken);

    /// <summary>A typed password is set; an empty one makes Runway generate one, shown on this answer only.</summary>
    public async Task<IActionResult> OnPostPasswordAsync(string username, string? password, CancellationToken cancellationToken)
    {
        var generate = string.IsNullOrEmpty(password);
        var result = await ApplyAsync(username, new UpdateUserRequest(null, null, null, null, null, generate ? null : password), generate, null, cancellationToken);
        if (Change is { User: not null })
        {
            Done = generate ? null : "The password is set; their earlier sessions are signed out.";
            Response.Headers.CacheControl = "no-store";
        }
        return result;
    }

    public string? ErrorOf(string field) => Change?.Errors is { } errors && errors.TryGetValue(field, out var messages) ? string.Join(" ", messages) : null;

    /// <summary>Saved changes go back to the page (a reload then repeats nothing); a refusal or a new password is shown at once.</summary>
    private async Task<IActionResult> ApplyAsync(string username, UpdateUserRequest request, bool generatePassword, string? done, CancellationToken cancellationToken)
    {
        Change = await users.UpdateAsync(User, username, request, generatePassword, Audit.AddressOf(HttpContext), cancellationToken);
        if (Change is { User: null, Errors: null })
        {
            return NotFound();
        }
        if (Change.User is not null && done is not null)
        {
            return Redirect($"/admin/users/{Uri.EscapeDataString(username)}?done={done}");
        }
        return await ShowAsync(username, Change.Errors is null ? StatusCodes.Status200OK : StatusCodes.Status422UnprocessableEntity, cancellationToken);
    }

    private async Task<IActionResult> ShowAsync(string username, int status, CancellationToken cancellationToken)
    {
        if (await accounts.FindAsync(username, cancellationToken) is not { } account)
        {
            return NotFound();
        }
        Account = account;
        Response.StatusCode = status;
        return Page();
    }
}
