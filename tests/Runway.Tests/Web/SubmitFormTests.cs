using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Web;

/// <summary>The pipeline form over HTTP: its upload is streamed, and nothing of a forged post is stored.</summary>
public sealed partial class SubmitFormTests : IAsyncLifetime
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

    private async Task<string> TokenAsync()
    {
        var page = await web.Http.GetStringAsync("/pipelines/wordstats", Ct);
        return Csrf().Match(page).Groups[1].Value;
    }

    private static MultipartFormDataContent Form(params (string Name, HttpContent Content, string? FileName)[] parts)
    {
        var form = new MultipartFormDataContent();
        foreach (var (name, content, fileName) in parts)
        {
            if (fileName is null)
            {
                form.Add(content, name);
            }
            else
            {
                form.Add(content, name, fileName);
            }
        }
        return form;
    }

    private async Task<int> FileCountAsync() =>
        (await web.Http.GetFromJsonAsync<JsonElement>("/api/v1/files", Ct)).GetProperty("files").GetArrayLength();

    [Fact]
    public async Task Upload_IsStoredAndSubmitted_WhenTheTokenComesFirst()
    {
        using var form = Form(
            ("__csrf", new StringContent(await TokenAsync()), null),
            ("tab", new StringContent("form"), null),
            ("p.min_length", new StringContent("2"), null),
            ("upload.input", new ByteArrayContent("one two two\n"u8.ToArray()), "words.txt"));

        using var response = await web.Http.PostAsync("/pipelines/wordstats", form, Ct);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/runs/", response.Headers.Location?.OriginalString, StringComparison.Ordinal);
        Assert.Equal(1, await FileCountAsync());
    }

    [Fact]
    public async Task Upload_StoresNothing_WhenTheTokenDoesNotComeFirst()
    {
        using var form = Form(
            ("upload.input", new ByteArrayContent("one two two\n"u8.ToArray()), "words.txt"),
            ("__csrf", new StringContent(await TokenAsync()), null));

        using var response = await web.Http.PostAsync("/pipelines/wordstats", form, Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(0, await FileCountAsync());
    }

    [Fact]
    public async Task Upload_StoresNothing_WithAWrongToken()
    {
        using var form = Form(
            ("__csrf", new StringContent("CfDJ8-not-a-token"), null),
            ("upload.input", new ByteArrayContent("one two two\n"u8.ToArray()), "words.txt"));

        using var response = await web.Http.PostAsync("/pipelines/wordstats", form, Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(0, await FileCountAsync());
    }

    [Fact]
    public async Task BadValue_Answers422_WithTheMessageNextToTheField_AndTheUploadKeptForTheNextTry()
    {
        using var form = Form(
            ("__csrf", new StringContent(await TokenAsync()), null),
            ("tab", new StringContent("form"), null),
            ("p.min_length", new StringContent("two"), null),
            ("upload.input", new ByteArrayContent("one two two\n"u8.ToArray()), "words.txt"));

        using var response = await web.Http.PostAsync("/pipelines/wordstats", form, Ct);
        var page = await response.Content.ReadAsStringAsync(Ct);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Matches("id=\"p-min_length-error\">must be an integer", page);
        Assert.Matches("<option value=\"f_[0-9A-Z]{26}\" selected=\"selected\">words.txt", page);
    }

    [GeneratedRegex("name=\"__csrf\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex Csrf();

    public async ValueTask DisposeAsync()
    {
        web.Dispose();
        await app.DisposeAsync();
    }
}
