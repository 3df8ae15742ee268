using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Runway.Api;
using Runway.Auth;

namespace Runway.Web.Pages.Admin;

/// <summary>OAuth clients: list, add (the secret shown once), revoke, through <see cref="ClientAdmin"/> as /api/v1/admin/clients.</summary>
public sealed class ClientsModel(ClientAdmin clients) : PageModel
{
    public const int PageSize = 100;

    [FromQuery(Name = "cursor")]
    public string? Cursor { get; set; }

    public ClientPage Clients { get; private set; } = new([], null);

    public ClientAddition? Added { get; private set; }

    public string? Revoked { get; private set; }

    public string? Problem { get; private set; }

    public string NewName { get; private set; } = "";

    public string NewOwner { get; private set; } = "";

    public IReadOnlyList<string> NewScopes { get; private set; } = [];

    public async Task OnGetAsync(string? revoked, CancellationToken cancellationToken)
    {
        Revoked = revoked;
        await ListAsync(StatusCodes.Status200OK, cancellationToken);
    }

    public async Task OnPostAsync(string? name, string? owner, List<string>? scopes, CancellationToken cancellationToken)
    {
        (NewName, NewOwner, NewScopes) = (name ?? "", owner?.Trim() ?? "", scopes ?? []);
        // No scope ticked: the owner's role decides, as the API does when scopes are left out.
        Added = await clients.AddAsync(User, new AddClientRequest(name, NewOwner, scopes is { Count: > 0 } ? scopes : null), Audit.AddressOf(HttpContext), cancellationToken);
        if (Added.Client is not null)
        {
            (NewName, NewOwner, NewScopes) = ("", "", []);
            Response.Headers.CacheControl = "no-store"; // the secret is in this answer only
        }
        await ListAsync(Added.Client is null ? StatusCodes.Status422UnprocessableEntity : StatusCodes.Status201Created, cancellationToken);
    }

    public async Task<IActionResult> OnPostRevokeAsync(string clientId, CancellationToken cancellationToken) =>
        await clients.RevokeAsync(User, clientId, Audit.AddressOf(HttpContext), cancellationToken)
            ? Redirect($"/admin/clients?revoked={Uri.EscapeDataString(clientId)}")
            : NotFound();

    public string? ErrorOf(string field) => Added?.Errors is { } errors && errors.TryGetValue(field, out var messages) ? string.Join(" ", messages) : null;

    public static IReadOnlyList<string> AllScopes => Scopes.All;

    public string Link(string? cursor) => string.IsNullOrEmpty(cursor) ? "/admin/clients" : $"/admin/clients?cursor={Uri.EscapeDataString(cursor)}";

    private async Task ListAsync(int status, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (await clients.PageAsync(PageSize, Cursor, errors, cancellationToken) is { } page)
        {
            Clients = page;
        }
        else
        {
            Problem ??= "This page link is not valid any more. The list starts from the first client.";
            Clients = await clients.PageAsync(PageSize, null, errors, cancellationToken) ?? Clients;
        }
        Response.StatusCode = status;
    }
}
