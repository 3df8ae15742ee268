using System.Net;
using System.Net.Http.Json;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Web;

/// <summary>The sign-in cookie over HTTP: what a browser gets, and what the API still answers to programs.</summary>
public sealed class SignInTests : IAsyncLifetime
{
    private readonly RunwayApp app = new(settings: new Dictionary<string, string> { ["Runway:Auth:FailedLoginsPerUserAndAddress"] = "3" });
    private WebClient web = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        await app.EnsureUserAsync("ana");
        web = new WebClient(app);
    }

    [Fact]
    public async Task Page_RedirectsToLogin_WhenAnonymous()
    {
        using var response = await web.Http.GetAsync("/?state=running", Ct);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/login?ReturnUrl=%2F%3Fstate%3Drunning", response.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task Api_Answers401Problem_NotARedirect_WhenAnonymous()
    {
        using var response = await web.Http.GetAsync("/api/v1/runs", Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task SignIn_SetsHttpOnlyLaxCookie_AndGoesBackToTheLocalPage()
    {
        using var response = await web.SignInAsync("ana", RunwayApp.PasswordOf("ana"), returnUrl: "/?state=running");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/?state=running", response.Headers.Location?.OriginalString);
        var cookie = Assert.Single(response.Headers.GetValues("Set-Cookie"), c => c.StartsWith("runway_session=", StringComparison.Ordinal));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=lax", cookie, StringComparison.OrdinalIgnoreCase);
        using var home = await web.Http.GetAsync("/", Ct);
        Assert.Equal(HttpStatusCode.OK, home.StatusCode);
    }

    [Theory]
    [InlineData("https://evil.example/")]
    [InlineData("//evil.example/")]
    [InlineData("/\\evil.example/")]
    public async Task SignIn_GoesHome_WhenTheReturnUrlIsNotLocal(string returnUrl)
    {
        using var response = await web.SignInAsync("ana", RunwayApp.PasswordOf("ana"), returnUrl);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/", response.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task SignIn_IsRefused_WithoutTheAntiforgeryToken()
    {
        using var content = new FormUrlEncodedContent(new Dictionary<string, string> { ["username"] = "ana", ["password"] = RunwayApp.PasswordOf("ana") });
        using var response = await web.Http.PostAsync("/login", content, Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.DoesNotContain(response.Headers.TryGetValues("Set-Cookie", out var set) ? set : [], c => c.StartsWith("runway_session=", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WrongPassword_ShowsTheError_ThenTheThrottle_ForEvenTheRightPassword()
    {
        for (var i = 0; i < 3; i++)
        {
            using var wrong = await web.SignInAsync("ana", "not-the-password");
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
            Assert.Contains("Wrong user name or password", await wrong.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        }

        using var throttled = await web.SignInAsync("ana", RunwayApp.PasswordOf("ana"));

        Assert.Equal((HttpStatusCode)429, throttled.StatusCode);
        Assert.NotNull(throttled.Headers.RetryAfter);
        Assert.Contains("Too many failed sign-ins", await throttled.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        // The same counters as HTTP Basic on the API: the API refuses the password too.
        using var api = app.CreateClient();
        api.DefaultRequestHeaders.Authorization = RunwayApp.Basic("ana", RunwayApp.PasswordOf("ana"));
        using var basic = await api.GetAsync("/api/v1/me", Ct);
        Assert.Equal((HttpStatusCode)429, basic.StatusCode);
    }

    [Fact]
    public async Task Cookie_ReadsTheApi_ButCannotChangeThroughIt()
    {
        await web.SignInOrFailAsync("ana");

        using var list = await web.Http.GetAsync("/api/v1/runs", Ct);
        using var submit = await web.Http.PostAsJsonAsync("/api/v1/runs", new { pipeline = "hello", @params = new { } }, Ct);

        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, submit.StatusCode);
    }

    [Theory]
    [InlineData("{\"password\": \"a-new-password-1\"}")]
    [InlineData("{\"enabled\": false}")]
    public async Task Cookie_StopsWorking_WhenThePasswordIsReset_OrTheUserDisabled(string change)
    {
        await web.SignInOrFailAsync("ana");
        using var admin = app.CreateAdminClient();
        using var body = new StringContent(change, System.Text.Encoding.UTF8, "application/json");
        using var changed = await admin.PatchAsync("/api/v1/admin/users/ana", body, Ct);
        Assert.True(changed.IsSuccessStatusCode, await changed.Content.ReadAsStringAsync(Ct));

        using var after = await web.Http.GetAsync("/", Ct);

        Assert.Equal(HttpStatusCode.Redirect, after.StatusCode);
    }

    [Fact]
    public async Task Logout_EndsTheSession()
    {
        await web.SignInOrFailAsync("ana");

        using var logout = await web.PostFormAsync("/logout", new Dictionary<string, string>(), formPage: "/");
        using var after = await web.Http.GetAsync("/", Ct);

        Assert.Equal(HttpStatusCode.Redirect, logout.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, after.StatusCode);
        Assert.StartsWith("/login", after.Headers.Location?.OriginalString, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pages_CarryAContentSecurityPolicy_WithoutInlineScripts()
    {
        using var login = await web.Http.GetAsync("/login", Ct);

        var policy = string.Join(";", login.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("script-src 'self'", policy, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", policy, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", policy, StringComparison.Ordinal);
    }

    public async ValueTask DisposeAsync()
    {
        web.Dispose();
        await app.DisposeAsync();
    }
}
