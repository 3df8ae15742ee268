using System.Net;
using System.Net.Sockets;

namespace Runway.Notifications;

/// <summary>
/// Which addresses a webhook may reach, so that users cannot make the server call its own network: public unicast
/// addresses, plus what the operator lists in <c>Runway:Webhooks:AllowedHosts</c> (host names, addresses, CIDR
/// networks, or <c>*</c>). Checked at submission on what the name resolves to, and again at connect time on the
/// address actually dialled (<see cref="WebhookSender"/>), so a name that resolves differently the second time
/// (DNS rebinding) is caught there.
/// </summary>
public sealed class WebhookAddresses
{
    // Everything IANA's special-purpose registries mark as not globally reachable, and multicast. IPv6 outside
    // 2000::/3 is refused before these are read; IPv4-mapped and NAT64 forms are judged by their IPv4 address.
    private static readonly IPNetwork[] Blocked =
    [
        .. new[]
        {
            "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24",
            "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24",
            "224.0.0.0/4", "240.0.0.0/4",
            // Teredo, ORCHID, documentation and 6to4 (which tunnel to an IPv4 address of any kind) inside 2000::/3.
            "2001::/32", "2001:10::/28", "2001:20::/28", "2001:db8::/32", "2002::/16", "3fff::/20",
        }.Select(IPNetwork.Parse),
    ];

    private static readonly IPNetwork GlobalUnicast6 = IPNetwork.Parse("2000::/3");
    private static readonly IPNetwork Nat64 = IPNetwork.Parse("64:ff9b::/96");

    private readonly bool any;
    private readonly HashSet<string> names = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<IPNetwork> networks = [];

    public WebhookAddresses(IReadOnlyList<string> allowedHosts)
    {
        ArgumentNullException.ThrowIfNull(allowedHosts);
        foreach (var entry in allowedHosts)
        {
            if (entry == "*")
            {
                any = true;
            }
            else if (IPNetwork.TryParse(entry, out var network))
            {
                networks.Add(network);
            }
            else if (IPAddress.TryParse(entry.Trim('[', ']'), out var address))
            {
                networks.Add(new IPNetwork(address, address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128));
            }
            else
            {
                names.Add(entry.TrimEnd('.'));
            }
        }
    }

    /// <summary>Whether the operator allows this host name whatever it resolves to.</summary>
    public bool AllowsName(string host) => any || names.Contains(host.TrimEnd('.'));

    /// <summary>Whether a webhook to <paramref name="host"/> may connect to <paramref name="address"/>.</summary>
    public bool Allows(string host, IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (AllowsName(host))
        {
            return true;
        }
        var plain = Unwrap(address);
        return networks.Any(n => n.Contains(plain) || n.Contains(address)) || IsPublic(plain);
    }

    /// <summary>A globally reachable unicast address (after <see cref="Unwrap"/>).</summary>
    public static bool IsPublic(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        address = Unwrap(address);
        if (address.AddressFamily == AddressFamily.InterNetworkV6 && !GlobalUnicast6.Contains(address))
        {
            // ::, ::1, ::/96, fc00::/7, fe80::/10, fec0::/10, ff00::/8, 100::/64 and the rest of the unassigned space.
            return false;
        }
        return !Blocked.Any(n => n.Contains(address));
    }

    /// <summary>The IPv4 address inside an IPv4-mapped (::ffff:a.b.c.d) or NAT64 (64:ff9b::a.b.c.d) IPv6 address.</summary>
    private static IPAddress Unwrap(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4();
        }
        if (address.AddressFamily == AddressFamily.InterNetworkV6 && Nat64.Contains(address))
        {
            return new IPAddress(address.GetAddressBytes()[12..]);
        }
        return address;
    }

    /// <summary>Why a webhook URL is refused, or null when it may be used; resolves its host name (DNS) to check.</summary>
    public async Task<string?> CheckAsync(string url, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http") || uri.Host.Length == 0)
        {
            return "must be an absolute http or https URL";
        }
        if (uri.UserInfo.Length > 0)
        {
            return "must not carry a user name or password (authenticate the webhook by its signature)";
        }
        var host = uri.IdnHost.Trim('[', ']');
        if (AllowsName(host))
        {
            return null;
        }
        IPAddress[] addresses;
        if (IPAddress.TryParse(host, out var literal))
        {
            addresses = [literal];
        }
        else
        {
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(TimeSpan.FromSeconds(5));
                addresses = await Dns.GetHostAddressesAsync(host, timeout.Token);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                return $"its host '{host}' does not resolve";
            }
        }
        if (addresses.FirstOrDefault(a => !Allows(host, a)) is { } refused)
        {
            return $"'{host}' is {(literal is null ? $"at {refused}, " : "")}not a public address (loopback, private, link-local and other "
                + "internal ranges are refused): webhooks may not reach the server's own network unless the operator allows it in Runway:Webhooks:AllowedHosts";
        }
        return addresses.Length == 0 ? $"its host '{host}' does not resolve" : null;
    }
}
