using System.Text.Json.Nodes;
using Runway.Files;
using Runway.Pipelines;

namespace Runway.Tests.Pipelines;

public class RunSpecFactoryTests
{
    private static readonly Pipeline Pipeline = PipelineFiles.Parse("""
        name: t
        version: '1'
        parameters:
          input: {type: file, required: true}
          extra: {type: file}
          lang:  {type: enum, values: [en, fr], default: en}
        command: ["{pipeline_dir}/run.sh", "{input}", {if: extra, then: [--extra, "{extra}"]}]
        env: {LANG_CODE: "{lang}", INPUT: "{input}", RUN: "{run_id}", EXTRA: "{extra}"}
        outputs: [out.txt]
        resources: {cpus: 2, memory: 1G, time_limit: 10m}
        """, "/srv/pipelines/t/pipeline.yaml");

    private static StoredFile File(string id, string name) => new() { Id = id, Name = name, Sha256 = "00", Owner = "ana" };

    [Fact]
    public void Create_StagesFilesAndRendersEverything_WhenParamsAreValid()
    {
        var validated = ParameterValidator.Validate(Pipeline, new JsonObject { ["input"] = PipelineFiles.FileId }).Params;

        var spec = RunSpecFactory.Create(Pipeline, validated, "01RUN", "/data/runs/01RUN",
            new Dictionary<string, StoredFile> { ["input"] = File(PipelineFiles.FileId, "notes.txt") });

        Assert.Equal(["/srv/pipelines/t/run.sh", "/data/runs/01RUN/inputs/input/notes.txt"], spec.Argv);
        var staged = Assert.Single(spec.Inputs);
        Assert.Equal(new Runway.Runs.StagedInput(PipelineFiles.FileId, "inputs/input/notes.txt", "00"), staged);
        Assert.Equal("en", spec.Environment["LANG_CODE"]);
        Assert.Equal("/data/runs/01RUN/inputs/input/notes.txt", spec.Environment["INPUT"]);
        Assert.Equal("01RUN", spec.Environment["RUN"]);
        Assert.Equal("", spec.Environment["EXTRA"]);
        Assert.Equal(["out.txt"], spec.Outputs);
        Assert.Equal(TimeSpan.FromMinutes(10), spec.TimeLimit);
        Assert.Equal((2.0, 1024L), (spec.Resources.Cpus, spec.Resources.MemoryMb!.Value));
    }

    [Fact]
    public void Create_KeepsStagedPathsInsideTheirFolder_WhenFileNamesClash()
    {
        const string other = "f_01JD3Z6S7T8V9W0X1Y2Z3A4B5D";
        var validated = ParameterValidator.Validate(Pipeline, new JsonObject { ["input"] = PipelineFiles.FileId, ["extra"] = other }).Params;

        var spec = RunSpecFactory.Create(Pipeline, validated, "01RUN", "/data/runs/01RUN", new Dictionary<string, StoredFile>
        {
            ["input"] = File(PipelineFiles.FileId, "data.txt"),
            ["extra"] = File(other, "../../data.txt"),
        });

        Assert.Equal(["inputs/input/data.txt", "inputs/extra/data.txt"], spec.Inputs.Select(i => i.RelativePath));
        Assert.Equal(["--extra", "/data/runs/01RUN/inputs/extra/data.txt"], spec.Argv.Skip(2));
    }

    [Fact]
    public void Create_Throws_WhenAFileParameterHasNoStoredFile()
    {
        var validated = ParameterValidator.Validate(Pipeline, new JsonObject { ["input"] = PipelineFiles.FileId }).Params;

        Assert.Throws<ArgumentException>(() => RunSpecFactory.Create(Pipeline, validated, "01RUN", "/data/runs/01RUN", new Dictionary<string, StoredFile>()));
    }
}
