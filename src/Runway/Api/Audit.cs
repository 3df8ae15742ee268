using System.Security.Claims;
using Runway.Auth;

namespace Runway.Api;

/// <summary>The audit trail from an endpoint: the caller's name and address come from the request.</summary>
public static class Audit
{
    public static Task RecordAsync(this AuditTrail audit, HttpContext http, string action, string? target, CancellationToken ct) =>
        audit.RecordAsync(http.User, http, action, target, ct);

    public static Task RecordAsync(this AuditTrail audit, ClaimsPrincipal user, HttpContext http, string action, string? target, CancellationToken ct) =>
        audit.RecordAsync(Caller.NameOf(user), action, target, AddressOf(http), ct);

    public static string? AddressOf(HttpContext http) => http.Connection.RemoteIpAddress?.ToString();
}
