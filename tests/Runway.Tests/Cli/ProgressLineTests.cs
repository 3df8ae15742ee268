using Runway.Cli;

namespace Runway.Tests.Cli;

public class ProgressLineTests
{
    [Fact]
    public void Report_DrawsOverItselfAtMostTenTimesASecond_AndClearErases()
    {
        var clock = new ManualClock();
        var error = new StringWriter();
        var line = new ProgressLine(error, enabled: true, clock, "book.txt:", 2048);

        line.Report(1024);
        line.Report(1536); // same instant: skipped
        clock.Advance(TimeSpan.FromMilliseconds(150));
        line.Report(2048);
        line.Clear();

        var width = "book.txt: 1.0 KB / 2.0 KB (50%)".Length;
        Assert.Equal(
            "\rbook.txt: 1.0 KB / 2.0 KB (50%)" + "\rbook.txt: 2.0 KB / 2.0 KB (100%)" + "\r" + new string(' ', width + 1) + "\r",
            error.ToString());
    }

    [Fact]
    public void Report_WritesNothing_WhenStderrIsNotATerminal()
    {
        var error = new StringWriter();
        var line = new ProgressLine(error, enabled: false, new ManualClock(), "x", null);

        line.Report(10);
        line.Show("running");
        line.Clear();

        Assert.Equal("", error.ToString());
    }

    private sealed class ManualClock : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }
}
