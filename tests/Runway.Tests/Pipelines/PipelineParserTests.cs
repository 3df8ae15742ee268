using System.Text.Json.Nodes;
using Runway.Pipelines;

namespace Runway.Tests.Pipelines;

public class PipelineParserTests
{
    private const string Full = """
        name: wordstats
        version: 1.2.0
        title: Word statistics
        description: Counts words.
        parameters:
          input:      {type: file, required: true, description: Text file to analyse}
          min_length: {type: integer, default: 1, minimum: 1, maximum: 100}
          ratio:      {type: number, default: 0.5, minimum: 0, maximum: 1.5}
          lowercase:  {type: boolean, default: false}
          language:   {type: enum, values: [en, fr, de], default: en}
          label:      {type: string, pattern: "[a-z]+"}
        command:
          - "{pipeline_dir}/wordstats.sh"
          - --input
          - "{input}"
          - "--min={min_length}"
          - {if: lowercase, then: [--lowercase]}
          - {if: label, then: [--label, "{label}"]}
        env:
          LANGUAGE: "{language}"
          LABEL: "{label}"
        outputs: ["counts.tsv", "plots/*.svg"]
        resources: {cpus: 2, memory: 4G, gpus: 1, time_limit: 1h30m}
        network: true
        executor: slurm
        allowed_groups: [astro, bio]
        """;

    [Fact]
    public void Parse_ReadsEveryField_WhenFileIsComplete()
    {
        var pipeline = PipelineFiles.Parse(Full, "/srv/pipelines/wordstats/pipeline.yaml");

        Assert.Equal("wordstats", pipeline.Name);
        Assert.Equal("1.2.0", pipeline.Version);
        Assert.Equal("Word statistics", pipeline.Title);
        Assert.Equal("Counts words.", pipeline.Description);
        Assert.Equal(["input", "min_length", "ratio", "lowercase", "language", "label"], pipeline.Parameters.Select(p => p.Name));
        var input = pipeline.Parameters[0];
        Assert.Equal(ParameterType.File, input.Type);
        Assert.True(input.Required);
        Assert.Equal("Text file to analyse", input.Description);
        var minLength = pipeline.Parameters[1];
        Assert.Equal((ParameterType.Integer, 1.0, 100.0), (minLength.Type, minLength.Minimum, minLength.Maximum));
        Assert.True(JsonNode.DeepEquals(JsonValue.Create(1L), minLength.Default));
        Assert.Equal(0.5, pipeline.Parameters[2].Default!.GetValue<double>());
        Assert.False(pipeline.Parameters[3].Default!.GetValue<bool>());
        Assert.Equal(["en", "fr", "de"], pipeline.Parameters[4].Values);
        Assert.Equal("[a-z]+", pipeline.Parameters[5].Pattern);
        Assert.Null(pipeline.Parameters[5].Default);

        Assert.Equal(6, pipeline.Command.Count);
        Assert.Equal(new ArgumentPart("--min={min_length}"), pipeline.Command[3]);
        var conditional = Assert.IsType<ConditionalPart>(pipeline.Command[5]);
        Assert.Equal("label", conditional.Parameter);
        Assert.Equal(["--label", "{label}"], conditional.Then.Select(a => a.Template));

        Assert.Equal("{language}", pipeline.Environment["LANGUAGE"]);
        Assert.Equal(["counts.tsv", "plots/*.svg"], pipeline.Outputs);
        Assert.Equal(new PipelineResourcesView(2, 4096, 1), new PipelineResourcesView(pipeline.Resources.Cpus, pipeline.Resources.MemoryMb, pipeline.Resources.Gpus));
        Assert.Equal(TimeSpan.FromMinutes(90), pipeline.TimeLimit);
        Assert.True(pipeline.Network);
        Assert.Equal("slurm", pipeline.Executor);
        Assert.Equal(["astro", "bio"], pipeline.AllowedGroups);
        Assert.Equal("/srv/pipelines/wordstats", pipeline.Directory);
        Assert.Equal("/srv/pipelines/wordstats/pipeline.yaml", pipeline.SourcePath);
    }

    [Fact]
    public void Parse_AppliesDefaults_WhenOptionalKeysAreAbsent()
    {
        var pipeline = PipelineFiles.Parse("name: tiny\nversion: '1'\ncommand: [/bin/true]\n");

        Assert.Empty(pipeline.Parameters);
        Assert.Null(pipeline.Executor); // the server's Runway:DefaultExecutor applies
        Assert.Null(pipeline.Slurm);
        Assert.Null(pipeline.TimeLimit);
        Assert.Equal(1.0, pipeline.Resources.Cpus);
        Assert.Null(pipeline.Resources.MemoryMb);
        Assert.False(pipeline.Network); // a run has no network unless its pipeline says so
        Assert.Empty(pipeline.Environment);
        Assert.Empty(pipeline.AllowedGroups);
    }

    [Fact]
    public void Parse_ReadsFractionalCpus()
    {
        var pipeline = PipelineFiles.Parse("name: t\nversion: '1'\ncommand: [x]\nresources: {cpus: 0.5}\n");

        Assert.Equal(0.5, pipeline.Resources.Cpus);
    }

    [Theory]
    [InlineData("90s", 90)]
    [InlineData("10m", 600)]
    [InlineData("1h30m", 5400)]
    [InlineData("2h", 7200)]
    [InlineData("1d", 86400)]
    [InlineData("3600", 3600)]
    public void Parse_ReadsTimeLimit_InEachNotation(string limit, int seconds)
    {
        var top = PipelineFiles.Parse($"name: t\nversion: '1'\ncommand: [x]\ntime_limit: {limit}\n");
        var nested = PipelineFiles.Parse($"name: t\nversion: '1'\ncommand: [x]\nresources: {{time_limit: {limit}}}\n");

        Assert.Equal(TimeSpan.FromSeconds(seconds), top.TimeLimit);
        Assert.Equal(TimeSpan.FromSeconds(seconds), nested.TimeLimit);
    }

    [Theory]
    [InlineData("512M", 512)]
    [InlineData("4G", 4096)]
    [InlineData("1024", 1024)]
    [InlineData("2GiB", 2048)]
    [InlineData("1T", 1048576)]
    public void Parse_ReadsMemory_InMiB(string memory, long mib)
    {
        var pipeline = PipelineFiles.Parse($"name: t\nversion: '1'\ncommand: [x]\nresources: {{memory: {memory}}}\n");

        Assert.Equal(mib, pipeline.Resources.MemoryMb);
    }

    [Fact]
    public void Parse_NamesFileFieldAndLine_WhenAFieldIsWrong()
    {
        var yaml = "name: t\nversion: '1'\ncommand: [x]\nparameters:\n  n: {type: integer, default: abc}\n";

        var error = Assert.Throws<PipelineFormatException>(() => PipelineParser.Parse(yaml, "/srv/pipelines/t.yaml"));

        Assert.StartsWith("/srv/pipelines/t.yaml: parameters.n.default: must be an integer (line 5", error.Message, StringComparison.Ordinal);
    }

    private sealed record PipelineResourcesView(double Cpus, long? MemoryMb, int Gpus);
}
