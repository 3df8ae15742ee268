using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Mvc.Testing;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Web;

/// <summary>A browser-like HTTP client of the pages (cookies kept, redirects not followed), for what needs no Chromium.</summary>
public sealed partial class WebClient(RunwayApp app) : IDisposable
{
    public HttpClient Http { get; } = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Posts a form of the page at <paramref name="path"/> with its antiforgery token, as the browser would.</summary>
    public async Task<HttpResponseMessage> PostFormAsync(string path, IReadOnlyDictionary<string, string> fields, string? formPage = null)
    {
        var page = await Http.GetStringAsync(formPage ?? path, Ct);
        var token = Csrf().Match(page);
        Assert.True(token.Success, $"no antiforgery field on {formPage ?? path}");
        var body = new Dictionary<string, string>(fields) { ["__csrf"] = token.Groups[1].Value };
        using var content = new FormUrlEncodedContent(body);
        return await Http.PostAsync(path, content, Ct);
    }

    public async Task<HttpResponseMessage> SignInAsync(string username, string password, string? returnUrl = null)
    {
        var path = returnUrl is null ? "/login" : "/login?ReturnUrl=" + Uri.EscapeDataString(returnUrl);
        return await PostFormAsync(path, new Dictionary<string, string> { ["username"] = username, ["password"] = password });
    }

    public async Task SignInOrFailAsync(string username)
    {
        using var response = await SignInAsync(username, RunwayApp.PasswordOf(username));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
    }

    [GeneratedRegex("name=\"__csrf\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex Csrf();

    public void Dispose() => Http.Dispose();
}
