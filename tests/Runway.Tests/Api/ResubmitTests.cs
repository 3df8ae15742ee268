using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Api;

public sealed class ResubmitTests : UserClientTest
{
    [Fact]
    public async Task Resubmit_MakesARunWithTheSameParams_LinkedByResubmittedFrom()
    {
        var first = await RunwayApp.SubmitAsync(Client, new { pipeline = "hello", @params = new { name = "Ana" }, name = "greet", tags = new { project = "m31" } });
        var id = first.GetProperty("id").GetString()!;
        await RunwayApp.WaitFinalAsync(Client, id);

        using var response = await Client.PostAsync($"/api/v1/runs/{id}/resubmit", null, Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);

        Assert.True(response.StatusCode == HttpStatusCode.Created, text);
        var again = JsonDocument.Parse(text).RootElement;
        var newId = again.GetProperty("id").GetString()!;
        Assert.NotEqual(id, newId);
        Assert.Equal($"/api/v1/runs/{newId}", response.Headers.Location?.ToString());
        Assert.Equal(id, again.GetProperty("resubmitted_from").GetString());
        Assert.Equal("Ana", again.GetProperty("params").GetProperty("name").GetString());
        Assert.Equal("greet", again.GetProperty("name").GetString());
        Assert.Equal("m31", again.GetProperty("tags").GetProperty("project").GetString());
        var run = await Client.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{newId}", Ct);
        Assert.Equal($"resubmitted from run {id}", run.GetProperty("events")[0].GetProperty("reason").GetString());
        Assert.Equal("succeeded", (await RunwayApp.WaitFinalAsync(Client, newId)).GetProperty("state").GetString());
    }

    [Fact]
    public async Task Resubmit_Answers422NamingTheFile_WhenAnInputWasDeletedSince()
    {
        using var content = new MultipartFormDataContent { { new ByteArrayContent("some words\n"u8.ToArray()), "file", "words.txt" } };
        using var upload = await Client.PostAsync("/api/v1/files", content, Ct);
        var fileId = (await upload.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetString()!;
        var id = (await RunwayApp.SubmitAsync(Client, new { pipeline = "checksum", @params = new { input = fileId } })).GetProperty("id").GetString()!;
        Assert.Equal("succeeded", (await RunwayApp.WaitFinalAsync(Client, id)).GetProperty("state").GetString());
        using var deleted = await Client.DeleteAsync($"/api/v1/files/{fileId}", Ct);
        Assert.True(deleted.IsSuccessStatusCode, $"deleting the upload answered {(int)deleted.StatusCode}");

        using var response = await Client.PostAsync($"/api/v1/runs/{id}/resubmit", null, Ct);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement;

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(fileId, problem.GetProperty("errors").GetProperty("params.input")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Resubmit_Answers404_ForAnotherUsersRun()
    {
        var id = (await RunwayApp.SubmitAsync(Client, new { pipeline = "hello" })).GetProperty("id").GetString()!;
        using var bob = await App.CreateUserClientAsync("bob");

        using var response = await bob.PostAsync($"/api/v1/runs/{id}/resubmit", null, Ct);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var runs = await bob.GetFromJsonAsync<JsonElement>("/api/v1/runs", Ct);
        Assert.Equal(0, runs.GetProperty("runs").GetArrayLength());
    }

    [Fact]
    public async Task Resubmit_Answers422NamingTheKnownVersions_WhenAnUnknownVersionIsAsked()
    {
        var id = (await RunwayApp.SubmitAsync(Client, new { pipeline = "hello" })).GetProperty("id").GetString()!;

        using var response = await Client.PostAsJsonAsync($"/api/v1/runs/{id}/resubmit", new { pipeline_version = "9.9.9" }, Ct);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement;

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        // The one submission path answers it (pipeline versions side by side): the known versions, newest first.
        Assert.Contains("known versions (newest first): 1.0.0", problem.GetProperty("errors").GetProperty("pipeline_version")[0].GetString(), StringComparison.Ordinal);
        using var same = await Client.PostAsJsonAsync($"/api/v1/runs/{id}/resubmit", new { pipeline_version = "1.0.0" }, Ct);
        Assert.Equal(HttpStatusCode.Created, same.StatusCode);
    }
}
