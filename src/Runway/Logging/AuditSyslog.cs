using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;

namespace Runway.Logging;

/// <summary>
/// Sends every audit entry, as it is stored, to syslog as one RFC 5424 message (<c>Runway:Audit:Syslog</c>:
/// <c>udp://host:514</c>, <c>tcp://host:601</c> or <c>unix:///dev/log</c>). A request never waits for it: entries go
/// into a bounded queue that one background loop drains; when the queue is full (syslog down or slow) an entry is
/// dropped and counted (<see cref="Dropped"/>, and the metric <c>runway_audit_syslog_dropped_total</c>). The database
/// keeps the full trail either way.
/// </summary>
/// <remarks>
/// The message: <c>&lt;109&gt;1 TIME HOST runway PID ACTION [audit@32473 actor="…" action="…" target="…" address="…"] actor action target</c>:
/// facility 13 (log audit), severity 5 (notice); the structured data's id uses 32473, the enterprise number RFC 5612
/// reserves for examples, as Runway has none of its own. TCP frames each message by octet counting (RFC 6587:
/// <c>LENGTH SP MESSAGE</c>); UDP and the unix socket send one datagram per message.
/// </remarks>
public sealed class AuditSyslog : BackgroundService
{
    public const int Capacity = 10_000;
    private const int Priority = 13 * 8 + 5;
    private static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(5);

    private readonly Channel<AuditRecord> queue = Channel.CreateBounded<AuditRecord>(
        new BoundedChannelOptions(Capacity) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });
    private readonly Uri? target;
    private readonly string host;
    private readonly ILogger logger;
    private long dropped;

    /// <param name="destination">The setting's value; null or empty for none.</param>
    public AuditSyslog(string? destination, ILogger logger)
    {
        this.logger = logger;
        host = Header(System.Net.Dns.GetHostName(), 255);
        if (destination is { Length: > 0 } text)
        {
            target = Parse(text);
        }
    }

    public const string Setting = "Runway:Audit:Syslog";

    public bool Enabled => target is not null;

    public long Dropped => Interlocked.Read(ref dropped);

    /// <summary>Queues the entry; never waits. False (and counted) when the queue is full.</summary>
    public bool Send(AuditRecord record)
    {
        if (target is null)
        {
            return true;
        }
        if (queue.Writer.TryWrite(record))
        {
            return true;
        }
        Interlocked.Increment(ref dropped);
        RunwayMetrics.AuditSyslogDropped.Add(1);
        return false;
    }

    /// <summary>The destination from its setting; throws with what is wrong, at start-up.</summary>
    public static Uri Parse(string text)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri)
            || !(uri.Scheme is "udp" or "tcp" ? uri.Host.Length > 0 && uri.Port > 0 : uri.Scheme == "unix" && uri.AbsolutePath.Length > 1))
        {
            throw new InvalidOperationException($"Runway:Audit:Syslog must be udp://host:port, tcp://host:port or unix:///path (is '{text}')");
        }
        return uri;
    }

    /// <summary>One RFC 5424 message, without framing.</summary>
    public static byte[] Format(AuditRecord record, string host, int processId)
    {
        var head = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"<{Priority}>1 {record.At.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'} {host} runway {processId} {Header(record.Action, 32)} ")
            .Append(CultureInfo.InvariantCulture, $"[audit@32473 actor=\"{Escape(record.Actor)}\" action=\"{Escape(record.Action)}\"");
        if (record.Target is { } target)
        {
            head.Append(CultureInfo.InvariantCulture, $" target=\"{Escape(target)}\"");
        }
        if (record.Address is { } address)
        {
            head.Append(CultureInfo.InvariantCulture, $" address=\"{Escape(address)}\"");
        }
        head.Append("] ");
        // MSG is UTF-8 marked by a BOM (RFC 5424, 6.4); no line breaks, which would split a line-based collector's record.
        var message = string.Join(' ', new[] { record.Actor, record.Action, record.Target }.OfType<string>()).Replace('\n', ' ').Replace('\r', ' ');
        return [.. Encoding.UTF8.GetBytes(head.ToString().Replace('\n', ' ').Replace('\r', ' ')), 0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(message)];
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (target is null)
        {
            return;
        }
        await DrainAsync(wait: true, stoppingToken);
    }

    /// <summary>
    /// For a process that does not run the background loop (the operator verbs <c>runway users</c> and <c>runway
    /// clients</c>, which exit right after their one entry): sends what is queued now, then returns, waiting at most
    /// <paramref name="timeout"/> for the collector; what it could not send is counted as dropped, as in the loop.
    /// </summary>
    public async Task SendQueuedAsync(TimeSpan timeout)
    {
        if (target is null)
        {
            return;
        }
        using var deadline = new CancellationTokenSource(timeout);
        await DrainAsync(wait: false, deadline.Token);
        while (queue.Reader.TryRead(out _))
        {
            Interlocked.Increment(ref dropped);
            RunwayMetrics.AuditSyslogDropped.Add(1);
        }
    }

    /// <summary>Sends queued entries, each over one socket kept between them; <paramref name="wait"/>: for more, until stopped.</summary>
    private async Task DrainAsync(bool wait, CancellationToken stoppingToken)
    {
        Socket? socket = null;
        var pid = Environment.ProcessId;
        try
        {
            while (true)
            {
                if (!queue.Reader.TryRead(out var record))
                {
                    if (!wait || !await queue.Reader.WaitToReadAsync(stoppingToken))
                    {
                        return;
                    }
                    continue;
                }
                var message = Format(record, host, pid);
                try
                {
                    socket ??= await ConnectAsync(target!, stoppingToken);
                    if (target!.Scheme == "tcp")
                    {
                        message = [.. Encoding.ASCII.GetBytes(message.Length.ToString(CultureInfo.InvariantCulture) + " "), .. message];
                    }
                    await socket.SendAsync(message, SocketFlags.None, stoppingToken);
                }
                catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException)
                {
                    // Lost (a collector restarting): counted, the socket made afresh for the next, after a pause that
                    // lets the queue take the strain rather than a request.
                    Interlocked.Increment(ref dropped);
                    RunwayMetrics.AuditSyslogDropped.Add(1);
                    logger.LogWarning("Could not send an audit entry to syslog at {Target}: {Error}", target, e.Message);
                    socket?.Dispose();
                    socket = null;
                    await Task.Delay(RetryAfter, stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            socket?.Dispose();
        }
    }

    private static async Task<Socket> ConnectAsync(Uri target, CancellationToken ct)
    {
        if (target.Scheme == "unix")
        {
            var unix = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            await unix.ConnectAsync(new UnixDomainSocketEndPoint(target.AbsolutePath), ct);
            return unix;
        }
        var tcp = target.Scheme == "tcp";
        var addresses = await System.Net.Dns.GetHostAddressesAsync(target.DnsSafeHost, ct);
        var address = addresses.FirstOrDefault() ?? throw new SocketException((int)SocketError.HostNotFound);
        var socket = new Socket(address.AddressFamily, tcp ? SocketType.Stream : SocketType.Dgram, tcp ? ProtocolType.Tcp : ProtocolType.Udp);
        await socket.ConnectAsync(address, target.Port, ct);
        return socket;
    }

    /// <summary>A header field: printable US-ASCII without spaces, at most <paramref name="max"/> long, "-" when empty (RFC 5424, 6).</summary>
    private static string Header(string text, int max)
    {
        var printable = new string([.. text.Where(c => c is > ' ' and < (char)127).Take(max)]);
        return printable.Length == 0 ? "-" : printable;
    }

    /// <summary>A PARAM-VALUE: '"', '\' and ']' escaped with '\' (RFC 5424, 6.3.3).</summary>
    private static string Escape(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("]", "\\]", StringComparison.Ordinal);
}
