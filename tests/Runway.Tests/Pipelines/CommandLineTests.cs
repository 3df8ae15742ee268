using System.Text.Json.Nodes;
using Runway.Pipelines;

namespace Runway.Tests.Pipelines;

public class CommandLineTests
{
    private const string Hostile = "; rm -rf / $(id) `x` 'q' \"dq\" *\n{run_dir} | & > out";

    private static readonly Pipeline Pipeline = PipelineFiles.Parse("""
        name: t
        version: '1'
        parameters:
          input: {type: file, required: true}
          text:  {type: string, default: hi}
          count: {type: integer, default: 3}
          ratio: {type: number, default: 0.25}
          loud:  {type: boolean, default: false}
          label: {type: string}
          level: {type: integer}
        command:
          - "{pipeline_dir}/run.sh"
          - "{input}"
          - "--text={text}"
          - "{count}x{ratio}"
          - "{{literal}} }}{{ {run_id}"
          - "{run_dir}/out"
          - {if: loud, then: [--loud, "{loud}"]}
          - {if: label, then: [--label, "{label}"]}
          - {if: level, then: [--level, "{level}"]}
        """, "/srv/pipelines/t/pipeline.yaml");

    private static readonly CommandContext Context =
        new("01JD3Z6S7T8V9W0X1Y2Z3A4B5C", "/data/runs/01JD", new Dictionary<string, string> { ["input"] = "/data/runs/01JD/inputs/input/a b.txt" });

    private static IReadOnlyList<string> Render(string json) =>
        CommandLine.Render(Pipeline, ParameterValidator.Validate(Pipeline, JsonNode.Parse(json)!.AsObject()).Params, Context);

    [Fact]
    public void Render_SubstitutesPlaceholdersAndBuiltIns_WhenDefaultsApply()
    {
        var argv = Render($$"""{"input": "{{PipelineFiles.FileId}}"}""");

        Assert.Equal(
            [
                "/srv/pipelines/t/run.sh",
                "/data/runs/01JD/inputs/input/a b.txt",
                "--text=hi",
                "3x0.25",
                "{literal} }{ 01JD3Z6S7T8V9W0X1Y2Z3A4B5C",
                "/data/runs/01JD/out",
            ],
            argv);
    }

    [Fact]
    public void Render_IncludesConditionals_WhenTrueOrSet()
    {
        var argv = Render($$"""{"input": "{{PipelineFiles.FileId}}", "loud": true, "label": "x", "level": 0}""");

        Assert.Equal(["--loud", "true", "--label", "x", "--level", "0"], argv.Skip(6));
    }

    [Fact]
    public void Render_LeavesConditionalsOut_WhenFalseEmptyOrAbsent()
    {
        var argv = Render($$"""{"input": "{{PipelineFiles.FileId}}", "loud": false, "label": ""}""");

        Assert.Equal(6, argv.Count);
    }

    [Fact]
    public void Render_KeepsShellSyntaxAsOneLiteralArgument_WhenValueIsHostile()
    {
        var json = new JsonObject { ["input"] = PipelineFiles.FileId, ["text"] = Hostile, ["label"] = Hostile };
        var argv = CommandLine.Render(Pipeline, ParameterValidator.Validate(Pipeline, json).Params, Context);

        Assert.Equal(8, argv.Count);
        Assert.Equal("--text=" + Hostile, argv[2]);
        Assert.Equal(["--label", Hostile], argv.Skip(6));
    }

    [Fact]
    public async Task Render_PassesHostileValueThroughAShellUntouched_WhenItIsAPositionalArgument()
    {
        var pipeline = PipelineFiles.Parse("name: t\nversion: '1'\nparameters:\n  s: {type: string, required: true}\ncommand: [/bin/sh, -c, 'printf %s \"$1\"', sh, '{s}']\n");
        using var scratch = new ScratchDirectory();
        var argv = CommandLine.Render(pipeline, new JsonObject { ["s"] = Hostile }, Context with { RunDirectory = scratch.Path });

        var (exitCode, stdout, stderr) = await PipelineFiles.ExecuteAsync(argv, scratch.Path);

        Assert.Equal(0, exitCode);
        Assert.Equal(Hostile, stdout);
        Assert.Equal("", stderr);
        Assert.Empty(Directory.EnumerateFileSystemEntries(scratch.Path));
    }

    [Theory]
    [InlineData("{n}", "42", "42")]
    [InlineData("{n}", "-7", "-7")]
    [InlineData("{n}", "2.5", "2.5")]
    [InlineData("{n}", "1e3", "1000")]
    [InlineData("{n}", "0.1", "0.1")]
    [InlineData("{n}", "true", "true")]
    [InlineData("{n}", "false", "false")]
    [InlineData("{n}", "\"caf\u00e9 {run_id}\"", "caf\u00e9 {run_id}")]
    [InlineData("{n}", "null", "")]
    [InlineData("a{{b}}c", "1", "a{b}c")]
    [InlineData("{{n}}", "1", "{n}")]
    [InlineData("{n}{n}", "1", "11")]
    [InlineData("", "1", "")]
    public void RenderTemplate_FormatsValuesInvariantly(string template, string json, string expected)
    {
        var values = new JsonObject { ["n"] = JsonNode.Parse(json) };

        Assert.Equal(expected, CommandLine.RenderTemplate(template, values, Context));
    }

    [Fact]
    public void RenderTemplate_RendersEmpty_WhenParameterIsAbsent()
    {
        Assert.Equal("x=", CommandLine.RenderTemplate("x={missing}", [], Context));
    }

    [Fact]
    public void RenderTemplate_Throws_WhenBraceIsUnmatched()
    {
        Assert.Throws<FormatException>(() => CommandLine.RenderTemplate("awk '{ print }'", [], Context));
    }
}
