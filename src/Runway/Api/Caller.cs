using System.Security.Claims;

namespace Runway.Api;

/// <summary>
/// Who is calling. Until accounts exist (issue 4) every request is the single local user "anonymous";
/// the owner is taken from the authenticated principal as soon as there is one, so handlers need no change.
/// </summary>
public static class Caller
{
    public const string Anonymous = "anonymous";

    public static string NameOf(ClaimsPrincipal user) => user.Identity is { IsAuthenticated: true, Name: { Length: > 0 } name } ? name : Anonymous;
}
