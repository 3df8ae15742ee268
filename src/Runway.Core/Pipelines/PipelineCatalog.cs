using Microsoft.Extensions.Logging;

namespace Runway.Pipelines;

/// <summary>
/// The pipelines of one directory: <c>*.yaml</c> and <c>*.yml</c> at its top, and <c>&lt;folder&gt;/pipeline.yaml</c>
/// (or <c>.yml</c>) one level down for pipelines that ship scripts. Other YAML inside those folders is the
/// pipeline's own data and is not read. A change on disk reloads everything after a 200 ms pause; a file
/// that fails is logged and reported in <see cref="Errors"/> while the others keep being served. When two
/// files declare the same name, the first by path wins and the second is an error.
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

    public Pipeline? Find(string name) => snapshot.ByName.GetValueOrDefault(name);

    public void Reload()
    {
        lock (reloading)
        {
            var byName = new Dictionary<string, Pipeline>(StringComparer.Ordinal);
            var errors = new SortedDictionary<string, string>(StringComparer.Ordinal);
            foreach (var path in Files())
            {
                try
                {
                    var pipeline = PipelineParser.Parse(File.ReadAllText(path), path);
                    // A container this node cannot run would only fail each run: say so now, as for a malformed file.
                    if (pipeline.Container is { } container && Execution.Local.ContainerEngine.Missing(container) is { } missing)
                    {
                        throw new PipelineFormatException($"{path}: {missing}");
                    }
                    if (byName.TryGetValue(pipeline.Name, out var first))
                    {
                        throw new PipelineFormatException($"{path}: name: '{pipeline.Name}' is already declared by {first.SourcePath}");
                    }
                    byName[pipeline.Name] = pipeline;
                }
                catch (Exception ex) when (ex is PipelineFormatException or IOException or UnauthorizedAccessException)
                {
                    var message = ex is PipelineFormatException ? ex.Message : $"{path}: cannot be read: {ex.Message}";
                    errors[path] = message;
                    logger.LogWarning("Pipeline file skipped: {Message}", message);
                }
            }
            var all = byName.Values.OrderBy(p => p.Name, StringComparer.Ordinal).ToList();
            snapshot = new Snapshot(all, byName, errors);
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
        var nested = Directory.EnumerateDirectories(directory)
            .Where(d => !Path.GetFileName(d).StartsWith('.'))
            .SelectMany(d => NestedNames.Select(n => Path.Combine(d, n)))
            .Where(File.Exists);
        return top.Concat(nested).Order(StringComparer.Ordinal).ToList();
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
        IReadOnlyList<Pipeline> All, IReadOnlyDictionary<string, Pipeline> ByName, IReadOnlyDictionary<string, string> Errors)
    {
        public static readonly Snapshot Empty = new([], new Dictionary<string, Pipeline>(), new Dictionary<string, string>());
    }
}
