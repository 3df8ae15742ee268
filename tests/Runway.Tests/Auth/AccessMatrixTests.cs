using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Runway.Auth;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Auth;

/// <summary>
/// Every endpoint of the API, as the app itself lists them (so a new endpoint without a row fails the
/// coverage test), requested with every kind of credential, against the status each must answer.
/// </summary>
public sealed class AccessMatrixTests : IAsyncLifetime
{
    private readonly RunwayApp app = new();
    private AccessWorld world = null!;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>How a route relates to the caller, which decides what other users and non-admins get.</summary>
    private enum Access
    {
        /// <summary>No credentials needed; every row answers the same.</summary>
        Anonymous,

        /// <summary>Acts on the caller's own account; any valid credential works.</summary>
        Self,

        /// <summary>Open to every user, scoped to what they own or may see (lists, submissions, pipelines).</summary>
        Shared,

        /// <summary>Names the owner's run, file or token: anyone else gets 404, as if it did not exist.</summary>
        Owned,

        /// <summary>Admins only.</summary>
        Admin,

        /// <summary>A protocol view the operator turns on (GA4GH TES, off here): credentials and scopes checked, then 404.</summary>
        Off,
    }

    /// <param name="FullCredential">Managing tokens takes the password or a token with all the owner's scopes: a narrower token gets 403.</param>
    private sealed record Row(string Method, string Route, Access Access, string? Scope, int Success, Func<AccessWorld, Task<HttpRequestMessage>> Request, bool FullCredential = false);

    private static Row Get(string route, Access access, string? scope, Func<AccessWorld, string> path) =>
        new("GET", route, access, scope, 200, w => Task.FromResult(new HttpRequestMessage(HttpMethod.Get, path(w))));

    private static Row Send(string method, string route, Access access, string? scope, int success, Func<AccessWorld, Task<HttpRequestMessage>> request, bool fullCredential = false) =>
        new(method, route, access, scope, success, request, fullCredential);

    private static HttpRequestMessage Json(string method, string path, object body) =>
        new(new HttpMethod(method), path) { Content = JsonContent.Create(body, options: RunwayApp.Json) };

    private static readonly Row[] Rows =
    [
        .. Runway.Compat.Ga4gh.Tes.TesApi.Prefixes.SelectMany(p => (Row[])[
            // Public GA4GH service-info, but TES is off here: 404 to everyone, credentials or not.
            Send("GET", $"{p}/service-info", Access.Anonymous, null, 404, _ => Task.FromResult(new HttpRequestMessage(HttpMethod.Get, $"{p}/service-info"))),
            Send("GET", $"{p}/tasks/service-info", Access.Anonymous, null, 404, _ => Task.FromResult(new HttpRequestMessage(HttpMethod.Get, $"{p}/tasks/service-info"))),
            Get($"{p}/tasks/", Access.Off, Scopes.RunsRead, _ => $"{p}/tasks"),
            Send("POST", $"{p}/tasks/", Access.Off, Scopes.RunsWrite, 200, _ => Task.FromResult(Json("POST", $"{p}/tasks", new { executors = new[] { new { image = "x", command = new[] { "true" } } } }))),
            Get($"{p}/tasks/{{id}}", Access.Off, Scopes.RunsRead, w => $"{p}/tasks/{w.RunId}"),
            Send("POST", $"{p}/tasks/{{idAndVerb}}", Access.Off, Scopes.RunsWrite, 200, w => Task.FromResult(new HttpRequestMessage(HttpMethod.Post, $"{p}/tasks/{w.RunId}:cancel"))),
        ]),
        Get("/healthz", Access.Anonymous, null, _ => "/healthz"),
        Get("/readyz", Access.Anonymous, null, _ => "/readyz"),
        Get("/openapi/{documentName}.json", Access.Anonymous, null, _ => "/openapi/v1.json"),
        // Prometheus's exporter answers any method; scrapers GET.
        new("*", "/metrics", Access.Admin, Scopes.Admin, 200, _ => Task.FromResult(new HttpRequestMessage(HttpMethod.Get, "/metrics"))),
        Send("POST", "/oauth/token", Access.Anonymous, null, 401, _ => Task.FromResult(new HttpRequestMessage(HttpMethod.Post, "/oauth/token")
        {
            Content = new FormUrlEncodedContent([new("grant_type", "client_credentials")]),
        })),
        Get("/api/v1/me", Access.Self, null, _ => "/api/v1/me"),
        Get("/api/v1/me/notify/", Access.Self, Scopes.RunsWrite, _ => "/api/v1/me/notify"),
        Send("PUT", "/api/v1/me/notify/", Access.Self, Scopes.RunsWrite, 200, _ => Task.FromResult(Json("PUT", "/api/v1/me/notify", new { webhook = (string?)null }))),
        Send("POST", "/api/v1/me/notify/secret", Access.Self, Scopes.RunsWrite, 200, _ => Task.FromResult(new HttpRequestMessage(HttpMethod.Post, "/api/v1/me/notify/secret"))),
        Get("/api/v1/tokens/", Access.Self, null, _ => "/api/v1/tokens"),
        Send("POST", "/api/v1/tokens/", Access.Self, null, 201, _ => Task.FromResult(Json("POST", "/api/v1/tokens", new { name = "matrix" })), fullCredential: true),
        Send("DELETE", "/api/v1/tokens/{id}", Access.Owned, null, 204, async w => new HttpRequestMessage(HttpMethod.Delete, $"/api/v1/tokens/{await w.FreshTokenIdAsync()}"), fullCredential: true),
        Get("/api/v1/pipelines/", Access.Shared, Scopes.RunsRead, _ => "/api/v1/pipelines"),
        Get("/api/v1/pipelines/{name}", Access.Shared, Scopes.RunsRead, _ => "/api/v1/pipelines/hello"),
        Send("POST", "/api/v1/runs/", Access.Shared, Scopes.RunsWrite, 201, _ => Task.FromResult(Json("POST", "/api/v1/runs", new { pipeline = "hello" }))),
        Get("/api/v1/runs/", Access.Shared, Scopes.RunsRead, _ => "/api/v1/runs"),
        Get("/api/v1/runs/{id}", Access.Owned, Scopes.RunsRead, w => $"/api/v1/runs/{w.RunId}"),
        Send("POST", "/api/v1/runs/{id}/cancel", Access.Owned, Scopes.RunsWrite, 200, w => Task.FromResult(new HttpRequestMessage(HttpMethod.Post, $"/api/v1/runs/{w.RunId}/cancel"))),
        // A filter that matches nothing, so the world's run stays as it is for the rows after this one.
        Send("POST", "/api/v1/runs/cancel", Access.Shared, Scopes.RunsWrite, 200, _ => Task.FromResult(Json("POST", "/api/v1/runs/cancel", new { pipeline = "no-such-pipeline" }))),
        Send("POST", "/api/v1/schedules/", Access.Shared, Scopes.RunsWrite, 201,
            _ => Task.FromResult(Json("POST", "/api/v1/schedules", new { name = "matrix", pipeline = "hello", cron = "0 3 * * *", enabled = false }))),
        Get("/api/v1/schedules/", Access.Shared, Scopes.RunsRead, _ => "/api/v1/schedules"),
        Send("GET", "/api/v1/schedules/{id}", Access.Owned, Scopes.RunsRead, 200, async w => new HttpRequestMessage(HttpMethod.Get, $"/api/v1/schedules/{await w.FreshScheduleAsync()}")),
        Send("PATCH", "/api/v1/schedules/{id}", Access.Owned, Scopes.RunsWrite, 200, async w => Json("PATCH", $"/api/v1/schedules/{await w.FreshScheduleAsync()}", new { enabled = false })),
        Send("DELETE", "/api/v1/schedules/{id}", Access.Owned, Scopes.RunsWrite, 204, async w => new HttpRequestMessage(HttpMethod.Delete, $"/api/v1/schedules/{await w.FreshScheduleAsync()}")),
        Send("POST", "/api/v1/runs/{id}/resubmit", Access.Owned, Scopes.RunsWrite, 201, w => Task.FromResult(new HttpRequestMessage(HttpMethod.Post, $"/api/v1/runs/{w.RunId}/resubmit"))),
        Get("/api/v1/runs/{id}/log", Access.Owned, Scopes.RunsRead, w => $"/api/v1/runs/{w.RunId}/log"),
        Get("/api/v1/runs/{id}/outputs", Access.Owned, Scopes.RunsRead, w => $"/api/v1/runs/{w.RunId}/outputs"),
        Get("/api/v1/runs/{id}/outputs/{**path}", Access.Owned, Scopes.RunsRead, w => $"/api/v1/runs/{w.RunId}/outputs/greeting.txt"),
        Get("/api/v1/runs/{id}/archive", Access.Owned, Scopes.RunsRead, w => $"/api/v1/runs/{w.RunId}/archive"),
        Get("/api/v1/pipelines/{name}/template.csv", Access.Shared, Scopes.RunsRead, _ => "/api/v1/pipelines/hello/template.csv"),
        Get("/api/v1/pipelines/{name}/template.xlsx", Access.Shared, Scopes.RunsRead, _ => "/api/v1/pipelines/hello/template.xlsx"),
        Send("POST", "/api/v1/batches/", Access.Shared, Scopes.RunsWrite, 201, _ => Task.FromResult(Json("POST", "/api/v1/batches", new { pipeline = "hello", rows = new[] { new { name = "m" } } }))),
        Get("/api/v1/batches/", Access.Shared, Scopes.RunsRead, _ => "/api/v1/batches"),
        Get("/api/v1/batches/{id}", Access.Owned, Scopes.RunsRead, w => $"/api/v1/batches/{w.BatchId}"),
        Send("POST", "/api/v1/batches/{id}/cancel", Access.Owned, Scopes.RunsWrite, 200, w => Task.FromResult(new HttpRequestMessage(HttpMethod.Post, $"/api/v1/batches/{w.BatchId}/cancel"))),
        Get("/api/v1/batches/{id}/archive", Access.Owned, Scopes.RunsRead, w => $"/api/v1/batches/{w.BatchId}/archive"),
        Send("POST", "/api/v1/files/", Access.Shared, Scopes.FilesWrite, 201, _ => Task.FromResult(new HttpRequestMessage(HttpMethod.Post, "/api/v1/files") { Content = AccessWorld.FileForm() })),
        Get("/api/v1/files/", Access.Shared, Scopes.FilesRead, _ => "/api/v1/files"),
        Get("/api/v1/files/{id}", Access.Owned, Scopes.FilesRead, w => $"/api/v1/files/{w.FileId}"),
        Send("DELETE", "/api/v1/files/{id}", Access.Owned, Scopes.FilesWrite, 204, async w => new HttpRequestMessage(HttpMethod.Delete, $"/api/v1/files/{await w.FreshFileAsync()}")),
        Get("/api/v1/admin/users", Access.Admin, Scopes.Admin, _ => "/api/v1/admin/users"),
        Send("POST", "/api/v1/admin/users", Access.Admin, Scopes.Admin, 201, _ => Task.FromResult(Json("POST", "/api/v1/admin/users", new { username = "u" + Guid.NewGuid().ToString("N")[..12] }))),
        Get("/api/v1/admin/users/{username}", Access.Admin, Scopes.Admin, _ => $"/api/v1/admin/users/{AccessWorld.Owner}"),
        Send("PATCH", "/api/v1/admin/users/{username}", Access.Admin, Scopes.Admin, 200, _ => Task.FromResult(Json("PATCH", $"/api/v1/admin/users/{AccessWorld.Owner}", new { display_name = "Ana" }))),
        Get("/api/v1/admin/clients", Access.Admin, Scopes.Admin, _ => "/api/v1/admin/clients"),
        Send("POST", "/api/v1/admin/clients", Access.Admin, Scopes.Admin, 201, _ => Task.FromResult(Json("POST", "/api/v1/admin/clients", new { name = "ci", owner = AccessWorld.Owner }))),
        Send("DELETE", "/api/v1/admin/clients/{clientId}", Access.Admin, Scopes.Admin, 204, async w => new HttpRequestMessage(HttpMethod.Delete, $"/api/v1/admin/clients/{await w.FreshClientIdAsync()}")),
        Get("/api/v1/admin/audit", Access.Admin, Scopes.Admin, _ => "/api/v1/admin/audit"),
        Get("/api/v1/admin/nodes", Access.Admin, Scopes.Admin, _ => "/api/v1/admin/nodes"),
        Get("/api/v1/admin/usage", Access.Admin, Scopes.Admin, _ => "/api/v1/admin/usage?group_by=pipeline"),
        Get("/api/v1/me/usage", Access.Shared, Scopes.RunsRead, _ => "/api/v1/me/usage"),
        // Drain, then undrain (both idempotent): the node is active again for the rows after these.
        Send("POST", "/api/v1/admin/nodes/{name}/drain", Access.Admin, Scopes.Admin, 200, w => Task.FromResult(Json("POST", $"/api/v1/admin/nodes/{w.NodeName}/drain", new { }))),
        Send("POST", "/api/v1/admin/nodes/{name}/undrain", Access.Admin, Scopes.Admin, 200, w => Task.FromResult(Json("POST", $"/api/v1/admin/nodes/{w.NodeName}/undrain", new { }))),
        Get("/api/v1/admin/retention/preview", Access.Admin, Scopes.Admin, _ => "/api/v1/admin/retention/preview"),
        Send("POST", "/api/v1/admin/retention/sweep", Access.Admin, Scopes.Admin, 200, _ => Task.FromResult(new HttpRequestMessage(HttpMethod.Post, "/api/v1/admin/retention/sweep"))),
        // GA4GH WES 1.1 (Compat/Ga4gh/Wes): the API's scopes and ownership, errors as WES ErrorResponse.
        // Public GA4GH service-info: the caller's state counts only with a runs:read credential (WesTests).
        Get("/ga4gh/wes/v1/service-info", Access.Anonymous, null, _ => "/ga4gh/wes/v1/service-info"),
        Get("/ga4gh/wes/v1/runs", Access.Shared, Scopes.RunsRead, _ => "/ga4gh/wes/v1/runs"),
        Send("POST", "/ga4gh/wes/v1/runs", Access.Shared, Scopes.RunsWrite, 200, _ => Task.FromResult(WesRun())),
        Get("/ga4gh/wes/v1/runs/{run_id}", Access.Owned, Scopes.RunsRead, w => $"/ga4gh/wes/v1/runs/{w.RunId}"),
        Get("/ga4gh/wes/v1/runs/{run_id}/status", Access.Owned, Scopes.RunsRead, w => $"/ga4gh/wes/v1/runs/{w.RunId}/status"),
        Get("/ga4gh/wes/v1/runs/{run_id}/tasks", Access.Owned, Scopes.RunsRead, w => $"/ga4gh/wes/v1/runs/{w.RunId}/tasks"),
        Get("/ga4gh/wes/v1/runs/{run_id}/tasks/{task_id}", Access.Owned, Scopes.RunsRead, w => $"/ga4gh/wes/v1/runs/{w.RunId}/tasks/{w.RunId}"),
        Send("POST", "/ga4gh/wes/v1/runs/{run_id}/cancel", Access.Owned, Scopes.RunsWrite, 200, w => Task.FromResult(new HttpRequestMessage(HttpMethod.Post, $"/ga4gh/wes/v1/runs/{w.RunId}/cancel"))),
        // Last: purging is idempotent (200 again), and no row after it reads the run's files.
        Send("DELETE", "/api/v1/runs/{id}/files", Access.Owned, Scopes.RunsWrite, 200, w => Task.FromResult(new HttpRequestMessage(HttpMethod.Delete, $"/api/v1/runs/{w.RunId}/files"))),
    ];

    private static HttpRequestMessage WesRun()
    {
        var boundary = Guid.NewGuid().ToString("N");
        var content = new ByteArrayContent(Compat.Ga4gh.WesClient.Body(boundary,
            [("workflow_type", "workflow_type", "RUNWAY"u8.ToArray()), ("workflow_url", "workflow_url", "hello"u8.ToArray())]));
        content.Headers.ContentType = MediaTypeHeaderValue.Parse($"multipart/form-data; boundary={boundary}");
        return new HttpRequestMessage(HttpMethod.Post, "/ga4gh/wes/v1/runs") { Content = content };
    }

    public async ValueTask InitializeAsync()
    {
        world = new AccessWorld(app);
        await world.BuildAsync();
    }

    public ValueTask DisposeAsync() => app.DisposeAsync();

    [Fact]
    public void Table_CoversEveryEndpointTheAppMaps()
    {
        // The web UI's pages answer people (a redirect to /login, not 401): Web/ tests cover who sees what there.
        var mapped = app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<Microsoft.AspNetCore.Mvc.RazorPages.PageActionDescriptor>() is null)
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["*"]).Select(m => $"{m} {e.RoutePattern.RawText}"))
            .ToHashSet();
        var table = Rows.Select(r => $"{r.Method} {r.Route}").ToHashSet();

        Assert.Empty(mapped.Except(table));
        Assert.Empty(table.Except(mapped));
    }

    [Fact]
    public async Task EveryEndpoint_AnswersEachCredentialAsExpected()
    {
        var wrong = new List<string>();
        foreach (var row in Rows)
        {
            foreach (var credential in Enum.GetValues<Credential>())
            {
                var expected = Expected(row, credential);
                using var request = await row.Request(world);
                request.Headers.Authorization = await HeaderAsync(row, credential);
                using var client = app.CreateClient();
                using var response = await client.SendAsync(request, Ct);
                if ((int)response.StatusCode != expected)
                {
                    var body = await response.Content.ReadAsStringAsync(Ct);
                    wrong.Add($"{row.Method} {row.Route} with {credential}: expected {expected}, got {(int)response.StatusCode} {body[..Math.Min(body.Length, 200)]}");
                }
                if (expected == 401)
                {
                    var challenges = response.Headers.WwwAuthenticate.Select(h => h.Scheme).ToList();
                    if (!challenges.Contains("Basic") || (!challenges.Contains("Bearer") && row.Access != Access.Anonymous))
                    {
                        wrong.Add($"{row.Method} {row.Route} with {credential}: 401 without both challenges ({string.Join(", ", challenges)})");
                    }
                }
            }
        }

        Assert.True(wrong.Count == 0, string.Join('\n', wrong));
    }

    private static int Expected(Row row, Credential credential) => (row.Access, credential) switch
    {
        (Access.Anonymous, _) => row.Success,
        (_, Credential.None or Credential.WrongPassword or Credential.RevokedToken or Credential.ExpiredToken) => 401,
        (_, Credential.TokenLackingScope) => row.Scope is null && !row.FullCredential ? row.Success : 403,
        (Access.Off, _) => 404,
        (Access.Admin, Credential.OtherUsersToken or Credential.OwnersToken) => 403,
        (Access.Owned, Credential.OtherUsersToken) => 404,
        _ => row.Success,
    };

    private async Task<AuthenticationHeaderValue?> HeaderAsync(Row row, Credential credential) => credential switch
    {
        Credential.None => null,
        // The anonymous token endpoint reads Basic as client credentials: a wrong password is an unknown client there.
        Credential.WrongPassword => RunwayApp.Basic(AccessWorld.Owner, "not-the-password"),
        Credential.RevokedToken => RunwayApp.Bearer(world.RevokedToken),
        Credential.ExpiredToken => RunwayApp.Bearer(world.ExpiredToken),
        Credential.TokenLackingScope => RunwayApp.Bearer(await world.TokenLackingAsync(row.Scope)),
        Credential.OtherUsersToken => RunwayApp.Bearer(world.OtherToken),
        Credential.OwnersToken => RunwayApp.Bearer(world.OwnerToken),
        _ => RunwayApp.Bearer(world.AdminToken),
    };
}
