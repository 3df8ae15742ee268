namespace Runway.Cli;

/// <summary>
/// One self-overwriting status line on stderr, redrawn at most ten times a second; silent unless stderr is a
/// terminal, so logs and pipes never collect carriage returns.
/// </summary>
internal sealed class ProgressLine(TextWriter error, bool enabled, TimeProvider clock, string label, long? total) : IProgress<long>
{
    private static readonly TimeSpan Every = TimeSpan.FromMilliseconds(100);
    private readonly Lock _gate = new();
    private long _lastDrawn = long.MinValue;
    private int _width;

    public void Report(long value) => Draw(Describe(value), force: false);

    public void Show(string text) => Draw($"{label} {text}", force: true);

    /// <summary>Erases the line so the next output starts clean.</summary>
    public void Clear()
    {
        if (!enabled)
        {
            return;
        }
        lock (_gate)
        {
            if (_width > 0)
            {
                error.Write("\r" + new string(' ', _width) + "\r");
                error.Flush();
                _width = 0;
            }
        }
    }

    private string Describe(long bytes) => total is > 0 and var t
        ? $"{label} {TextTable.Bytes(bytes)} / {TextTable.Bytes(t)} ({bytes * 100 / t}%)"
        : $"{label} {TextTable.Bytes(bytes)}";

    private void Draw(string text, bool force)
    {
        if (!enabled)
        {
            return;
        }
        lock (_gate)
        {
            var now = clock.GetTimestamp();
            if (!force && _lastDrawn != long.MinValue && clock.GetElapsedTime(_lastDrawn, now) < Every)
            {
                return;
            }
            _lastDrawn = now;
            error.Write("\r" + text.PadRight(_width));
            error.Flush();
            _width = Math.Max(_width, text.Length);
        }
    }
}
