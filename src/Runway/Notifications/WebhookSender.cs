using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Runway.Notifications;

/// <summary>The outcome of one attempt: sent, or why not (with the HTTP status when there was an answer).</summary>
public sealed record DeliveryResult(bool Delivered, int? Status = null, string? Error = null, bool Skipped = false, bool Permanent = false);

/// <summary>
/// POSTs signed webhooks. The guard against reaching the server's own network sits in the connection itself: the
/// handler resolves the host and dials only addresses <see cref="WebhookAddresses"/> allows, so what was checked is
/// what is connected to (no DNS rebinding between a check and the connect). Redirects are not followed (a 3xx is a
/// failed attempt that names where it pointed), and no proxy is used (it would dial for us, unchecked).
/// </summary>
public sealed class WebhookSender : IDisposable
{
    private readonly HttpClient client;
    private readonly WebhookAddresses addresses;

    public WebhookSender(WebhookAddresses addresses, NotifyOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        this.addresses = addresses;
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseProxy = false,
            UseCookies = false,
            PooledConnectionLifetime = TimeSpan.FromMinutes(1),
            ConnectTimeout = TimeSpan.FromSeconds(10),
            ConnectCallback = ConnectAsync,
        };
        client = new HttpClient(handler) { Timeout = options.WebhookTimeout };
        client.DefaultRequestHeaders.UserAgent.ParseAdd("Runway-Webhooks/1");
    }

    public async Task<DeliveryResult> SendAsync(string url, string id, DateTimeOffset now, string secret, string body, CancellationToken cancellationToken)
    {
        var timestamp = now.ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("webhook-id", id);
        request.Headers.Add("webhook-timestamp", timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add("webhook-signature", WebhookSignature.Sign(secret, id, timestamp, body));
        try
        {
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            var status = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
            {
                return new DeliveryResult(true, status);
            }
            var error = status is >= 300 and < 400
                ? $"redirected to {response.Headers.Location}: webhooks do not follow redirects, give the final URL"
                : $"answered {status} {response.ReasonPhrase}";
            return new DeliveryResult(false, status, error);
        }
        catch (HttpRequestException e) when (e.InnerException is RefusedAddressException refused)
        {
            return new DeliveryResult(false, Error: refused.Message, Permanent: true);
        }
        catch (HttpRequestException e)
        {
            return new DeliveryResult(false, Error: e.Message);
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new DeliveryResult(false, Error: $"no answer within {client.Timeout.TotalSeconds:0} s");
        }
    }

    /// <summary>Resolves the host and connects to the first address allowed; refuses when none is.</summary>
    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var host = context.DnsEndPoint.Host.Trim('[', ']');
        var resolved = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellationToken);
        var allowed = resolved.Where(a => addresses.Allows(host, a)).ToList();
        if (allowed.Count == 0)
        {
            throw new RefusedAddressException(
                $"refused to connect to {host} ({string.Join(", ", resolved.Select(a => a.ToString()))}): not a public address, and not allowed by Runway:Webhooks:AllowedHosts");
        }
        Exception? last = null;
        foreach (var address in allowed)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, context.DnsEndPoint.Port), cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (Exception e)
            {
                socket.Dispose();
                if (e is not SocketException)
                {
                    throw;
                }
                last = e;
            }
        }
        throw last!;
    }

    public void Dispose() => client.Dispose();

    private sealed class RefusedAddressException(string message) : IOException(message);
}
