using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Runway.Pipelines;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Pipelines;

/// <summary>Pipeline versions side by side (issue 14): version files in a pipeline's folder, and versions Runway kept.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class PipelineVersionsTests : IDisposable
{
    private readonly string pipelines = Directory.CreateTempSubdirectory("runway-versions-").FullName;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public PipelineVersionsTests() => File.SetUnixFileMode(pipelines, (UnixFileMode)0b111_101_101);

    public void Dispose() => Directory.Delete(pipelines, recursive: true);

    [Theory]
    [InlineData("1.10.0", "1.9.0")]
    [InlineData("2.0.0", "1.99.99")]
    [InlineData("1.0.0", "1.0.0-rc.1")]
    [InlineData("1.0.0-rc.10", "1.0.0-rc.9")]
    [InlineData("1.0.0-rc.1", "1.0.0-alpha")]
    [InlineData("1.0.1", "1.0")]
    public void Order_PutsTheNewerAfter(string newer, string older)
    {
        Assert.True(PipelineVersionOrder.Instance.Compare(newer, older) > 0);
        Assert.True(PipelineVersionOrder.Instance.Compare(older, newer) < 0);
    }

    [Fact]
    public void Catalog_ServesEveryVersionFile_AndTheNewestByDefault()
    {
        var folder = Directory.CreateDirectory(Path.Combine(pipelines, "echo")).FullName;
        foreach (var version in new[] { "1.9.0", "1.10.0", "1.2.0" })
        {
            File.WriteAllText(Path.Combine(folder, $"{version}.yaml"), Yaml("echo", version, version));
        }
        File.WriteAllText(Path.Combine(folder, "config.yaml"), "not: a pipeline\n");

        using var catalog = new PipelineCatalog(pipelines, NullLogger<PipelineCatalog>.Instance);

        Assert.Equal("1.10.0", catalog.Find("echo")!.Version);
        Assert.Equal(["1.10.0", "1.9.0", "1.2.0"], catalog.VersionsOf("echo").Select(p => p.Version));
        Assert.Equal("1.2.0", catalog.Find("echo", "1.2.0")!.Version);
        Assert.Null(catalog.Find("echo", "3.0.0"));
        Assert.Empty(catalog.Errors);
    }

    [Fact]
    public void Catalog_RefusesAVersionFile_ThatDeclaresAnotherVersion()
    {
        var folder = Directory.CreateDirectory(Path.Combine(pipelines, "echo")).FullName;
        File.WriteAllText(Path.Combine(folder, "1.0.0.yaml"), Yaml("echo", "1.0.1", "x"));

        using var catalog = new PipelineCatalog(pipelines, NullLogger<PipelineCatalog>.Instance);

        Assert.Null(catalog.Find("echo"));
        Assert.Contains("1.0.1", Assert.Single(catalog.Errors).Value, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Api_ListsVersions_AndRunsTheOneAsked_FromVersionFiles()
    {
        var folder = Directory.CreateDirectory(Path.Combine(pipelines, "echo")).FullName;
        File.WriteAllText(Path.Combine(folder, "1.0.0.yaml"), Yaml("echo", "1.0.0", "old"));
        File.WriteAllText(Path.Combine(folder, "1.1.0.yaml"), Yaml("echo", "1.1.0", "new"));
        await using var app = new RunwayApp(pipelines);
        using var ana = await app.CreateUserClientAsync("ana");

        var shown = await ana.GetFromJsonAsync<JsonElement>("/api/v1/pipelines/echo", Ct);

        Assert.Equal("1.1.0", shown.GetProperty("version").GetString());
        Assert.Equal(["1.1.0", "1.0.0"], shown.GetProperty("versions").EnumerateArray().Select(v => v.GetProperty("version").GetString()));
        Assert.True(shown.GetProperty("versions")[0].GetProperty("default").GetBoolean());
        Assert.Equal("old\n", await RunLogAsync(ana, new { pipeline = "echo", pipeline_version = "1.0.0" }, "1.0.0"));
        Assert.Equal("new\n", await RunLogAsync(ana, new { pipeline = "echo" }, "1.1.0"));
    }

    [Fact]
    public async Task Submit_Answers422WithTheKnownVersions_WhenTheVersionIsUnknown()
    {
        File.WriteAllText(Path.Combine(pipelines, "echo.yaml"), Yaml("echo", "1.0.0", "x"));
        await using var app = new RunwayApp(pipelines);
        using var ana = await app.CreateUserClientAsync("ana");

        using var response = await ana.PostAsJsonAsync("/api/v1/runs", new { pipeline = "echo", pipeline_version = "9.9.9" }, RunwayApp.Json, Ct);
        var body = await response.Content.ReadAsStringAsync(Ct);
        using var shown = await ana.GetAsync("/api/v1/pipelines/echo?version=9.9.9", Ct);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Contains("pipeline_version", body, StringComparison.Ordinal);
        Assert.Contains("1.0.0", body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, shown.StatusCode);
    }

    /// <summary>The file is rewritten under a running server: the version it had stays submittable (Runway kept it).</summary>
    [Fact]
    public async Task Submit_RunsTheEarlierVersion_AfterTheYamlChangedUnderTheServer()
    {
        var file = Path.Combine(pipelines, "echo.yaml");
        File.WriteAllText(file, Yaml("echo", "1.0.0", "before"));
        await using var app = new RunwayApp(pipelines);
        using var ana = await app.CreateUserClientAsync("ana");

        File.WriteAllText(file, Yaml("echo", "2.0.0", "after"));
        await Eventually.TrueAsync(async () =>
            (await ana.GetFromJsonAsync<JsonElement>("/api/v1/pipelines/echo", Ct)).GetProperty("version").GetString() == "2.0.0",
            TimeSpan.FromSeconds(20), "the catalog to load 2.0.0");
        var shown = await ana.GetFromJsonAsync<JsonElement>("/api/v1/pipelines/echo", Ct);

        Assert.Equal(["2.0.0", "1.0.0"], shown.GetProperty("versions").EnumerateArray().Select(v => v.GetProperty("version").GetString()));
        Assert.False(shown.GetProperty("versions")[1].GetProperty("declared").GetBoolean());
        Assert.Equal("before\n", await RunLogAsync(ana, new { pipeline = "echo", pipeline_version = "1.0.0" }, "1.0.0"));
        Assert.Equal("after\n", await RunLogAsync(ana, new { pipeline = "echo" }, "2.0.0"));
        var old = await ana.GetFromJsonAsync<JsonElement>("/api/v1/pipelines/echo?version=1.0.0", Ct);
        Assert.Equal("1.0.0", old.GetProperty("version").GetString());
    }

    private static string Yaml(string name, string version, string says) => $$"""
        name: {{name}}
        version: "{{version}}"
        command: [/bin/echo, "{{says}}"]
        """;

    private static async Task<string> RunLogAsync(HttpClient client, object body, string expectedVersion)
    {
        var submitted = await RunwayApp.SubmitAsync(client, body);
        var id = submitted.GetProperty("id").GetString()!;
        Assert.Equal(expectedVersion, submitted.GetProperty("pipeline_version").GetString());
        var run = await RunwayApp.WaitFinalAsync(client, id);
        Assert.Equal("succeeded", run.GetProperty("state").GetString());
        return await client.GetStringAsync($"/api/v1/runs/{id}/log?stream=stdout", Ct);
    }
}
