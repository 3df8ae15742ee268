using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Notifications;

/// <summary>Notifications through the HTTP API on the real server: submission, the account's defaults and secret, delivery, and what the run shows.</summary>
public sealed class NotificationsApiTests
{
    private static readonly string[] Ana = ["ana@lab.org"];
    private static readonly string[] SomeBad = ["ana@lab.org", "not an address", "x@y.org, z@w.org"];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static RunwayApp AppAllowingLoopback(IReadOnlyDictionary<string, string>? more = null) =>
        new(settings: new Dictionary<string, string>(more ?? new Dictionary<string, string>()) { ["Runway:Webhooks:AllowedHosts"] = "127.0.0.1" });

    private static async Task<JsonElement> NotifySettingsAsync(HttpClient client) =>
        await client.GetFromJsonAsync<JsonElement>("/api/v1/me/notify", Ct);

    [Fact]
    public async Task FinishedRun_SendsOneSignedWebhook_AndShowsItsDelivery()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var app = AppAllowingLoopback();
        using var ana = await app.CreateUserClientAsync("ana");

        var submitted = await RunwayApp.SubmitAsync(ana, new { pipeline = "hello", notify = new { webhook = receiver.Url } });
        var id = submitted.GetProperty("id").GetString()!;
        await RunwayApp.WaitFinalAsync(ana, id);
        await Eventually.TrueAsync(() => !receiver.Requests.IsEmpty, TimeSpan.FromSeconds(20), "the webhook");
        JsonElement run = default;
        await Eventually.TrueAsync(async () =>
        {
            run = await ana.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{id}", Ct);
            return run.GetProperty("notifications")[0].GetProperty("state").GetString() == "delivered";
        }, TimeSpan.FromSeconds(10), "the delivery to be recorded");

        var request = Assert.Single(receiver.Requests);
        var secret = (await NotifySettingsAsync(ana)).GetProperty("webhook_secret").GetString()!;
        Assert.True(WebhookReceiver.Verify(secret, request), "the signature does not verify with the account's secret");
        var data = JsonDocument.Parse(request.Body).RootElement.GetProperty("data");
        Assert.Equal((id, "succeeded", 0), (data.GetProperty("id").GetString(), data.GetProperty("state").GetString(), data.GetProperty("exit_code").GetInt32()));
        Assert.Equal($"http://127.0.0.1:8080/runs/{id}", data.GetProperty("links").GetProperty("run").GetString());
        var delivery = Assert.Single(run.GetProperty("notifications").EnumerateArray());
        Assert.Equal((receiver.Url, "webhook", 1, 200), (delivery.GetProperty("target").GetString(), delivery.GetProperty("kind").GetString(),
            delivery.GetProperty("attempts").GetInt32(), delivery.GetProperty("last_status").GetInt32()));
        Assert.Equal(request.Id, delivery.GetProperty("id").GetString());
        Assert.NotEqual(JsonValueKind.Null, delivery.GetProperty("delivered_at").ValueKind);
        using var admin = app.CreateAdminClient();
        var metrics = await admin.GetStringAsync("/metrics", Ct);
        Assert.Contains(metrics.Split('\n'), line => line.StartsWith("runway_notifications_total{", StringComparison.Ordinal)
            && line.Contains("kind=\"webhook\"", StringComparison.Ordinal) && line.Contains("outcome=\"delivered\"", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("http://127.0.0.1:9/hook")]
    [InlineData("http://10.0.0.8/hook")]
    [InlineData("http://[::1]/hook")]
    [InlineData("http://169.254.169.254/latest/meta-data/")]
    [InlineData("http://localhost:9/hook")]
    public async Task Submission_WithAWebhookToAPrivateAddress_Answers422(string url)
    {
        await using var app = new RunwayApp();
        using var ana = await app.CreateUserClientAsync("ana");

        using var response = await ana.PostAsJsonAsync("/api/v1/runs", new { pipeline = "hello", notify = new { webhook = url } }, RunwayApp.Json, Ct);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        var message = problem.GetProperty("errors").GetProperty("notify.webhook")[0].GetString();
        Assert.Contains("not a public address", message, StringComparison.Ordinal);
        Assert.Contains("Runway:Webhooks:AllowedHosts", message, StringComparison.Ordinal);
        Assert.Equal(0, (await ana.GetFromJsonAsync<JsonElement>("/api/v1/runs", Ct)).GetProperty("runs").GetArrayLength());
    }

    [Fact]
    public async Task Submission_WithABadEmail_Answers422PerAddress()
    {
        await using var app = new RunwayApp();
        using var ana = await AnaWithEmailAsync(app);

        using var response = await ana.PostAsJsonAsync("/api/v1/runs",
            new { pipeline = "hello", notify = new { email = SomeBad } }, RunwayApp.Json, Ct);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var errors = (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("errors");
        Assert.False(errors.TryGetProperty("notify.email[0]", out _));
        Assert.True(errors.TryGetProperty("notify.email[1]", out _));
        Assert.True(errors.TryGetProperty("notify.email[2]", out _));
    }

    [Fact]
    public async Task AccountDefaults_ApplyToASubmissionWithoutNotify_AndAnEmptyNotifyOptsOut()
    {
        await using var app = new RunwayApp();
        using var ana = await AnaWithEmailAsync(app);
        using var put = await ana.PutAsJsonAsync("/api/v1/me/notify", new { email = Ana }, RunwayApp.Json, Ct);
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        using var refused = await ana.PutAsJsonAsync("/api/v1/me/notify", new { webhook = "http://192.168.1.1/x" }, RunwayApp.Json, Ct);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);

        var withDefaults = (await RunwayApp.SubmitAsync(ana, new { pipeline = "hello" })).GetProperty("id").GetString()!;
        var optedOut = (await RunwayApp.SubmitAsync(ana, new { pipeline = "hello", notify = new { } })).GetProperty("id").GetString()!;
        await RunwayApp.WaitFinalAsync(ana, withDefaults);
        await RunwayApp.WaitFinalAsync(ana, optedOut);

        JsonElement run = default;
        await Eventually.TrueAsync(async () =>
        {
            run = await ana.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{withDefaults}", Ct);
            return run.GetProperty("notifications")[0].GetProperty("state").GetString() != "pending";
        }, TimeSpan.FromSeconds(10), "the email to be settled");
        var email = Assert.Single(run.GetProperty("notifications").EnumerateArray());
        // No SMTP server configured: recorded as skipped, with the one warning at start.
        Assert.Equal(("ana@lab.org", "email", "skipped"), (email.GetProperty("target").GetString(), email.GetProperty("kind").GetString(), email.GetProperty("state").GetString()));
        Assert.Single(app.Logs.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("SMTP is not configured", StringComparison.Ordinal));
        Assert.Equal(0, (await ana.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{optedOut}", Ct)).GetProperty("notifications").GetArrayLength());
    }

    [Fact]
    public async Task Secret_IsShownAndRotated_AndIsTheUsersOwn()
    {
        await using var app = new RunwayApp();
        using var ana = await app.CreateUserClientAsync("ana");
        using var ben = await app.CreateUserClientAsync("ben");

        var first = (await NotifySettingsAsync(ana)).GetProperty("webhook_secret").GetString()!;
        Assert.Equal(first, (await NotifySettingsAsync(ana)).GetProperty("webhook_secret").GetString());
        using var rotate = await ana.PostAsync("/api/v1/me/notify/secret", null, Ct);
        var second = (await rotate.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("webhook_secret").GetString()!;

        Assert.Matches("^whsec_[A-Za-z0-9+/]{43}=$", first);
        Assert.NotEqual(first, second);
        Assert.Equal(second, (await NotifySettingsAsync(ana)).GetProperty("webhook_secret").GetString());
        Assert.NotEqual(second, (await NotifySettingsAsync(ben)).GetProperty("webhook_secret").GetString());
    }

    [Fact]
    public async Task Email_ArrivesAtARealSmtpServer_ForAFinishedRun()
    {
        await using var smtp = await SmtpServer.StartAsync();
        await using var app = new RunwayApp(settings: new Dictionary<string, string>
        {
            ["Runway:Smtp:Host"] = "127.0.0.1",
            ["Runway:Smtp:Port"] = smtp.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Runway:Smtp:Tls"] = "none",
            ["Runway:Smtp:From"] = "runway@lab.org",
            ["Runway:PublicUrl"] = "https://runway.lab.org",
        });
        using var ana = await AnaWithEmailAsync(app);

        var id = (await RunwayApp.SubmitAsync(ana, new { pipeline = "hello", name = "greeting", notify = new { email = Ana } })).GetProperty("id").GetString()!;
        await RunwayApp.WaitFinalAsync(ana, id);
        await Eventually.TrueAsync(() => smtp.Output.Contains("END MESSAGE", StringComparison.Ordinal), TimeSpan.FromSeconds(20), "the email");

        Assert.Contains("From: runway@lab.org", smtp.Output, StringComparison.Ordinal);
        Assert.Contains("To: ana@lab.org", smtp.Output, StringComparison.Ordinal);
        Assert.Contains("Subject: [Runway] hello run greeting succeeded", smtp.Output, StringComparison.Ordinal);
        Assert.Contains($"https://runway.lab.org/runs/{id}", smtp.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(app.Logs.Entries, e => e.Message.Contains("SMTP is not configured", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Submission_ToAnAddressNotTheAccounts_Answers422NamingIt()
    {
        await using var app = new RunwayApp();
        using var ana = await AnaWithEmailAsync(app);

        using var response = await ana.PostAsJsonAsync("/api/v1/runs",
            new { pipeline = "hello", notify = new { email = (string[])["ANA@lab.org", "someone@else.org"] } }, RunwayApp.Json, Ct);
        using var defaults = await ana.PutAsJsonAsync("/api/v1/me/notify", new { email = (string[])["someone@else.org"] }, RunwayApp.Json, Ct);
        using var bob = await app.CreateUserClientAsync("bob");
        using var bobs = await bob.PostAsJsonAsync("/api/v1/runs", new { pipeline = "hello", notify = new { email = Ana } }, RunwayApp.Json, Ct);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var errors = (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("errors");
        Assert.False(errors.TryGetProperty("notify.email[0]", out _));
        var message = errors.GetProperty("notify.email[1]")[0].GetString()!;
        Assert.Contains("someone@else.org", message, StringComparison.Ordinal);
        Assert.Contains("Runway:Notify:AllowedEmailDomains", message, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, defaults.StatusCode);
        // Bob has no email on his account: he may email nobody until the operator opens a domain.
        Assert.Equal(HttpStatusCode.UnprocessableEntity, bobs.StatusCode);
        // An admin, who sets every account's address, may email any.
        using var admin = app.CreateAdminClient();
        using var admins = await admin.PostAsJsonAsync("/api/v1/runs", new { pipeline = "hello", notify = new { email = (string[])["someone@else.org"] } }, RunwayApp.Json, Ct);
        Assert.Equal(HttpStatusCode.Created, admins.StatusCode);
        Assert.Equal(0, (await ana.GetFromJsonAsync<JsonElement>("/api/v1/runs", Ct)).GetProperty("runs").GetArrayLength());
    }

    [Theory]
    [InlineData("lab.org", "x@lab.org", true)]
    [InlineData("lab.org", "x@LAB.org", true)]
    [InlineData("lab.org,other.net", "x@other.net", true)]
    [InlineData("lab.org", "x@evil.org", false)]
    [InlineData("lab.org", "x@sub.lab.org", false)]
    [InlineData("lab.org", "x@evil-lab.org", false)]
    [InlineData("*", "anyone@anywhere.example", true)]
    public async Task AllowedEmailDomains_OpensTheOperatorsDomains(string domains, string address, bool allowed)
    {
        await using var app = new RunwayApp(settings: new Dictionary<string, string> { ["Runway:Notify:AllowedEmailDomains"] = domains });
        using var bob = await app.CreateUserClientAsync("bob");

        using var response = await bob.PostAsJsonAsync("/api/v1/runs", new { pipeline = "hello", notify = new { email = (string[])[address] } }, RunwayApp.Json, Ct);

        Assert.Equal(allowed ? HttpStatusCode.Created : HttpStatusCode.UnprocessableEntity, response.StatusCode);
    }

    /// <summary>Ana, with ana@lab.org as her account's email (set by the admin), the address she may notify.</summary>
    private static async Task<HttpClient> AnaWithEmailAsync(RunwayApp app)
    {
        var ana = await app.CreateUserClientAsync("ana");
        using var admin = app.CreateAdminClient();
        using var patched = await admin.PatchAsJsonAsync("/api/v1/admin/users/ana", new { email = "ana@lab.org" }, RunwayApp.Json, Ct);
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        return ana;
    }
}
