using Microsoft.Extensions.Logging;

namespace Runway.Pipelines;

/// <summary>
/// The pipelines of one directory: <c>*.yaml</c> and <c>*.yml</c> at its top, and <c>&lt;folder&gt;/pipeline.yaml</c>
/// (or <c>.yml</c>) one level down for pipelines that ship scripts, and <c>&lt;folder&gt;/&lt;version&gt;.yaml</c> for
/// versions kept side by side (issue 14; the file's name must be the version it declares). Other YAML inside those
/// folders is the pipeline's own data and is not read. A change on disk reloads everything after a 200 ms pause; a
/// file that fails is logged and reported in <see cref="Errors"/> while the others keep being served. A name may have
/// several versions; the newest by <see cref="PipelineVersionOrder"/> is the default (<see cref="Find(string)"/>).
/// When two files that are not version files declare the same name, or two files the same name and version, the
/// first by path wins and the second is an error.
/// </summary>
public sealed class PipelineCatalog : IDisposable
{
    private static readonly TimeSpan Debounce = TimeSpan.FromMilliseconds(200);
    private static readonly string[] NestedNames = ["pipeline.yaml", "pipeline.yml"];

    private readonly string directory;
    private readonly ILogger<PipelineCatalog> logger;
    private readonly FileSystemWatcher? watcher;
    private readonly Timer debounce;
    private readonly Lock reloading = new();
    private volatile Snapshot snapshot = Snapshot.Empty;
    private volatile bool disposed;

    public PipelineCatalog(string directory, ILogger<PipelineCatalog> logger)
    {
        this.directory = Path.GetFullPath(directory);
        this.logger = logger;
        debounce = new Timer(_ => ReloadAfterChange());
        Reload();
        if (!Directory.Exists(this.directory))
        {
            logger.LogWarning("Pipelines directory {Directory} does not exist: no pipelines are served", this.directory);
            return;
        }
        watcher = Watch();
    }

    public IReadOnlyList<Pipeline> All => snapshot.All;

    public IReadOnlyDictionary<string, string> Errors => snapshot.Errors;

    public event Action? Changed;

    /// <summary>The default version of the pipeline: the newest the directory declares.</summary>
    public Pipeline? Find(string name) => snapshot.ByName.GetValueOrDefault(name);

    /// <summary>One version the directory declares now, or null.</summary>
    public Pipeline? Find(string name, string version) =>
        snapshot.Versions.GetValueOrDefault(name)?.FirstOrDefault(p => p.Version == version);

    /// <summary>The versions the directory declares now, newest first; empty for an unknown name.</summary>
    public IReadOnlyList<Pipeline> VersionsOf(string name) => snapshot.Versions.GetValueOrDefault(name) ?? [];

    public void Reload()
    {
        lock (reloading)
        {
            var byVersion = new Dictionary<(string Name, string Version), Pipeline>();
            var primaries = new Dictionary<string, Pipeline>(StringComparer.Ordinal);
            var errors = new SortedDictionary<string, string>(StringComparer.Ordinal);
            foreach (var path in Files())
            {
                try
                {
                    var yaml = File.ReadAllText(path);
                    var pipeline = PipelineParser.Parse(yaml, path) with { Yaml = yaml };
                    if (VersionFileName(path) is { } named && named != pipeline.Version)
                    {
                        throw new PipelineFormatException($"{path}: version: '{pipeline.Version}' is not the version the file is named after ('{named}')");
                    }
                    // A container this node cannot run would only fail each run: say so now, as for a malformed file.
                    if (pipeline.Container is { } container && Execution.Local.ContainerEngine.Missing(container) is { } missing)
                    {
                        throw new PipelineFormatException($"{path}: {missing}");
                    }
                    // Versions side by side come from version files; two other files of one name are a mistake, as before.
                    var primary = VersionFileName(path) is null;
                    if (byVersion.TryGetValue((pipeline.Name, pipeline.Version), out var first)
                        || (primary && primaries.TryGetValue(pipeline.Name, out first)))
                    {
                        throw new PipelineFormatException($"{path}: name: '{pipeline.Name}' is already declared by {first.SourcePath}");
                    }
                    byVersion[(pipeline.Name, pipeline.Version)] = pipeline;
                    if (primary)
                    {
                        primaries[pipeline.Name] = pipeline;
                    }
                }
                catch (Exception ex) when (ex is PipelineFormatException or IOException or UnauthorizedAccessException)
                {
                    var message = ex is PipelineFormatException ? ex.Message : $"{path}: cannot be read: {ex.Message}";
                    errors[path] = message;
                    logger.LogWarning("Pipeline file skipped: {Message}", message);
                }
            }
            var versions = byVersion.Values.GroupBy(p => p.Name, StringComparer.Ordinal).ToDictionary(
                g => g.Key, g => (IReadOnlyList<Pipeline>)[.. g.OrderByDescending(p => p.Version, PipelineVersionOrder.Instance)], StringComparer.Ordinal);
            var byName = versions.ToDictionary(v => v.Key, v => v.Value[0], StringComparer.Ordinal);
            var all = byName.Values.OrderBy(p => p.Name, StringComparer.Ordinal).ToList();
            snapshot = new Snapshot(all, byName, versions, errors);
            logger.LogInformation("Loaded {Count} pipelines from {Directory} ({Errors} failed)", all.Count, directory, errors.Count);
        }
        Changed?.Invoke();
    }

    public void Dispose()
    {
        disposed = true;
        watcher?.Dispose();
        debounce.Dispose();
    }

    private FileSystemWatcher? Watch()
    {
        var fileWatcher = new FileSystemWatcher(directory)
        {
            IncludeSubdirectories = true,
            NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size,
        };
        fileWatcher.Changed += OnChange;
        fileWatcher.Created += OnChange;
        fileWatcher.Deleted += OnChange;
        fileWatcher.Renamed += OnChange;
        fileWatcher.Error += (_, e) =>
        {
            logger.LogWarning(e.GetException(), "Watching {Directory} failed; reloading", directory);
            OnChange(this, new FileSystemEventArgs(WatcherChangeTypes.All, directory, null));
        };
        try
        {
            fileWatcher.EnableRaisingEvents = true;
            return fileWatcher;
        }
        catch (IOException ex)
        {
            // Typically the inotify watch limit: serve what loaded rather than refuse to start.
            logger.LogWarning(ex, "Cannot watch {Directory}: pipeline changes need a restart or Reload()", directory);
            fileWatcher.Dispose();
            return null;
        }
    }

    private List<string> Files()
    {
        if (!Directory.Exists(directory))
        {
            return [];
        }
        var top = Directory.EnumerateFiles(directory).Where(f => IsYaml(Path.GetFileName(f)));
        var folders = Directory.EnumerateDirectories(directory).Where(d => !Path.GetFileName(d).StartsWith('.')).ToList();
        var nested = folders.SelectMany(d => NestedNames.Select(n => Path.Combine(d, n))).Where(File.Exists);
        var versioned = folders.SelectMany(d => Directory.EnumerateFiles(d).Where(f => VersionFileName(f) is not null));
        return top.Concat(nested).Concat(versioned).Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// The version a file inside a pipeline's folder is named after (<c>1.2.0.yaml</c>: "1.2.0"), or null when the name is
    /// not a version (its own data, or a top-level file). A version starts with a digit, so <c>pipeline.yaml</c> and data
    /// files such as <c>config.yaml</c> are not taken for one.
    /// </summary>
    private string? VersionFileName(string path)
    {
        if (Path.GetDirectoryName(path) == directory || !IsYaml(Path.GetFileName(path)))
        {
            return null;
        }
        var version = Path.GetFileNameWithoutExtension(path);
        return version.Length > 0 && char.IsAsciiDigit(version[0]) && version.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '+' or '-')
            ? version
            : null;
    }

    // Editors' lock and backup files (.#x.yaml, .x.yaml.swp) start with a dot.
    private static bool IsYaml(string name) =>
        !name.StartsWith('.') && (name.EndsWith(".yaml", StringComparison.Ordinal) || name.EndsWith(".yml", StringComparison.Ordinal));

    private void OnChange(object sender, FileSystemEventArgs e)
    {
        if (disposed)
        {
            return;
        }
        try
        {
            debounce.Change(Debounce, Timeout.InfiniteTimeSpan);
        }
        catch (ObjectDisposedException)
        {
            // Disposed between the check and the call: nothing left to reload.
        }
    }

    private void ReloadAfterChange()
    {
        if (disposed)
        {
            return;
        }
        try
        {
            Reload();
        }
        catch (Exception ex)
        {
            // A timer callback that throws would end the process; the next change retries.
            logger.LogError(ex, "Reloading pipelines from {Directory} failed", directory);
        }
    }

    private sealed record Snapshot(
        IReadOnlyList<Pipeline> All, IReadOnlyDictionary<string, Pipeline> ByName, IReadOnlyDictionary<string, IReadOnlyList<Pipeline>> Versions,
        IReadOnlyDictionary<string, string> Errors)
    {
        public static readonly Snapshot Empty = new([], new Dictionary<string, Pipeline>(), new Dictionary<string, IReadOnlyList<Pipeline>>(), new Dictionary<string, string>());
    }
}
