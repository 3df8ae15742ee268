using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Runway.Api;
using Runway.Auth;

namespace Runway.Web.Pages.Admin;

/// <summary>Users: the list and adding one, through <see cref="UserAdmin"/> as /api/v1/admin/users.</summary>
public sealed class UsersModel(UserAdmin users) : PageModel
{
    public const int PageSize = 100;

    [FromQuery(Name = "cursor")]
    public string? Cursor { get; set; }

    public UserPage Users { get; private set; } = new([], null);

    public UserChange? Added { get; private set; }

    public string? Problem { get; private set; }

    public AddUserRequest Form { get; private set; } = new(null, null, Roles.User, null, null, null);

    public async Task OnGetAsync(CancellationToken cancellationToken) => await ListAsync(StatusCodes.Status200OK, cancellationToken);

    public async Task OnPostAsync(string? username, string? password, string? role, string? groups, string? displayName, string? email, CancellationToken cancellationToken)
    {
        Form = new AddUserRequest(username?.Trim(), string.IsNullOrEmpty(password) ? null : password, role, Blank(displayName), Blank(email), GroupForm.Parse(groups));
        Added = await users.AddAsync(User, Form, Audit.AddressOf(HttpContext), cancellationToken);
        switch (Added)
        {
            case { User: not null }:
                Form = new(null, null, Roles.User, null, null, null);
                Response.Headers.CacheControl = "no-store"; // a generated password is in this answer only
                await ListAsync(StatusCodes.Status201Created, cancellationToken);
                break;
            case { Conflict: true }:
                Problem = $"A user named '{Form.Username}' exists.";
                await ListAsync(StatusCodes.Status409Conflict, cancellationToken);
                break;
            default:
                await ListAsync(StatusCodes.Status422UnprocessableEntity, cancellationToken);
                break;
        }
    }

    public string? ErrorOf(string field) => Added?.Errors is { } errors && errors.TryGetValue(field, out var messages) ? string.Join(" ", messages) : null;

    public string Link(string? cursor) => string.IsNullOrEmpty(cursor) ? "/admin/users" : $"/admin/users?cursor={Uri.EscapeDataString(cursor)}";

    private static string? Blank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();

    private async Task ListAsync(int status, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (await users.PageAsync(PageSize, Cursor, errors, cancellationToken) is { } page)
        {
            Users = page;
        }
        else
        {
            Problem ??= "This page link is not valid any more. The list starts from the first user.";
            Users = await users.PageAsync(PageSize, null, errors, cancellationToken) ?? Users;
        }
        Response.StatusCode = status;
    }
}

/// <summary>Groups as a form field: names separated by spaces or commas.</summary>
public static class GroupForm
{
    public static IReadOnlyList<string> Parse(string? text) =>
        (text ?? "").Split([' ', ',', '\t', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries).Distinct(StringComparer.Ordinal).ToList();
}
