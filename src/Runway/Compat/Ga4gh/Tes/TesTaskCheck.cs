using System.Text.Json;
using System.Text.Json.Nodes;
using Runway.Execution.Tes;
using Runway.Files;
using Runway.Pipelines;
using Runway.Runs;

namespace Runway.Compat.Ga4gh.Tes;

/// <summary>
/// Checks a TES task and turns it into a run of its own kind (<see cref="RunKind"/>): no pipeline, the same submission
/// path. Every path is an absolute container path without <c>..</c>; every executor an image and an argv; inputs the
/// caller's own Runway files (<c>runway://files/{id}</c>) or inline content; resources what this node can give.
/// </summary>
public sealed class TesTaskCheck(TesOptions options, RunwayPaths paths)
{
    public const string Pipeline = "ga4gh-tes";
    public const string Version = "1.1.0";
    public const string FileScheme = "runway://files/";
    public const int MaxExecutors = 20;
    public const int MaxPathLength = 1024;
    public const int MaxDepth = 20;

    /// <summary>The kind to submit, or the errors by field (a 400).</summary>
    public (RunKind? Kind, Dictionary<string, string[]> Errors) Check(TesTask task)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        void Error(string field, string message) => errors[field] = [.. errors.GetValueOrDefault(field) ?? [], message];

        var steps = Executors(task.Executors, Error);
        var mounts = new Dictionary<string, bool>(StringComparer.Ordinal); // container path → writable
        var staged = new List<(string FileId, string Path)>();
        var contents = new List<TesContent>();
        foreach (var (input, i) in (task.Inputs ?? []).Select((x, i) => (x, i)))
        {
            var field = $"inputs[{i}]";
            if (CheckPath(input?.Path, $"{field}.path", Error, wildcards: false) is not { } path)
            {
                continue;
            }
            if (input!.Type is not (null or "FILE"))
            {
                Error($"{field}.type", "only FILE inputs are supported: a Runway file is one file");
            }
            if (mounts.ContainsKey(path))
            {
                Error($"{field}.path", $"{path} is given twice");
                continue;
            }
            if (!string.IsNullOrEmpty(input.Content))
            {
                contents.Add(new TesContent(path, input.Content));
            }
            else if (input.Url is { } url && url.StartsWith(FileScheme, StringComparison.Ordinal) && Ids.IsFileId(url[FileScheme.Length..]))
            {
                staged.Add((url[FileScheme.Length..], path));
            }
            else
            {
                Error($"{field}.url", input.Url is null
                    ? "content or url is required"
                    : $"must be {FileScheme}{{id}} naming one of your uploads{(options.AllowedInputSchemes.Count > 0 ? $", or use a scheme of {string.Join(", ", options.AllowedInputSchemes)}" : "")}");
            }
            mounts[path] = false;
        }
        foreach (var (output, i) in (task.Outputs ?? []).Select((x, i) => (x, i)))
        {
            var field = $"outputs[{i}]";
            if (CheckPath(output?.Path, $"{field}.path", Error, wildcards: true) is not { } path)
            {
                continue;
            }
            if (output!.Type is not (null or "FILE" or "DIRECTORY"))
            {
                Error($"{field}.type", "must be FILE or DIRECTORY");
            }
            string? directory;
            if (TesGlob.IsPattern(path))
            {
                directory = CheckPath(output.PathPrefix, $"{field}.path_prefix", Error, wildcards: false);
                if (directory is not null && !path.StartsWith(directory + "/", StringComparison.Ordinal))
                {
                    Error($"{field}.path_prefix", "must be the part of path before its first wildcard");
                }
            }
            else
            {
                directory = output.Type == "DIRECTORY" ? path : Parent(path);
            }
            if (directory == "/")
            {
                Error($"{field}.path", "an output must be below a directory, not directly in /");
            }
            else if (directory is not null)
            {
                mounts[directory] = true;
            }
        }
        foreach (var (volume, i) in (task.Volumes ?? []).Select((x, i) => (x, i)))
        {
            if (CheckPath(volume, $"volumes[{i}]", Error, wildcards: false) is { } path)
            {
                mounts[path] = true;
            }
        }
        foreach (var (executor, i) in steps.Select((x, i) => (x, i)))
        {
            foreach (var (stream, path) in (ReadOnlySpan<(string, string?)>)[("stdin", executor.Stdin), ("stdout", executor.Stdout), ("stderr", executor.Stderr)])
            {
                if (path is not null && mounts.TryGetValue(path, out var writable) && writable)
                {
                    Error($"executors[{i}].{stream}", $"{path} is a directory of the task");
                }
            }
        }
        var resources = Resources(task.Resources, Error);
        var finalMounts = Mounts(mounts, Error);
        if (errors.Count > 0)
        {
            return (null, errors);
        }
        var execution = new TesExecution { Steps = steps, Mounts = finalMounts, Contents = contents };
        var kind = new RunKind(Pipeline, Version, Execution.Local.LocalExecutor.ExecutorName, [.. staged.Select(s => s.FileId)],
            (_, _, files) => new RunSpec
            {
                Argv = steps[0].Command,
                // With each upload's hash: a run stages an upload from its content-addressed blob (RunWorkspace).
                Inputs = [.. staged.Select(s => new StagedInput(s.FileId, TesPaths.Host(s.Path), files.GetValueOrDefault(s.FileId)?.Sha256))],
                Resources = resources,
                Container = new ContainerSpec { Image = steps[0].Image },
                Tes = execution,
            });
        return (kind, errors);
    }

    /// <summary>Where the stored task keeps the backend parameters it ignored, for its system logs (not a TES field).</summary>
    public const string IgnoredBackendParameters = "runway_ignored_backend_parameters";

    /// <summary>
    /// The task as stored with its run (its params): what the caller sent, without what the server sets, and without
    /// its backend parameters: Runway supports none (service-info's <c>tesResources_backend_parameters</c> is empty), and
    /// TES 1.1 says "backends shall not store or return unsupported keys" but "log system warnings" for them, which the
    /// task's FULL view shows from <see cref="IgnoredBackendParameters"/>. (A strict task with any was refused: a 400.)
    /// </summary>
    public static JsonObject Stored(TesTask task)
    {
        var ignored = task.Resources?.BackendParameters?.Keys.Order(StringComparer.Ordinal).ToList();
        var stored = JsonSerializer.SerializeToNode(task with
        {
            Id = null,
            State = null,
            Logs = null,
            CreationTime = null,
            Resources = task.Resources is { } resources ? resources with { BackendParameters = null } : null,
        }, TesJson.Options)!.AsObject();
        if (ignored is { Count: > 0 })
        {
            stored[IgnoredBackendParameters] = new JsonArray([.. ignored.Select(k => JsonValue.Create(k))]);
        }
        return stored;
    }

    /// <summary>The system log line for the backend parameters a stored task ignored, or null.</summary>
    public static string? IgnoredWarning(string paramsJson) =>
        JsonNode.Parse(paramsJson)?[IgnoredBackendParameters] is JsonArray keys && keys.Count > 0
            ? $"warning: backend_parameters not supported here, ignored: {string.Join(", ", keys.Select(k => k?.GetValue<string>()))}"
            : null;

    private static List<TesStep> Executors(List<TesExecutor>? executors, Action<string, string> error)
    {
        var steps = new List<TesStep>();
        if (executors is not { Count: > 0 })
        {
            error("executors", "at least one executor is required");
            return steps;
        }
        if (executors.Count > MaxExecutors)
        {
            error("executors", $"at most {MaxExecutors} executors");
            return steps;
        }
        foreach (var (executor, i) in executors.Select((x, i) => (x, i)))
        {
            var field = $"executors[{i}]";
            if (executor?.Image is not { } image || !ContainerParser.IsImage(image))
            {
                error($"{field}.image", "must be an image name such as localhost/tool:1 (images are never pulled: the operator loads them)");
            }
            if (executor?.Command is not { Count: > 0 } command || command.Any(a => a is null || a.Contains('\0', StringComparison.Ordinal)))
            {
                error($"{field}.command", "must be a non-empty argument list without NUL characters");
            }
            foreach (var (name, value) in executor?.Env ?? [])
            {
                if (name.Length is 0 or > 256 || name.Any(c => c is '=' or '\0' || char.IsControl(c)) || value is null || value.Contains('\0', StringComparison.Ordinal))
                {
                    error($"{field}.env", $"'{name}' must be a variable name (no '=') with a value without NUL characters");
                }
            }
            var workdir = executor?.Workdir is null ? null : CheckPath(executor.Workdir, $"{field}.workdir", error, wildcards: false);
            var stdin = executor?.Stdin is null ? null : CheckPath(executor.Stdin, $"{field}.stdin", error, wildcards: false);
            var stdout = executor?.Stdout is null ? null : CheckPath(executor.Stdout, $"{field}.stdout", error, wildcards: false);
            var stderr = executor?.Stderr is null ? null : CheckPath(executor.Stderr, $"{field}.stderr", error, wildcards: false);
            if (executor is { Image: { } okImage, Command: { Count: > 0 } okCommand })
            {
                steps.Add(new TesStep
                {
                    Image = okImage,
                    Command = okCommand,
                    Workdir = workdir,
                    Env = executor.Env ?? [],
                    Stdin = stdin,
                    Stdout = stdout,
                    Stderr = stderr,
                    IgnoreError = executor.IgnoreError ?? false,
                });
            }
        }
        return steps;
    }

    /// <summary>
    /// A writable mount holds whatever lies below it, so only the outermost are mounted; an input inside one is reached
    /// through it. An input that would hold a directory of the task cannot be a file.
    /// </summary>
    private static List<TesMount> Mounts(Dictionary<string, bool> mounts, Action<string, string> error)
    {
        var writable = mounts.Where(m => m.Value).Select(m => m.Key).Order(StringComparer.Ordinal).ToList();
        var outermost = writable.Where(p => !writable.Any(o => o != p && Below(p, o))).ToList();
        var result = outermost.Select(p => new TesMount(p, Writable: true)).ToList();
        foreach (var input in mounts.Where(m => !m.Value).Select(m => m.Key))
        {
            if (writable.Any(w => w == input || Below(w, input)))
            {
                error("inputs", $"{input} is an input file, and also a directory the task writes");
            }
            else if (!outermost.Any(w => Below(input, w)))
            {
                result.Add(new TesMount(input, Writable: false));
            }
        }
        return result;
    }

    private PipelineResources Resources(TesResources? resources, Action<string, string> error)
    {
        if (resources is null)
        {
            return new PipelineResources();
        }
        if (resources.BackendParametersStrict == true && resources.BackendParameters is { Count: > 0 } given)
        {
            error("resources.backend_parameters", $"Runway supports no backend parameters (given: {string.Join(", ", given.Keys)}), and backend_parameters_strict is true");
        }
        var cpus = resources.CpuCores ?? 1;
        if (cpus < 1 || cpus > Environment.ProcessorCount)
        {
            error("resources.cpu_cores", $"must be between 1 and {Environment.ProcessorCount}, the CPUs of this node");
        }
        long? memoryMb = null;
        if (resources.RamGb is { } ram)
        {
            var node = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
            if (!double.IsFinite(ram) || ram <= 0 || ram * 1e9 > node)
            {
                error("resources.ram_gb", $"must be more than 0 and at most {node / 1e9:0.##}, the memory of this node");
            }
            else
            {
                memoryMb = Math.Max(1, (long)Math.Ceiling(ram * 1e9 / (1024 * 1024)));
            }
        }
        if (resources.DiskGb is { } disk)
        {
            Directory.CreateDirectory(paths.RunsDirectory);
            var free = new DriveInfo(paths.RunsDirectory).AvailableFreeSpace;
            if (!double.IsFinite(disk) || disk < 0 || disk * 1e9 > free)
            {
                error("resources.disk_gb", $"must be at most {free / 1e9:0.##}, the free space for runs on this node");
            }
        }
        return new PipelineResources { Cpus = cpus, MemoryMb = memoryMb };
    }

    /// <summary>The path without a trailing slash when it is a plain absolute container path, else null with the error said.</summary>
    private static string? CheckPath(string? path, string field, Action<string, string> error, bool wildcards)
    {
        if (string.IsNullOrEmpty(path))
        {
            error(field, "is required");
            return null;
        }
        var trimmed = path.Length > 1 ? path.TrimEnd('/') : path;
        var segments = trimmed.Split('/');
        if (!trimmed.StartsWith('/') || trimmed.Length > MaxPathLength || trimmed == "/"
            || segments.Skip(1).Any(s => s is "" or "." or "..") || segments.Length > MaxDepth + 1
            || trimmed.Any(c => c is ':' or ',' || char.IsControl(c)) || (!wildcards && TesGlob.IsPattern(trimmed)))
        {
            error(field, $"must be an absolute path inside the container, without '..', ':', ',' {(wildcards ? "" : "or wildcards ")}(at most {MaxPathLength} characters, {MaxDepth} levels)");
            return null;
        }
        return trimmed;
    }

    private static string Parent(string path) => path[..path.LastIndexOf('/')] is { Length: > 0 } parent ? parent : "/";

    private static bool Below(string path, string directory) => path.StartsWith(directory + "/", StringComparison.Ordinal);
}
