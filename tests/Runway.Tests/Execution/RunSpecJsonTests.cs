using System.Text.Json;
using Runway.Execution;
using Runway.Runs;

namespace Runway.Tests.Execution;

public class RunSpecJsonTests
{
    [Fact]
    public void Deserialize_ReturnsEqualSpec_AfterSerialize()
    {
        var spec = new RunSpec
        {
            Argv = ["/bin/tool", "--in", "a b"],
            Environment = new Dictionary<string, string> { ["MY_VAR"] = "1" },
            Inputs = [new StagedInput("f_01JD0000000000000000000000", "inputs/a.txt")],
            Outputs = ["*.tsv"],
            TimeLimit = TimeSpan.FromMinutes(10),
            Resources = new PipelineResources { Cpus = 2, MemoryMb = 512, Gpus = 1 },
        };

        var json = RunSpecJson.Serialize(spec);
        var back = RunSpecJson.Deserialize(json);

        Assert.Equal(spec.Argv, back.Argv);
        Assert.Equal(spec.Environment, back.Environment);
        Assert.Equal(spec.Inputs, back.Inputs);
        Assert.Equal(spec.Outputs, back.Outputs);
        Assert.Equal(spec.TimeLimit, back.TimeLimit);
        Assert.Equal(spec.Resources, back.Resources);
        using var document = JsonDocument.Parse(json);
        Assert.True(document.RootElement.TryGetProperty("time_limit", out _));
        Assert.True(document.RootElement.GetProperty("inputs")[0].TryGetProperty("relative_path", out _));
        Assert.True(document.RootElement.GetProperty("environment").TryGetProperty("MY_VAR", out _));
    }

    [Fact]
    public void Deserialize_Throws_WhenArgvIsMissing() =>
        Assert.Throws<JsonException>(() => RunSpecJson.Deserialize("{\"environment\":{}}"));
}
