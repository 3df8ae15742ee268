using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Runway.Files;
using Runway.Pipelines;

namespace Runway.Tests.Pipelines;

/// <summary>The pipelines shipped in the repository's pipelines/ folder load, and run as their YAML says.</summary>
public sealed class ExamplePipelinesTests : IDisposable
{
    private readonly PipelineCatalog catalog =
        new(Path.Combine(PipelineFiles.RepositoryRoot(), "pipelines"), NullLogger<PipelineCatalog>.Instance);

    private readonly ScratchDirectory run = new();

    public void Dispose()
    {
        catalog.Dispose();
        run.Dispose();
    }

    [Fact]
    public void EveryExample_Loads()
    {
        Assert.Empty(catalog.Errors);
        Assert.Equal(["checksum", "hello", "sleep", "wordstats"], catalog.All.Select(p => p.Name));
    }

    [Fact]
    public void ReadmeFormatExample_Parses()
    {
        var readme = File.ReadAllText(Path.Combine(PipelineFiles.RepositoryRoot(), "pipelines", "README.md"));
        var start = readme.IndexOf("```yaml\n", StringComparison.Ordinal) + "```yaml\n".Length;
        var yaml = readme[start..readme.IndexOf("```", start, StringComparison.Ordinal)];

        var pipeline = PipelineParser.Parse(yaml, "/srv/pipelines/README.yaml");

        Assert.Equal(6, pipeline.Parameters.Count);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void WordstatsScript_IsExecutable()
    {
        var script = Path.Combine(catalog.Find("wordstats")!.Directory, "wordstats.sh");

        Assert.True(File.GetUnixFileMode(script).HasFlag(UnixFileMode.UserExecute));
    }

    [Fact]
    public async Task Hello_GreetsLiterally_WhenNameHoldsShellSyntax()
    {
        var (exitCode, stdout, _) = await RunAsync("hello", """{"name": "Ada; $(id)", "shout": true}""");

        Assert.Equal(0, exitCode);
        Assert.Equal("HELLO, ADA; $(ID)!\n", stdout);
        Assert.Equal("HELLO, ADA; $(ID)!\n", File.ReadAllText(Path.Combine(run.Path, "greeting.txt")));
    }

    [Fact]
    public async Task Sleep_Finishes_WhenSecondsIsZero()
    {
        var (exitCode, stdout, _) = await RunAsync("sleep", """{"seconds": 0}""");

        Assert.Equal(0, exitCode);
        Assert.Equal("sleeping 0 s\ndone\n", stdout);
        Assert.Equal(TimeSpan.FromHours(1), catalog.Find("sleep")!.TimeLimit);
    }

    [Fact]
    public async Task Checksum_WritesSizeAndSha256()
    {
        var content = "checksum me\n"u8.ToArray();

        var (exitCode, _, stderr) = await RunAsync("checksum", "{}", content);

        Assert.True(exitCode == 0, stderr);
        var expected = $"name: input.txt\nsize: {content.Length}\nsha256: {Convert.ToHexStringLower(SHA256.HashData(content))}\n";
        Assert.Equal(expected, File.ReadAllText(Path.Combine(run.Path, "checksum.txt")));
    }

    [Fact]
    public async Task Wordstats_CountsWordsAndDrawsTheChart()
    {
        var (exitCode, stdout, stderr) = await RunAsync("wordstats", """{"lowercase": true, "min_length": 3, "top": 2}""",
            System.Text.Encoding.UTF8.GetBytes("The cat and the hat.\nThe CAT sat; don't 'panic', caf\u00e9!\n"));

        Assert.True(exitCode == 0, stderr);
        Assert.Equal(
            "word\tcount\nthe\t3\ncat\t2\nand\t1\ncaf\u00e9\t1\ndon't\t1\nhat\t1\npanic\t1\nsat\t1\n",
            File.ReadAllText(Path.Combine(run.Path, "counts.tsv")));
        Assert.Equal("length\toccurrences\tdistinct\n3\t8\t5\n4\t1\t1\n5\t2\t2\n", File.ReadAllText(Path.Combine(run.Path, "lengths.tsv")));
        var svg = File.ReadAllText(Path.Combine(run.Path, "lengths.svg"));
        Assert.StartsWith("<svg xmlns=\"http://www.w3.org/2000/svg\"", svg, StringComparison.Ordinal);
        Assert.EndsWith("</svg>\n", svg, StringComparison.Ordinal);
        Assert.Equal(3, System.Text.RegularExpressions.Regex.Count(svg, "<rect x="));
        Assert.Contains("words:        11 (8 distinct, at least 3 characters long)", stdout, StringComparison.Ordinal);
        Assert.Contains("       3  the\n       2  cat\n", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("  and\n", stdout, StringComparison.Ordinal);
    }

    private async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string name, string json, byte[]? upload = null)
    {
        var pipeline = catalog.Find(name)!;
        var files = new Dictionary<string, StoredFile>();
        if (upload is not null)
        {
            files["input"] = new StoredFile { Id = PipelineFiles.FileId, Name = "input.txt", Sha256 = "", Owner = "ana" };
            json = json.Replace("{", $$"""{"input": "{{PipelineFiles.FileId}}",""", StringComparison.Ordinal).Replace(",}", "}", StringComparison.Ordinal);
        }
        var validation = ParameterValidator.Validate(pipeline, JsonNode.Parse(json)!.AsObject());
        Assert.True(validation.IsValid, string.Join("; ", validation.Errors.Select(e => $"{e.Key}: {string.Join(", ", e.Value)}")));
        var spec = RunSpecFactory.Create(pipeline, validation.Params, "01JD3Z6S7T8V9W0X1Y2Z3A4B5C", run.Path, files);
        foreach (var input in spec.Inputs)
        {
            run.Write(input.RelativePath, "");
            await File.WriteAllBytesAsync(Path.Combine(run.Path, input.RelativePath), upload!, TestContext.Current.CancellationToken);
        }
        Assert.All(spec.Outputs, output => Assert.False(File.Exists(Path.Combine(run.Path, output))));
        return await PipelineFiles.ExecuteAsync(spec.Argv, run.Path);
    }
}
