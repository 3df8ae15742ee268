using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Runway.Data;
using Runway.Notifications;
using Runway.Runs;
using Runway.Tests.Data;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Notifications;

public sealed class NotificationDeliverySqliteTests() : NotificationDeliveryContract(TestDatabase.Sqlite);

public sealed class NotificationDeliveryPostgresTests() : NotificationDeliveryContract(TestDatabase.Postgres);

/// <summary>
/// The outbox against a real database and a real receiver on loopback, on the test's clock (the back-off is moved
/// through, not waited for): retries until delivered, once; a restart between the run's end and the delivery; two
/// nodes at once; giving up after a day.
/// </summary>
public abstract class NotificationDeliveryContract(Func<TestDatabase> open) : StoreTest(open)
{
    /// <summary>A node of its own on the test's database: another process, as after a restart or beside another node.</summary>
    private ServiceProvider Node(string? smtpPort = null) => BuildServices(more: s =>
    {
        var settings = new Dictionary<string, string?> { ["Runway:Webhooks:AllowedHosts"] = "127.0.0.1", ["Runway:PublicUrl"] = "https://runway.example.org/" };
        if (smtpPort is not null)
        {
            settings["Runway:Smtp:Host"] = "127.0.0.1";
            settings["Runway:Smtp:Port"] = smtpPort;
            settings["Runway:Smtp:Tls"] = "none";
        }
        s.AddRunwayNotifications(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
    });

    private async Task<Run> FinishedRunWithAsync(params (string Kind, string Target)[] targets)
    {
        var run = await RunningRunWithAsync(targets);
        Assert.True(await Store.TryTransitionAsync(new RunTransition(run.Id, [RunState.Running], RunState.Failed, "exited with code 3") { ExitCode = 3 }, Ct));
        return run;
    }

    private async Task<Run> RunningRunWithAsync(params (string Kind, string Target)[] targets)
    {
        var template = NewRun();
        var run = new Run
        {
            Id = template.Id,
            Pipeline = template.Pipeline,
            PipelineVersion = template.PipelineVersion,
            ParamsJson = template.ParamsJson,
            Owner = template.Owner,
            Executor = template.Executor,
            SpecJson = template.SpecJson,
            SubmittedAt = template.SubmittedAt,
            Notify = [.. targets.Select(t => new NotifyTarget("msg_" + Ids.NewRunId(Clock), t.Kind, t.Target))],
        };
        Assert.True((await Store.AddAsync(run, Ct)).Created);
        Assert.Single(await Store.ClaimAsync("n1", 1, Ct));
        return run;
    }

    private async Task<Notification> RowAsync(string runId)
    {
        await using var db = await OpenDbAsync();
        return await db.Notifications.AsNoTracking().SingleAsync(n => n.RunId == runId, Ct);
    }

    [Fact]
    public async Task Webhook_IsDeliveredOnceWithAValidSignature_WhenTheReceiverFailsTwiceFirst()
    {
        await using var receiver = await WebhookReceiver.StartAsync(failures: 2);
        await using var node = Node();
        var delivery = node.GetRequiredService<NotificationDelivery>();
        var run = await FinishedRunWithAsync((NotifyTarget.Webhook, receiver.Url));

        Assert.Equal(1, await delivery.DeliverDueAsync(Ct));
        var first = await RowAsync(run.Id);
        Assert.Equal((Notification.Pending, 1, (int?)500), (first.State, first.Attempts, first.LastStatus));
        Assert.True(first.NextAttemptAt > Clock.GetUtcNow());
        // Not due until its back-off has passed: nothing is sent meanwhile.
        Assert.Equal(0, await delivery.DeliverDueAsync(Ct));

        Clock.Advance(NotificationDelivery.Backoff(1) * 2);
        Assert.Equal(1, await delivery.DeliverDueAsync(Ct));
        Assert.Equal(2, (await RowAsync(run.Id)).Attempts);
        Clock.Advance(NotificationDelivery.Backoff(2) * 2);
        Assert.Equal(1, await delivery.DeliverDueAsync(Ct));
        Clock.Advance(TimeSpan.FromDays(2));
        Assert.Equal(0, await delivery.DeliverDueAsync(Ct));

        var row = await RowAsync(run.Id);
        Assert.Equal((Notification.Delivered, 3, (int?)200, (string?)null), (row.State, row.Attempts, row.LastStatus, row.LastError));
        Assert.NotNull(row.DeliveredAt);
        var requests = receiver.Requests.ToList();
        Assert.Equal(3, requests.Count);
        // Every attempt is the same notification to the receiver: one webhook-id, so it keeps exactly one.
        Assert.Single(requests.Select(r => r.Id).Distinct());
        Assert.Equal(row.Id, requests[0].Id);
        var secret = (await node.GetRequiredService<NotifySettingsStore>().GetOrCreateAsync(run.Owner, Ct)).WebhookSecret;
        Assert.StartsWith("whsec_", secret, StringComparison.Ordinal);
        Assert.All(requests, r => Assert.True(WebhookReceiver.Verify(secret, r), $"bad signature {r.Signature}"));
        Assert.False(WebhookReceiver.Verify(secret, requests[2] with { Body = requests[2].Body.Replace("failed", "succeeded", StringComparison.Ordinal) }));

        var data = JsonDocument.Parse(requests[2].Body).RootElement.GetProperty("data");
        Assert.Equal(("failed", 3), (data.GetProperty("state").GetString(), data.GetProperty("exit_code").GetInt32()));
        Assert.Equal($"https://runway.example.org/runs/{run.Id}", data.GetProperty("links").GetProperty("run").GetString());
        Assert.Equal($"https://runway.example.org/api/v1/runs/{run.Id}/log", data.GetProperty("links").GetProperty("log").GetString());
        Assert.Equal($"https://runway.example.org/api/v1/runs/{run.Id}/outputs", data.GetProperty("links").GetProperty("outputs").GetString());
    }

    [Fact]
    public async Task Webhook_IsDeliveredOnce_WhenTheServerRestartsBetweenTheRunsEndAndTheDelivery()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var run = await FinishedRunWithAsync((NotifyTarget.Webhook, receiver.Url));
        await using (var before = Node())
        {
            // The node that saw the run end stops before it delivers anything.
            Assert.Empty(receiver.Requests);
        }

        await using (var after = Node())
        {
            Assert.Equal(1, await after.GetRequiredService<NotificationDelivery>().DeliverDueAsync(Ct));
            Assert.Equal(0, await after.GetRequiredService<NotificationDelivery>().DeliverDueAsync(Ct));
        }
        await using (var again = Node())
        {
            Clock.Advance(TimeSpan.FromDays(2));
            Assert.Equal(0, await again.GetRequiredService<NotificationDelivery>().DeliverDueAsync(Ct));
        }

        Assert.Single(receiver.Requests);
        Assert.Equal(Notification.Delivered, (await RowAsync(run.Id)).State);
    }

    [Fact]
    public async Task Webhook_IsSentOnce_WhenTwoNodesDeliverAtOnce()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var runs = new List<Run>();
        for (var i = 0; i < 10; i++)
        {
            runs.Add(await FinishedRunWithAsync((NotifyTarget.Webhook, receiver.Url)));
        }
        await using var one = Node();
        await using var two = Node();

        var attempts = await Task.WhenAll(
            one.GetRequiredService<NotificationDelivery>().DeliverDueAsync(Ct),
            two.GetRequiredService<NotificationDelivery>().DeliverDueAsync(Ct));

        Assert.Equal(10, attempts.Sum());
        Assert.Equal(10, receiver.Requests.Select(r => r.Id).Distinct().Count());
        Assert.Equal(10, receiver.Requests.Count);
    }

    [Fact]
    public async Task Webhook_IsGivenUp_ADayAfterTheRunEnded()
    {
        await using var receiver = await WebhookReceiver.StartAsync(failures: int.MaxValue);
        await using var node = Node();
        var delivery = node.GetRequiredService<NotificationDelivery>();
        var run = await FinishedRunWithAsync((NotifyTarget.Webhook, receiver.Url));

        var ended = Clock.GetUtcNow();
        for (var turn = 0; turn < 200 && (await RowAsync(run.Id)).State == Notification.Pending; turn++)
        {
            await delivery.DeliverDueAsync(Ct);
            Clock.Advance(TimeSpan.FromMinutes(10));
        }

        var row = await RowAsync(run.Id);
        Assert.Equal((Notification.Failed, (int?)500), (row.State, row.LastStatus));
        Assert.InRange(Clock.GetUtcNow() - ended, TimeSpan.FromHours(23), TimeSpan.FromHours(26));
        // Back-off: far fewer attempts than one per turn, and the gaps grew to the hour.
        Assert.InRange(row.Attempts, 20, 40);
        Assert.Equal(row.Attempts, receiver.Requests.Count);
    }

    [Fact]
    public async Task Webhook_ToAPrivateAddress_IsRefusedAtConnectTime_EvenWhenItWasStored()
    {
        // As if the name had resolved to a public address at submission and to this one now (DNS rebinding).
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var node = BuildServices(more: s => s.AddRunwayNotifications(new ConfigurationBuilder().Build()));
        var run = await FinishedRunWithAsync((NotifyTarget.Webhook, receiver.Url));

        Assert.Equal(1, await node.GetRequiredService<NotificationDelivery>().DeliverDueAsync(Ct));

        var row = await RowAsync(run.Id);
        Assert.Equal(Notification.Failed, row.State);
        Assert.Contains("refused to connect to 127.0.0.1", row.LastError, StringComparison.Ordinal);
        Assert.Empty(receiver.Requests);
    }

    [Fact]
    public async Task Email_IsRecordedSkipped_WhenNoSmtpIsConfigured()
    {
        await using var node = Node();
        var run = await FinishedRunWithAsync((NotifyTarget.Email, "ana@lab.org"));

        Assert.Equal(1, await node.GetRequiredService<NotificationDelivery>().DeliverDueAsync(Ct));

        var row = await RowAsync(run.Id);
        Assert.Equal((Notification.Skipped, 0), (row.State, row.Attempts));
        Assert.Contains("SMTP is not configured", row.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Email_IsDelivered_ThroughARealSmtpServer()
    {
        await using var smtp = await SmtpServer.StartAsync();
        await using var node = Node(smtpPort: smtp.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var run = await FinishedRunWithAsync((NotifyTarget.Email, "ana@lab.org"));

        Assert.Equal(1, await node.GetRequiredService<NotificationDelivery>().DeliverDueAsync(Ct));

        var row = await RowAsync(run.Id);
        Assert.True(row.State == Notification.Delivered, $"{row.State}: {row.LastError}");
        await Eventually.TrueAsync(() => smtp.Output.Contains("END MESSAGE", StringComparison.Ordinal), TimeSpan.FromSeconds(10), "the message at the SMTP server");
        Assert.Contains("To: ana@lab.org", smtp.Output, StringComparison.Ordinal);
        Assert.Contains($"Subject: [Runway] wordstats run {run.Id} failed", smtp.Output, StringComparison.Ordinal);
        Assert.Contains($"https://runway.example.org/runs/{run.Id}", smtp.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Nothing_IsSent_WhileTheRunIsActive()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var node = Node();
        await RunningRunWithAsync((NotifyTarget.Webhook, receiver.Url));

        Assert.Equal(0, await node.GetRequiredService<NotificationDelivery>().DeliverDueAsync(Ct));
        Assert.Empty(receiver.Requests);
    }
}
