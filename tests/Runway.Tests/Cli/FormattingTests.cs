using Runway.Cli;

namespace Runway.Tests.Cli;

public class FormattingTests
{
    [Fact]
    public void TextTable_AlignsColumns_AndLeavesNoTrailingBlanks()
    {
        var table = new TextTable("NAME", "VERSION", "TITLE")
            .Add("wordstats", "1.2.0", "Word statistics")
            .Add("qc", "10.0.1", null);

        Assert.Equal(
            "NAME       VERSION  TITLE\n" +
            "wordstats  1.2.0    Word statistics\n" +
            "qc         10.0.1\n",
            table.ToString());
    }

    [Fact]
    public void TextTable_KeepsOneLinePerRow_WhenACellHasNewlines()
    {
        var text = new TextTable("A", "B").Add("x", "two\nlines").ToString();

        Assert.Equal("A  B\nx  two lines\n", text);
    }

    [Theory]
    [InlineData("90", 90)]
    [InlineData("90s", 90)]
    [InlineData("10m", 600)]
    [InlineData("1h30m", 5400)]
    [InlineData("1.5h", 5400)]
    [InlineData("500ms", 0.5)]
    [InlineData("2d", 172800)]
    [InlineData("00:10:00", 600)]
    public void Duration_Parses_WhenWrittenAsPeopleDo(string text, double seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), Duration.Parse(text));

    [Theory]
    [InlineData("")]
    [InlineData("soon")]
    [InlineData("10x")]
    [InlineData("-5")]
    [InlineData("1h junk")]
    public void Duration_Throws_WhenNotADuration(string text) =>
        Assert.Throws<FormatException>(() => Duration.Parse(text));

    [Theory]
    [InlineData(12.4, "12.4s")]
    [InlineData(185, "3m05s")]
    [InlineData(7380, "2h03m")]
    [InlineData(100800, "1d04h")]
    public void Duration_FormatsTwoUnitsAtMost(double seconds, string text) =>
        Assert.Equal(text, Duration.Format(seconds));

    [Theory]
    [InlineData(0L, "0 B")]
    [InlineData(2048L, "2.0 KB")]
    [InlineData(5L * 1024 * 1024, "5.0 MB")]
    public void Bytes_UsesBinaryUnits(long bytes, string text) => Assert.Equal(text, TextTable.Bytes(bytes));
}
