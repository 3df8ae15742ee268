using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Web;

/// <summary>The Files page over HTTP: the upload is streamed to the same store as the API's, and a forged post stores nothing.</summary>
public sealed partial class FilesPageTests : IAsyncLifetime
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

    private async Task<string> TokenAsync() => Csrf().Match(await web.Http.GetStringAsync("/files", Ct)).Groups[1].Value;

    private async Task<JsonElement> FilesAsync() => (await web.Http.GetFromJsonAsync<JsonElement>("/api/v1/files", Ct)).GetProperty("files");

    [Fact]
    public async Task Upload_IsStoredWithItsSha256_AndListed()
    {
        using var form = new MultipartFormDataContent
        {
            { new StringContent(await TokenAsync()), "__csrf" },
            { new ByteArrayContent("hello\n"u8.ToArray()), "file", "hello.txt" },
        };
        using var response = await web.Http.PostAsync("/files", form, Ct);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var file = Assert.Single((await FilesAsync()).EnumerateArray());
        Assert.Equal("5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03", file.GetProperty("sha256").GetString());
        Assert.Equal($"/files?uploaded={file.GetProperty("id").GetString()}", response.Headers.Location?.OriginalString);
        var page = await web.Http.GetStringAsync(response.Headers.Location!.OriginalString, Ct);
        Assert.Contains("5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Upload_StoresNothing_WithoutTheTokenFirst()
    {
        var token = await TokenAsync();
        using var form = new MultipartFormDataContent
        {
            { new ByteArrayContent("forged\n"u8.ToArray()), "file", "forged.txt" },
            { new StringContent(token), "__csrf" },
        };
        using var response = await web.Http.PostAsync("/files", form, Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(0, (await FilesAsync()).GetArrayLength());
    }

    [Fact]
    public async Task Delete_NeedsTheAntiforgeryToken()
    {
        using (var form = new MultipartFormDataContent { { new StringContent(await TokenAsync()), "__csrf" }, { new ByteArrayContent("x"u8.ToArray()), "file", "x.txt" } })
        using (var upload = await web.Http.PostAsync("/files", form, Ct))
        {
            Assert.Equal(HttpStatusCode.Redirect, upload.StatusCode);
        }
        var id = (await FilesAsync())[0].GetProperty("id").GetString()!;

        using (var forged = new FormUrlEncodedContent(new Dictionary<string, string>()))
        using (var refused = await web.Http.PostAsync($"/files?handler=delete&id={id}", forged, Ct))
        {
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        }
        Assert.Equal(1, (await FilesAsync()).GetArrayLength());

        using var deleted = await web.PostFormAsync($"/files?handler=delete&id={id}", new Dictionary<string, string>(), formPage: "/files");
        Assert.Equal(HttpStatusCode.Redirect, deleted.StatusCode);
        Assert.Equal(0, (await FilesAsync()).GetArrayLength());
    }

    [GeneratedRegex("name=\"__csrf\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex Csrf();

    public async ValueTask DisposeAsync()
    {
        web.Dispose();
        await app.DisposeAsync();
    }
}
