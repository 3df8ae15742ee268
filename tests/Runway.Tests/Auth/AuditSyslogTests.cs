using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Runway.Auth;
using Runway.Cli;
using Runway.Data;
using Runway.Logging;
using Runway.Tests.Fakes;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Auth;

/// <summary>Audit entries as RFC 5424 messages to a syslog collector (Runway:Audit:Syslog): here a UDP socket of the test's own.</summary>
public sealed class AuditSyslogTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task EveryAuditEntry_GoesToSyslog_AsOneRfc5424Message()
    {
        using var collector = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var port = ((IPEndPoint)collector.Client.LocalEndPoint!).Port;
        await using var app = new RunwayApp(settings: new Dictionary<string, string> { [AuditSyslog.Setting] = $"udp://127.0.0.1:{port}" });
        using var ana = await app.CreateUserClientAsync("ana");

        var id = (await RunwayApp.SubmitAsync(ana, new { pipeline = "hello" })).GetProperty("id").GetString()!;

        // The submission is audited by the run store, a token's creation (made by the fixture) by the audit trail: both arrive.
        var messages = new List<string>();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        deadline.CancelAfter(TimeSpan.FromSeconds(15));
        while (!messages.Any(m => m.Contains("action=\"run.submit\"", StringComparison.Ordinal)))
        {
            var datagram = await collector.ReceiveAsync(deadline.Token);
            messages.Add(Encoding.UTF8.GetString(datagram.Buffer));
        }
        var submit = messages.Single(m => m.Contains("action=\"run.submit\"", StringComparison.Ordinal));
        Assert.Matches($@"^<109>1 \d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{{6}}Z \S+ runway \d+ run\.submit \[audit@32473 actor=""ana"" action=""run\.submit"" target=""{id}""( address=""[^""]*"")?\] \uFEFFana run\.submit {id}$", submit);
        Assert.Contains(messages, m => m.Contains("action=\"token.create\"", StringComparison.Ordinal));
    }

    /// <summary>
    /// The operator verbs (runway users, runway clients) open the database themselves and exit after their one entry,
    /// with no background loop: their entries reach syslog too, sent before the verb returns.
    /// </summary>
    [Fact]
    public async Task AnOperatorVerbsEntry_GoesToSyslog_BeforeTheVerbExits()
    {
        using var collector = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var port = ((IPEndPoint)collector.Client.LocalEndPoint!).Port;
        using var data = new TempDirectory();
        await using var services = new ServiceCollection()
            .AddRunwayData("", data.Path)
            .AddRunwayAccounts(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [AuditSyslog.Setting] = $"udp://127.0.0.1:{port}" }).Build())
            .BuildServiceProvider();
        await services.MigrateRunwayDatabaseAsync(Ct);

        await LocalServer.AuditAsync(services, "user.create", "ana", Ct);

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        deadline.CancelAfter(TimeSpan.FromSeconds(15));
        var message = Encoding.UTF8.GetString((await collector.ReceiveAsync(deadline.Token)).Buffer);
        Assert.Contains($"[audit@32473 actor=\"{LocalServer.Actor}\" action=\"user.create\" target=\"ana\" address=\"local\"]", message, StringComparison.Ordinal);
        Assert.Equal(0, services.GetRequiredService<AuditSyslog>().Dropped);
    }

    [Fact]
    public void Format_EscapesQuotesBackslashesAndBrackets_InStructuredData()
    {
        var record = new AuditRecord(new DateTimeOffset(2026, 12, 3, 12, 0, 0, TimeSpan.Zero), "a\"b", "user.update", "x]y\\z\nw", null);

        var text = Encoding.UTF8.GetString(AuditSyslog.Format(record, "host", 42));

        Assert.Equal("<109>1 2026-12-03T12:00:00.000000Z host runway 42 user.update [audit@32473 actor=\"a\\\"b\" action=\"user.update\" target=\"x\\]y\\\\z w\"] \uFEFFa\"b user.update x]y\\z w", text);
    }

    [Fact]
    public void Send_NeverWaits_AndCountsWhatItDrops_WhenTheQueueIsFull()
    {
        // Never started: nothing drains the queue, as when the collector is down.
        using var syslog = new AuditSyslog("udp://127.0.0.1:9", NullLogger.Instance);
        var record = new AuditRecord(DateTimeOffset.UnixEpoch, "ana", "run.submit", "r", null);

        var accepted = Enumerable.Range(0, AuditSyslog.Capacity + 5).Count(_ => syslog.Send(record));

        Assert.Equal((AuditSyslog.Capacity, 5L), (accepted, syslog.Dropped));
    }

    [Theory]
    [InlineData("syslog.example:514")]
    [InlineData("http://collector:514")]
    [InlineData("udp://collector")]
    [InlineData("unix://")]
    public void Setting_IsRefused_WhenItIsNoSyslogAddress(string text) =>
        Assert.Throws<InvalidOperationException>(() => AuditSyslog.Parse(text));
}
