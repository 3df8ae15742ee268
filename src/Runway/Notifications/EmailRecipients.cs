namespace Runway.Notifications;

/// <summary>
/// Whom a user may have Runway email, so that the server relays no one's mail: the address on the user's own account,
/// plus any address in a domain the operator lists in <c>Runway:Notify:AllowedEmailDomains</c> (<c>*</c> for any).
/// A domain matches whole: <c>lab.org</c> opens <c>x@lab.org</c>, not <c>x@mail.lab.org</c> (list that one too).
/// Admins may email any address: they set every account's email, so holding them to it would protect nothing.
/// </summary>
public sealed class EmailRecipients(IReadOnlyList<string> allowedDomains)
{
    private readonly bool any = allowedDomains.Contains("*");
    private readonly HashSet<string> domains = new(allowedDomains.Select(d => d.TrimStart('@')), StringComparer.OrdinalIgnoreCase);

    /// <summary>Why <paramref name="address"/> may not be emailed for <paramref name="account"/> (null: no such user); null when it may.</summary>
    public string? Problem(string address, Auth.UserAccount? account)
    {
        ArgumentNullException.ThrowIfNull(address);
        var own = account?.Email;
        if (any || account is { IsAdmin: true } || string.Equals(address, own, StringComparison.OrdinalIgnoreCase) || domains.Contains(address[(address.LastIndexOf('@') + 1)..]))
        {
            return null;
        }
        var yours = own is { Length: > 0 } ? $"your account's email is {own}" : "your account has no email address (an admin sets it)";
        var opened = domains.Count > 0
            ? $"the operator opens only {string.Join(", ", domains.Order(StringComparer.Ordinal))}"
            : "the operator opens no domain";
        return $"'{address}' may not be notified: {yours}, and {opened} (Runway:Notify:AllowedEmailDomains)";
    }
}
