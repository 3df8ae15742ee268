using Microsoft.Extensions.Logging;

namespace Runway.Execution.Local;

/// <summary>
/// Stops a run's process group: TERM, a grace, then KILL. The group's wrapper gets the TERM through its
/// trap, so it lives to record the command's end; an isolated wrapper must have that trap first.
/// </summary>
internal sealed class ProcessGroupStop(TimeProvider clock, ILogger logger)
{
    private static readonly TimeSpan GroupPollInterval = TimeSpan.FromMilliseconds(50);
    // An isolated wrapper sets its trap a few milliseconds after the start: a stop that comes earlier waits this long between looks.
    private static readonly TimeSpan ReadyPollInterval = TimeSpan.FromMilliseconds(5);

    /// <summary>TERM to the group, up to <paramref name="grace"/> for it to go, then KILL; returns once it is gone.</summary>
    public async Task StopAsync(int group, TimeSpan grace, CancellationToken cancellationToken)
    {
        var deadline = clock.GetUtcNow() + grace;
        // 1. An isolated wrapper drops a TERM that comes before its trap (ProcessTable.WrapperReady); its
        //    command starts only after the trap, so holding the TERM back until then loses nothing.
        var wrapper = await WaitForWrapperAsync(group, deadline, cancellationToken);
        // 2. A tick early: start times have a 10 ms grain, and a child forked just before the TERM may still miss it.
        var termAt = ProcessTable.Now() - 1;
        // 3. A child forked well before the TERM may still not have exec'd the command (on a loaded machine,
        //    for many milliseconds): its copy of the trap catches the TERM. It gets its own once it has exec'd.
        var forked = wrapper is { } parent ? ProcessTable.UnexecedChildren(parent) : [];
        if (!Posix.KillGroup(group, Posix.SigTerm))
        {
            return;
        }
        if (await WaitForGroupToEndAsync(group, deadline - clock.GetUtcNow(), cancellationToken, termAt, wrapper, forked))
        {
            return;
        }
        logger.LogInformation("Process group {Pid} outlived its {Grace} grace; killing it", group, grace);
        Posix.KillGroup(group, Posix.SigKill);
        // KILL cannot be ignored; this bound only covers a process stuck in the kernel.
        await WaitForGroupToEndAsync(group, TimeSpan.FromSeconds(30), cancellationToken);
    }

    /// <summary>Waits until a TERM to the group would reach the wrapper's trap, the group is gone, or the deadline; returns the wrapper's pid.</summary>
    private async Task<int?> WaitForWrapperAsync(int group, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        int? wrapper;
        while (!ProcessTable.WrapperReady(group, out wrapper) && clock.GetUtcNow() < deadline && Posix.Exists(-group))
        {
            await Task.Delay(ReadyPollInterval, clock, cancellationToken);
        }
        return wrapper;
    }

    /// <summary>
    /// A TERM that reaches the wrapper while it forks the command is caught by the fork's copy of the
    /// wrapper's trap, and the command, exec'd after it, never sees one: the wrapper's own child, started
    /// around or after the TERM, gets one of its own (once). Only that child: processes the command
    /// starts later (a cleanup in its TERM handler) are its business.
    /// </summary>
    private static void TermLateCommand(int wrapper, int group, long termAt, IReadOnlyList<int> forked, HashSet<int> signalled)
    {
        foreach (var child in forked)
        {
            if (!signalled.Contains(child) && ProcessTable.ExecedSince(child, wrapper) && signalled.Add(child))
            {
                Posix.Signal(child, Posix.SigTerm);
            }
        }
        foreach (var child in ProcessTable.ChildrenStartedSince(wrapper, group, termAt))
        {
            if (signalled.Add(child))
            {
                Posix.Signal(child, Posix.SigTerm);
            }
        }
    }

    private async Task<bool> WaitForGroupToEndAsync(
        int group, TimeSpan limit, CancellationToken cancellationToken, long? termAt = null, int? wrapper = null, IReadOnlyList<int>? forked = null)
    {
        var deadline = clock.GetUtcNow() + limit;
        var signalled = new HashSet<int>();
        while (ProcessTable.GroupAlive(group))
        {
            if (clock.GetUtcNow() >= deadline)
            {
                return false;
            }
            await Task.Delay(GroupPollInterval, clock, cancellationToken);
            if (termAt is { } since)
            {
                TermLateCommand(wrapper ?? group, group, since, forked ?? [], signalled);
            }
        }
        return true;
    }
}
