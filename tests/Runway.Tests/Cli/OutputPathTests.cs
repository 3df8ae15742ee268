using Runway.Cli;

namespace Runway.Tests.Cli;

public class OutputPathTests
{
    private static readonly string Root = Path.Combine(Path.GetTempPath(), "runway-out");

    [Theory]
    [InlineData("counts.tsv", "counts.tsv")]
    [InlineData("plots/lengths.svg", "plots/lengths.svg")]
    [InlineData("plots//a.txt", "plots/a.txt")]
    [InlineData("..data", "..data")]
    public void Join_StaysInsideTheRoot_WhenPathIsRelative(string relative, string expected) =>
        Assert.Equal(Path.Combine(Root, expected), OutputPath.Join(Root, relative));

    [Theory]
    [InlineData("../escape.txt")]
    [InlineData("plots/../../escape.txt")]
    [InlineData("plots/..")]
    [InlineData("plots/../counts.tsv")] // lands inside, but a server that sends ".." is not trusted
    [InlineData("..\\escape.txt")]
    [InlineData("/etc/passwd")]
    [InlineData("\\server\\share")]
    [InlineData("C:/Windows/x")]
    [InlineData("./counts.tsv")]
    [InlineData("")]
    [InlineData("a\0b")]
    public void Join_ReturnsNull_WhenPathWouldLeaveTheRoot(string relative) =>
        Assert.Null(OutputPath.Join(Root, relative));
}
