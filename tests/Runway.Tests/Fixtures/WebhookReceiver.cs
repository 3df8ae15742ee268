using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Runway.Tests.Fixtures;

/// <summary>
/// A real HTTP server on loopback that takes webhooks: it answers 500 to the first <c>failures</c> requests, then 200,
/// and keeps every request it got. <see cref="Verify"/> checks a signature by the Standard Webhooks algorithm as a
/// receiver would, written here from the published description (not with Runway's code).
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication app;
    private int failuresLeft;

    public sealed record Received(string? Id, string? Timestamp, string? Signature, string Body);

    public ConcurrentQueue<Received> Requests { get; } = new();

    public string Url { get; private set; } = "";

    private WebhookReceiver(int failures)
    {
        failuresLeft = failures;
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        app = builder.Build();
        app.MapPost("/hook", async (HttpContext http) =>
        {
            using var reader = new StreamReader(http.Request.Body, Encoding.UTF8);
            var body = await reader.ReadToEndAsync(http.RequestAborted);
            Requests.Enqueue(new Received(http.Request.Headers["webhook-id"], http.Request.Headers["webhook-timestamp"], http.Request.Headers["webhook-signature"], body));
            return Interlocked.Decrement(ref failuresLeft) >= 0 ? Results.StatusCode(500) : Results.Ok();
        });
    }

    public static async Task<WebhookReceiver> StartAsync(int failures = 0)
    {
        var receiver = new WebhookReceiver(failures);
        await receiver.app.StartAsync(TestContext.Current.CancellationToken);
        receiver.Url = receiver.app.Urls.First() + "/hook";
        return receiver;
    }

    /// <summary>v1: base64(HMAC-SHA256(key = base64-decoded secret after "whsec_", "{id}.{timestamp}.{body}")).</summary>
    public static bool Verify(string secret, Received request)
    {
        var key = Convert.FromBase64String(secret["whsec_".Length..]);
        var expected = Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{request.Id}.{request.Timestamp}.{request.Body}")));
        return (request.Signature ?? "").Split(' ').Any(s => s == "v1," + expected);
    }

    public ValueTask DisposeAsync() => app.DisposeAsync();
}
