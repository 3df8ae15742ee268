using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace Runway.Execution.Local;

/// <summary>How local runs are kept from Runway's own data (wire names: none, namespaces, run_account).</summary>
public enum IsolationMode
{
    /// <summary>Nothing worked: a run has the server's rights and can read the data directory.</summary>
    None,

    /// <summary>Own mount and pid namespaces (in an unprivileged user namespace when the server is not root); the data directory is hidden.</summary>
    Namespaces,

    /// <summary>As <see cref="Namespaces"/>, and the run runs as the separate account of <c>Runway:RunAs</c>.</summary>
    RunAccount,
}

/// <summary>The unprivileged account local runs run as (<c>Runway:RunAs</c>).</summary>
public sealed record RunAccount(string Name, uint Uid, uint Gid);

/// <summary>
/// Starts a run's wrapper (<c>/bin/sh run.sh prog args</c>) so that it cannot see the data directory:
/// <c>unshare [--user --map-root-user] --mount --propagation private --pid --fork --kill-child -- /bin/sh -c
/// ISOLATE sh MOUNT SETPRIV DATA_DIR RUNS_DIR RUN_DIR [UID GID] -- /bin/sh run.sh prog args</c>.
/// </summary>
/// <remarks>
/// <list type="number">
/// <item>The isolate step (<see cref="IsolateScript"/>) is fixed text; every path reaches it as an argument
/// ("$@"), so nothing a user typed is ever parsed by a shell.</item>
/// <item>An empty tmpfs hides the data directory (runway.db, keys, uploads, other runs), another one the runs
/// directory when it is outside the data directory (<c>Runway:RunsDirectory</c>; RUNS_DIR is empty otherwise), and the run
/// directory is bound back at its own path from the working directory, which was opened before the tmpfs
/// hid it (hence --no-canonicalize: a path to "." would be looked up again, under the tmpfs).</item>
/// <item>A /proc of the new pid namespace shows the run only its own processes. When the wrapper, the
/// namespace's init, exits, the kernel kills everything the run left, <c>setsid</c> or not.</item>
/// <item>setpriv drops every capability for good (bounding set, no_new_privs), so the run cannot unmount the
/// tmpfs, and in run_account mode switches to the run account.</item>
/// <item>The namespace's init ignores every signal it has no handler for: until the wrapper's trap is set,
/// a stop must wait (<see cref="LocalExecutor"/>, <see cref="ProcessTable.WrapperReady"/>).</item>
/// </list>
/// The mode is probed once per process and account: the first of run_account (root, and the account
/// exists), namespaces (as root without the account; in a user namespace otherwise) and none whose real
/// run of the chain starts the wrapper and hides a file of the data directory from it.
/// </remarks>
public sealed class RunIsolation
{
    /// <summary>Exit status of the isolate step when it could not isolate; the run never started.</summary>
    public const int IsolateFailed = 125;

    private const string Shell = "/bin/sh";
    private static readonly string[] ToolDirectories = ["/usr/bin", "/bin", "/usr/sbin", "/sbin"];
    private static readonly ConcurrentDictionary<string, Lazy<(IsolationMode Mode, bool UserNamespace, string Detail)>> Probed = new(StringComparer.Ordinal);

    // Started by unshare as root of the new namespaces, in the run directory. Arguments: mount, setpriv,
    // the data directory, the runs directory outside it or "", the run directory, ip (empty unless the run
    // has its own network, whose loopback it brings up), then "--" or "UID GID --", then the wrapper's argv.
    // 1. The mounts' mkdir must not inherit the server's umask 077: the run account walks those directories.
    // 2. /proc/self/stat is read before the new /proc hides the outer pids: its fifth field is the run's
    //    process group as the server knows it, which the wrapper records in pid.wrapper.
    private const string IsolateScript =
        """
        umask 022
        mount=$1 setpriv=$2 data=$3 runs=$4 run=$5 ip=$6
        shift 6
        read -r _ _ _ _ group _ </proc/self/stat || exit 125
        [ -z "$ip" ] || "$ip" link set lo up || exit 125
        "$mount" -t tmpfs -o mode=0755,size=1m,nosuid,nodev runway "$data" || exit 125
        if [ -n "$runs" ]; then
            "$mount" -t tmpfs -o mode=0755,size=1m,nosuid,nodev runway "$runs" || exit 125
        fi
        "$mount" --no-canonicalize --mkdir --bind . "$run" || exit 125
        "$mount" -t proc -o nosuid,nodev,noexec proc /proc || exit 125
        export RUNWAY_PROCESS_GROUP="$group"
        if [ "$1" = -- ]; then
            shift
            exec "$setpriv" --bounding-set=-all --inh-caps=-all --no-new-privs -- "$@"
        fi
        uid=$1 gid=$2
        shift 3
        exec "$setpriv" --reuid="$uid" --regid="$gid" --clear-groups --bounding-set=-all --inh-caps=-all --no-new-privs -- "$@"
        """;

    private readonly string dataDirectory;
    private readonly string runsDirectory;
    private readonly bool userNamespace;
    private readonly Tools? tools;

    private RunIsolation(IsolationMode mode, string detail, string dataDirectory, string runsDirectory, RunAccount? account, bool userNamespace, Tools? tools)
    {
        Mode = mode;
        Detail = detail;
        this.dataDirectory = dataDirectory;
        this.runsDirectory = runsDirectory;
        Account = account;
        this.userNamespace = userNamespace;
        this.tools = tools;
    }

    public IsolationMode Mode { get; }

    /// <summary>What the mode means for runs here, and why it is not a stronger one.</summary>
    public string Detail { get; }

    /// <summary>The account runs run as (run_account mode), or null: they run as the server's user.</summary>
    public RunAccount? Account { get; }

    public string WireName => Mode switch
    {
        IsolationMode.RunAccount => "run_account",
        IsolationMode.Namespaces => "namespaces",
        _ => "none",
    };

    public static RunIsolation None(string detail) => new(IsolationMode.None, detail, "", "", null, false, null);

    /// <summary>Namespaces mode, as the probe would choose it; with <paramref name="userNamespace"/> as an unprivileged server does.</summary>
    public static RunIsolation Namespaces(string dataDirectory, bool userNamespace, string? runsDirectory = null) =>
        Make(IsolationMode.Namespaces, userNamespace, NamespacesDetail(userNamespace), dataDirectory, "", runsDirectory);

    /// <summary>run_account mode for <paramref name="runAs"/>; null when there is no such account.</summary>
    public static RunIsolation? RunAs(string dataDirectory, string runAs, string? runsDirectory = null) =>
        PosixIo.Account(runAs) is null ? null : Make(IsolationMode.RunAccount, false, RunAccountDetail(runAs), dataDirectory, runAs, runsDirectory);

    /// <summary>
    /// The strongest mode that works here, tried once per process, account and runs directory (see the remarks). A
    /// <paramref name="runsDirectory"/> outside the data directory is hidden from runs as well.
    /// </summary>
    public static RunIsolation Probe(string dataDirectory, string runAs, string? runsDirectory = null)
    {
        var (mode, user, detail) = Probed.GetOrAdd(runAs + "\0" + (runsDirectory ?? ""), _ => new(() => Choose(dataDirectory, runAs, runsDirectory))).Value;
        return mode == IsolationMode.None ? None(detail) : Make(mode, user, detail, dataDirectory, runAs, runsDirectory);
    }

    /// <summary>
    /// The program and argv that start <paramref name="wrapper"/> (an absolute program first) in <paramref name="runDirectory"/>,
    /// kept to <paramref name="confinement"/>: its cgroups joined first (<see cref="RunCgroups.JoinScript"/>), then
    /// unshare, with --net for a run without network (none without isolation: there are no namespaces then).
    /// </summary>
    internal (string Program, string[] Argv) Command(string runDirectory, IReadOnlyList<string> wrapper, RunConfinement? confinement = null)
    {
        confinement ??= RunConfinement.Open;
        var (program, argv) = Isolated(runDirectory, wrapper, confinement.Network);
        return confinement.CgroupProcs.Count == 0
            ? (program, argv)
            : (Shell, [Shell, "-c", RunCgroups.JoinScript, "sh", .. confinement.CgroupProcs, "--", .. argv]);
    }

    private (string Program, string[] Argv) Isolated(string runDirectory, IReadOnlyList<string> wrapper, bool network)
    {
        if (tools is null)
        {
            return (wrapper[0], [.. wrapper]);
        }
        var argv = new List<string> { tools.Unshare };
        if (userNamespace)
        {
            argv.AddRange(["--user", "--map-root-user"]);
        }
        if (!network)
        {
            argv.Add("--net");
        }
        argv.AddRange(["--mount", "--propagation", "private", "--pid", "--fork", "--kill-child", "--",
            Shell, "-c", IsolateScript, "sh", tools.Mount, tools.Setpriv, dataDirectory, runsDirectory, runDirectory, network ? "" : tools.Ip ?? ""]);
        if (Account is { } account)
        {
            argv.AddRange([account.Uid.ToString(CultureInfo.InvariantCulture), account.Gid.ToString(CultureInfo.InvariantCulture)]);
        }
        argv.Add("--");
        argv.AddRange(wrapper);
        return (tools.Unshare, [.. argv]);
    }

    /// <summary>The mode as runway-supervisor's start request carries it: what to do, the run account, the directories to hide.</summary>
    internal (SupervisorFrames.StartFlags Flags, uint Uid, uint Gid, string DataDirectory, string RunsDirectory) SupervisorMode => tools is null
        ? (SupervisorFrames.StartFlags.None, 0, 0, "", "")
        : (SupervisorFrames.StartFlags.Isolate
            | (userNamespace ? SupervisorFrames.StartFlags.UserNamespace : 0)
            | (Account is null ? 0 : SupervisorFrames.StartFlags.RunAccount)
            | (runsDirectory.Length == 0 ? 0 : SupervisorFrames.StartFlags.HideRuns),
            Account?.Uid ?? 0, Account?.Gid ?? 0, dataDirectory, runsDirectory);

    private static RunIsolation Make(IsolationMode mode, bool userNamespace, string detail, string dataDirectory, string runAs, string? runsDirectory = null)
    {
        var tools = Tools.Find() ?? throw new InvalidOperationException("unshare, mount or setpriv (util-linux) is missing");
        var account = mode == IsolationMode.RunAccount && PosixIo.Account(runAs) is { } ids ? new RunAccount(runAs, ids.Uid, ids.Gid) : null;
        var data = Path.GetFullPath(dataDirectory);
        return new RunIsolation(mode, detail, data, OutsideOf(data, runsDirectory), account, userNamespace, tools);
    }

    /// <summary>The runs directory when it needs a tmpfs of its own (outside the data directory), else "".</summary>
    private static string OutsideOf(string data, string? runsDirectory)
    {
        if (string.IsNullOrEmpty(runsDirectory))
        {
            return "";
        }
        var runs = Path.GetFullPath(runsDirectory);
        return runs == data || runs.StartsWith(data + Path.DirectorySeparatorChar, StringComparison.Ordinal) ? "" : runs;
    }

    private static (IsolationMode, bool, string) Choose(string dataDirectory, string runAs, string? runsDirectory)
    {
        if (Tools.Find() is null)
        {
            return (IsolationMode.None, false, "runs are not isolated and can read the data directory: unshare, mount or setpriv (util-linux) is missing; " + KeepsNetwork);
        }
        var candidates = new List<(IsolationMode Mode, bool User, string Detail)>();
        if (PosixIo.EffectiveUserId() == 0)
        {
            if (PosixIo.Account(runAs) is not null)
            {
                candidates.Add((IsolationMode.RunAccount, false, RunAccountDetail(runAs)));
            }
            var missing = $"the account {runAs} does not exist (useradd --system --no-create-home --shell /usr/sbin/nologin {runAs}), so runs run as root";
            candidates.Add((IsolationMode.Namespaces, false, $"{missing}, in their own mount and pid namespaces; the data directory is hidden from them"));
        }
        candidates.Add((IsolationMode.Namespaces, true, NamespacesDetail(true)));
        var failures = new List<string>();
        foreach (var (mode, user, detail) in candidates)
        {
            if (Make(mode, user, detail, dataDirectory, runAs, runsDirectory).TryRun() is not { } failure)
            {
                return (mode, user, detail);
            }
            failures.Add($"{(mode == IsolationMode.RunAccount ? "run_account" : user ? "a user namespace" : "namespaces")}: {failure}");
        }
        return (IsolationMode.None, false, "runs are not isolated and can read the data directory; " + KeepsNetwork + "; " + string.Join("; ", failures));
    }

    // A private network namespace needs what the isolation lacked (root, or an unprivileged user namespace): said
    // at start and in /readyz rather than left a silent gap.
    private const string KeepsNetwork = "runs keep the host's network even when their pipeline says network: false";

    private static string RunAccountDetail(string runAs) =>
        $"runs run as {runAs} in their own mount and pid namespaces; the data directory is hidden from them";

    private static string NamespacesDetail(bool userNamespace) => userNamespace
        ? "runs run as the server's user in an unprivileged user namespace with their own mount and pid namespaces; the data directory is hidden from them"
        : "runs run in their own mount and pid namespaces; the data directory is hidden from them";

    /// <summary>Runs the real chain once in a scratch run directory: null when it started the wrapper and hid the data directory, else why not.</summary>
    private string? TryRun()
    {
        var scratch = Path.Combine(dataDirectory, "tmp", "isolation-probe-" + Guid.NewGuid().ToString("N"));
        var marker = scratch + ".marker";
        try
        {
            Directory.CreateDirectory(scratch);
            File.WriteAllText(marker, "");
            RunDirectoryFiles.WriteAtomically(scratch, RunDirectoryFiles.Script, RunDirectoryFiles.ScriptText, LocalExecutor.ScriptMode);
            GiveToAccount(scratch);
            var (program, argv) = Command(scratch, [Shell, RunDirectoryFiles.Script, Shell, "-c", "[ ! -e \"$1\" ] && [ -w . ]", "sh", marker]);
            var start = new ProcessStartInfo(program) { WorkingDirectory = scratch, RedirectStandardError = true };
            foreach (var argument in argv.Skip(1))
            {
                start.ArgumentList.Add(argument);
            }
            var errors = new System.Text.StringBuilder();
            using var process = new Process { StartInfo = start };
            process.ErrorDataReceived += (_, e) =>
            {
                lock (errors)
                {
                    errors.Append(e.Data).Append(' ');
                }
            };
            process.Start();
            process.BeginErrorReadLine();
            if (!process.WaitForExit(TimeSpan.FromSeconds(10)))
            {
                process.Kill(entireProcessTree: true);
                return "it did not finish within 10 s";
            }
            process.WaitForExit(); // the rest of stderr
            var recorded = RunDirectoryFiles.ReadInt(scratch, RunDirectoryFiles.ExitCode);
            lock (errors)
            {
                return process.ExitCode == 0 && recorded == 0 ? null
                    : recorded == 1 ? "the data directory stayed visible to the run, or its directory was not writable"
                    : $"exit status {process.ExitCode}: {errors.ToString().Trim()}";
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return e.Message;
        }
        finally
        {
            TryDelete(() => Directory.Delete(scratch, recursive: true));
            TryDelete(() => File.Delete(marker));
        }
    }

    /// <summary>
    /// In run_account mode, gives the run account a directory (a run's, or a probe's) and the entries of it named by
    /// <paramref name="relativePaths"/>, each reached from the directory without crossing a link and changed
    /// itself, never a link's target: an earlier attempt of the run may have left links where they go.
    /// </summary>
    internal void GiveToAccount(string directory, params IEnumerable<string> relativePaths)
    {
        if (Account is not { } account)
        {
            return;
        }
        using var tree = RunTree.Open(directory) ?? throw new ExecutorStartException($"the run directory {directory} is missing or is a link");
        foreach (var path in relativePaths.Prepend(""))
        {
            if (!tree.ChangeOwner(path, account.Uid, account.Gid))
            {
                throw new ExecutorStartException($"could not give {Path.Combine(directory, path)} to the run account {account.Name}");
            }
        }
    }

    private static void TryDelete(Action delete)
    {
        try
        {
            delete();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A scratch file of the probe; the data directory's tmp is Runway's to clean.
        }
    }

    /// <param name="Ip">iproute2's ip, which brings up the loopback of a run without network; without it, a run has none.</param>
    private sealed record Tools(string Unshare, string Mount, string Setpriv, string? Ip)
    {
        public static Tools? Find() =>
            Locate("unshare") is { } unshare && Locate("mount") is { } mount && Locate("setpriv") is { } setpriv
                ? new Tools(unshare, mount, setpriv, Locate("ip"))
                : null;

        private static string? Locate(string name) =>
            ToolDirectories.Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);
    }
}
