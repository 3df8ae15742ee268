using Runway.Pipelines;

namespace Runway.Tests.Pipelines;

/// <summary>A pipeline's <c>retention: {run_files_days: N | never}</c>, checked when the YAML is loaded.</summary>
public sealed class RetentionKeyTests
{
    private const string Head = "name: p\nversion: 1\ncommand: [/bin/true]\n";

    [Theory]
    [InlineData("", null)]
    [InlineData("retention: {run_files_days: 14}\n", 14)]
    [InlineData("retention: {run_files_days: never}\n", 0)]
    [InlineData("retention: {}\n", null)]
    public void RunFilesDays_IsRead(string yaml, int? expected) =>
        Assert.Equal(expected, PipelineFiles.Parse(Head + yaml).RunFilesDays);

    [Theory]
    [InlineData("retention: {run_files_days: 0}\n")]
    [InlineData("retention: {run_files_days: -3}\n")]
    [InlineData("retention: {run_files_days: 1.5}\n")]
    [InlineData("retention: {run_files_days: soon}\n")]
    [InlineData("retention: {run_files_days: 36501}\n")]
    [InlineData("retention: {run_files: 3}\n")]
    [InlineData("retention: 7\n")]
    public void RunFilesDays_RefusesWhatIsNotADayCount(string yaml)
    {
        var error = Assert.Throws<PipelineFormatException>(() => PipelineFiles.Parse(Head + yaml));
        Assert.Contains("retention", error.Message, StringComparison.Ordinal);
    }
}
