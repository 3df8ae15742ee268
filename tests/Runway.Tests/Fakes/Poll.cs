namespace Runway.Tests.Fakes;

/// <summary>Waits for a condition against a deadline: tests never sleep a fixed time.</summary>
public static class Poll
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(15);

    public static async Task UntilAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = TimeProvider.System.GetUtcNow() + (timeout ?? DefaultTimeout);
        while (!await condition())
        {
            if (TimeProvider.System.GetUtcNow() > deadline)
            {
                Assert.Fail($"timed out waiting for {what}");
            }
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }

    public static Task UntilAsync(Func<bool> condition, string what, TimeSpan? timeout = null) =>
        UntilAsync(() => Task.FromResult(condition()), what, timeout);

    /// <summary>Awaits a task that must complete within the timeout.</summary>
    public static async Task<T> CompletesAsync<T>(Task<T> task, TimeSpan? timeout = null) =>
        await task.WaitAsync(timeout ?? DefaultTimeout, TestContext.Current.CancellationToken);
}
