using System.Diagnostics;
using System.Globalization;
using Runway.Runs;

namespace Runway.Execution.Local;

/// <summary>
/// A container engine of this node (podman, docker, apptainer) and the argument vectors the local executor runs
/// it with. The engine's client is the run's command (through the wrapper, which records its exit code); the
/// engine, not Runway's namespaces, isolates the run: only the run directory and the pipeline directory
/// (read-only) are mounted, at their own paths. Each podman or docker container is named after its run, so a
/// stop reaches it by name: killing the client does not stop a container (conmon is detached).
/// </summary>
public sealed record ContainerEngine(string Name, string Path)
{
    private static readonly string[] Directories = ["/usr/local/bin", "/usr/bin", "/bin", "/usr/local/sbin", "/usr/sbin"];
    private static readonly TimeSpan CommandLimit = TimeSpan.FromSeconds(60);

    /// <summary>The engines installed here, in the order a pipeline without <c>engine:</c> prefers them.</summary>
    public static IReadOnlyList<ContainerEngine> Installed { get; } =
        [.. Pipelines.ContainerParser.Engines.Select(name => Directories.Select(d => System.IO.Path.Combine(d, name)).FirstOrDefault(File.Exists) is { } path
            ? new ContainerEngine(name, path) { Unusable = name == "podman" ? PodmanInit.MissingHere() : null } : null).OfType<ContainerEngine>()];

    /// <summary>Why this installed engine cannot run a container here (podman without the init its --init runs), or null.</summary>
    public string? Unusable { get; init; }

    /// <summary>The engine a container spec asks for, or the node's first usable one; throws <see cref="ExecutorStartException"/> when it has none.</summary>
    public static ContainerEngine For(ContainerSpec container) => For(container, Installed);

    internal static ContainerEngine For(ContainerSpec container, IReadOnlyList<ContainerEngine> installed) =>
        installed.FirstOrDefault(e => Serves(e, container) && e.Unusable is null)
            ?? throw new ExecutorStartException(installed.FirstOrDefault(e => Serves(e, container))?.Unusable
                ?? (container.Engine is { } engine
                    ? $"the container engine {engine} is not installed on this node"
                    : "no container engine (podman, docker or apptainer) is installed on this node"));

    /// <summary>Why a pipeline's container cannot run on this node (its engine is missing or unusable), or null.</summary>
    public static string? Missing(ContainerSpec container) => Missing(container, Installed);

    internal static string? Missing(ContainerSpec container, IReadOnlyList<ContainerEngine> installed) =>
        installed.Any(e => Serves(e, container) && e.Unusable is null) ? null
            : installed.FirstOrDefault(e => Serves(e, container))?.Unusable is { } unusable ? $"container{(container.Engine is null ? "" : ".engine")}: {unusable}"
            : container.Engine is { } engine ? $"container.engine: {engine} is not installed on this node"
            : "container: no container engine (podman, docker or apptainer) is installed on this node";

    /// <summary>The engine a run of the spec was started with: the first usable one serving it, else the first serving it.</summary>
    public static ContainerEngine? Started(ContainerSpec container) =>
        Installed.Where(e => Serves(e, container)).OrderBy(e => e.Unusable is not null).FirstOrDefault();

    private static bool Serves(ContainerEngine engine, ContainerSpec container) => container.Engine is null || engine.Name == container.Engine;

    /// <summary>
    /// The file podman's conmon writes into the client's working directory (the run directory) when the OOM killer
    /// struck in the container under cgroup v1 (podman 4's State.OOMKilled stays false there, and the container's own
    /// cgroup, where the kernel counts the kill, is gone with --rm). Deleted before each start.
    /// </summary>
    public const string OomMarker = "oom";

    /// <summary>
    /// Whether the container ran out of its memory: podman's marker and the SIGKILL it causes (exit 137), with a
    /// memory limit. A run could write the marker itself, but only to have its own SIGKILL called an OOM.
    /// </summary>
    public bool OutOfMemory(string runDirectory, RunExit exit) =>
        Name == "podman" && exit.Error is null && exit.ExitCode == 137 && File.Exists(System.IO.Path.Combine(runDirectory, OomMarker));

    /// <summary>The container's name: from its run, so a stop finds it.</summary>
    public static string ContainerName(string runId) => "runway-" + runId;

    private bool Daemonized => Name is "podman" or "docker";

    /// <summary>Throws <see cref="ExecutorStartException"/> when the image is not on this node (never pulled).</summary>
    public async Task CheckImageAsync(string image, CancellationToken cancellationToken)
    {
        var present = Name == "apptainer"
            ? File.Exists(image)
            : await RunAsync(["image", Name == "podman" ? "exists" : "inspect", image], cancellationToken) == 0;
        if (!present)
        {
            throw new ExecutorStartException($"the container image {image} is not on this node ({Name}; pull: never, so the operator must load it)");
        }
    }

    /// <summary>The client's argv: the command runs in the image, its words still whole arguments after the image.</summary>
    public IReadOnlyList<string> RunCommand(
        ContainerSpec container, RunLaunch launch, IReadOnlyDictionary<string, string> environment, IReadOnlyList<string> gpus, RunAccount? account, int? pids)
    {
        var run = launch.RunDirectory;
        foreach (var path in (string?[])[run, container.PipelineDirectory])
        {
            if (path is not null && path.Contains(':', StringComparison.Ordinal))
            {
                throw new ExecutorStartException($"{path} holds a ':', which a container mount cannot name");
            }
        }
        var argv = new List<string> { Path };
        if (Name == "apptainer")
        {
            argv.AddRange(["exec", "--containall", "--cleanenv", "--bind", $"{run}:{run}", "--pwd", run]);
            if (container.PipelineDirectory is { } pipelineDirectory)
            {
                argv.AddRange(["--bind", $"{pipelineDirectory}:{pipelineDirectory}:ro"]);
            }
            if (!launch.Spec.Network)
            {
                argv.AddRange(["--net", "--network", "none"]);
            }
            argv.AddRange(environment.SelectMany(e => (string[])["--env", $"{e.Key}={e.Value}"]));
            argv.Add(container.Image);
            argv.AddRange(launch.Spec.Argv);
            return argv;
        }
        argv.AddRange(["run", "--rm", "--init", "--name", ContainerName(launch.RunId), "--pull", "never", "--volume", $"{run}:{run}", "--workdir", run]);
        if (container.PipelineDirectory is { } directory)
        {
            argv.AddRange(["--volume", $"{directory}:{directory}:ro"]);
        }
        AddLimits(argv, launch, environment, gpus, account, pids);
        argv.Add(container.Image);
        argv.AddRange(launch.Spec.Argv);
        return argv;
    }

    /// <summary>
    /// The client's argv for one TES executor: only the task's mounts (never the run directory itself, which holds the
    /// runner's records), its workdir, stdin kept open when it reads one, the run's limits as any container run has them.
    /// Named after the run as every container is: the executors run one at a time, so a stop finds the current one.
    /// </summary>
    public IReadOnlyList<string> StepCommand(
        Tes.TesExecution task, Tes.TesStep step, RunLaunch launch, IReadOnlyDictionary<string, string> environment, RunAccount? account, int? pids)
    {
        if (!Daemonized)
        {
            throw new ExecutorStartException($"TES tasks run with podman or docker, not {Name}");
        }
        var argv = new List<string> { Path, "run", "--rm", "--init", "--name", ContainerName(launch.RunId), "--pull", "never" };
        foreach (var mount in task.Mounts)
        {
            var host = System.IO.Path.Combine(launch.RunDirectory, Tes.TesPaths.Host(mount.Path));
            argv.AddRange(["--volume", $"{host}:{mount.Path}{(mount.Writable ? "" : ":ro")}"]);
        }
        if (step.Workdir is { } workdir)
        {
            argv.AddRange(["--workdir", workdir]);
        }
        if (step.Stdin is not null)
        {
            argv.Add("--interactive");
        }
        var inside = new Dictionary<string, string>(environment, StringComparer.Ordinal);
        foreach (var (name, value) in step.Env)
        {
            inside[name] = value;
        }
        AddLimits(argv, launch, inside, [], account, pids);
        argv.Add(step.Image);
        argv.AddRange(step.Command);
        return argv;
    }

    private void AddLimits(
        List<string> argv, RunLaunch launch, IReadOnlyDictionary<string, string> environment, IReadOnlyList<string> gpus, RunAccount? account, int? pids)
    {
        var resources = launch.Spec.Resources;
        argv.AddRange(["--cpus", resources.Cpus.ToString(CultureInfo.InvariantCulture)]);
        if (!launch.Spec.Network)
        {
            argv.AddRange(["--network", "none"]);
        }
        if (resources.MemoryMb is { } mb)
        {
            // The same figure for memory and swap: no swap on top of the limit.
            argv.AddRange(["--memory", $"{mb}m", "--memory-swap", $"{mb}m"]);
        }
        if (pids is { } most)
        {
            argv.AddRange(["--pids-limit", most.ToString(CultureInfo.InvariantCulture)]);
        }
        if (account is not null)
        {
            argv.AddRange(["--user", $"{account.Uid}:{account.Gid}"]);
        }
        if (gpus.Count > 0)
        {
            // podman reaches NVIDIA devices through CDI names; docker through its --gpus flag.
            argv.AddRange(Name == "podman"
                ? gpus.SelectMany(id => (string[])["--device", $"nvidia.com/gpu={id}"])
                : ["--gpus", $"\"device={string.Join(',', gpus)}\""]);
        }
        argv.AddRange(environment.SelectMany(e => (string[])["--env", $"{e.Key}={e.Value}"]));
    }

    /// <summary>Stops the run's container: TERM (reaching the command through --init), KILL after the grace.</summary>
    public async Task StopAsync(string runId, TimeSpan grace, CancellationToken cancellationToken)
    {
        if (Daemonized)
        {
            await RunAsync(["stop", "--time", ((int)Math.Ceiling(grace.TotalSeconds)).ToString(CultureInfo.InvariantCulture), ContainerName(runId)], cancellationToken);
        }
    }

    /// <summary>Once the client has ended: a container it left (the client was killed) goes too.</summary>
    public async Task RemoveAsync(string runId)
    {
        if (Daemonized)
        {
            await RunAsync(Name == "podman" ? ["rm", "--force", "--ignore", "--time", "0", ContainerName(runId)] : ["rm", "--force", ContainerName(runId)], CancellationToken.None);
        }
    }

    private async Task<int> RunAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(Path) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = "/" };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start) ?? throw new ExecutorStartException($"{Name} could not be started");
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(CommandLimit);
        var output = process.StandardOutput.ReadToEndAsync(limit.Token);
        var errors = process.StandardError.ReadToEndAsync(limit.Token);
        try
        {
            await process.WaitForExitAsync(limit.Token);
            await Task.WhenAll(output, errors);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        return process.ExitCode;
    }
}
