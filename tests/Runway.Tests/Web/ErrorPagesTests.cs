using System.Net;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Web;

/// <summary>A page's 403 or 404 is a page for a person; the API's stay problem+json for programs.</summary>
public sealed class ErrorPagesTests : IAsyncLifetime
{
    private readonly RunwayApp app = new();
    private WebClient web = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        await app.EnsureUserAsync("ana");
        web = new WebClient(app);
        await web.SignInOrFailAsync("ana");
    }

    [Theory]
    [InlineData("/admin", HttpStatusCode.Forbidden, "Not for you")]
    [InlineData("/admin/users", HttpStatusCode.Forbidden, "Not for you")]
    [InlineData("/runs/01JD0000000000000000000000", HttpStatusCode.NotFound, "Not found")]
    [InlineData("/no/such/page", HttpStatusCode.NotFound, "Not found")]
    public async Task Page_AnswersARenderedErrorPage(string path, HttpStatusCode status, string title)
    {
        using var response = await web.Http.GetAsync(path, Ct);

        Assert.Equal(status, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains($"<h1>{title}</h1>", await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/admin/users", true)]
    [InlineData("/error/403", false)]
    public async Task Forbidden_SaysAdministratorsOnlyForTheAdminPages(string path, bool forAdministrators)
    {
        using var response = await web.Http.GetAsync(path, Ct);
        var body = await response.Content.ReadAsStringAsync(Ct);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(forAdministrators, body.Contains("for administrators", StringComparison.Ordinal));
        Assert.Equal(forAdministrators, !body.Contains("Your account may not do this", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("/api/v1/admin/users", HttpStatusCode.Forbidden)]
    [InlineData("/api/v1/runs/01JD0000000000000000000000", HttpStatusCode.NotFound)]
    [InlineData("/api/v1/no-such-thing", HttpStatusCode.NotFound)]
    public async Task Api_StillAnswersProblemJson(string path, HttpStatusCode status)
    {
        using var response = await web.Http.GetAsync(path, Ct);

        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    public async ValueTask DisposeAsync()
    {
        web.Dispose();
        await app.DisposeAsync();
    }
}
