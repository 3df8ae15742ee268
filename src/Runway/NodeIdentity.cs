using System.Security.Cryptography;

namespace Runway;

/// <summary>
/// This node's name in the runs it claims, and the proof that no other live server uses this data directory.
/// The name is <c>--node</c> (<c>Runway:Node</c>) when given, else an id made once and kept in the data
/// directory: never the host name, which a container or VM may not get back, stranding its runs.
/// The data directory's lock (flock, released by the kernel when the process dies) refuses a second server
/// there: both would take back and finish the same runs.
/// </summary>
public sealed class NodeIdentity : IDisposable
{
    public const string IdFile = "node-id";
    public const string LockFile = "node.lock";

    private readonly FileStream held;

    private NodeIdentity(string name, FileStream held) => (Name, this.held) = (name, held);

    public string Name { get; }

    /// <summary>Locks the data directory, then reads or makes the name. Throws <see cref="NodeInUseException"/> when another server holds it.</summary>
    /// <param name="shared">
    /// The data directory is shared by several nodes (PostgreSQL): each locks its own name under <c>nodes/</c> instead
    /// of the whole directory, so a second node on the same name is refused, and any number under other names start.
    /// </param>
    public static NodeIdentity Acquire(string? configured, string dataDirectory, bool shared = false)
    {
        if (!shared)
        {
            var held = Lock(dataDirectory, Path.Combine(dataDirectory, LockFile));
            try
            {
                return new NodeIdentity(string.IsNullOrWhiteSpace(configured) ? ReadOrCreate(dataDirectory) : configured.Trim(), held);
            }
            catch
            {
                held.Dispose();
                throw;
            }
        }
        var name = string.IsNullOrWhiteSpace(configured) ? ReadOrCreate(dataDirectory) : configured.Trim();
        if (!System.Text.RegularExpressions.Regex.IsMatch(name, "^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$"))
        {
            throw new NodeInUseException($"the node name '{name}' must be letters, digits, '.', '_' and '-', at most 63, starting with a letter or digit");
        }
        var nodes = Directory.CreateDirectory(Path.Combine(dataDirectory, "nodes")).FullName;
        return new NodeIdentity(name, Lock(dataDirectory, Path.Combine(nodes, name + ".lock"), name));
    }

    private static FileStream Lock(string dataDirectory, string path, string? name = null)
    {
        try
        {
            // On Unix, FileShare.None takes flock(LOCK_EX | LOCK_NB) on the file for as long as it is open.
            return new FileStream(path, OwnerOnly(new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.None }));
        }
        catch (IOException e) when (name is not null)
        {
            throw new NodeInUseException(
                $"another Runway node named '{name}' is running on the shared data directory {dataDirectory} (it holds {path}); "
                + "every node sharing a data directory needs its own name: give this one --node NAME.", e);
        }
        catch (IOException e)
        {
            throw new NodeInUseException(
                $"another Runway server is running on the data directory {dataDirectory} (it holds {path}); "
                + "two servers there would run the same runs twice. Stop it, or give this one its own --data-dir.", e);
        }
    }

    internal static string ReadOrCreate(string dataDirectory)
    {
        var path = Path.Combine(dataDirectory, IdFile);
        if (Read(path) is { } existing)
        {
            return existing;
        }
        var id = "node-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        // Written whole under a temporary name, then linked into place: a reader never sees half an id,
        // and an id already there is never replaced.
        var temp = $"{path}.{id}.tmp";
        using (var file = new FileStream(temp, OwnerOnly(new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write })))
        {
            file.Write(System.Text.Encoding.UTF8.GetBytes(id + "\n"));
            file.Flush(flushToDisk: true);
        }
        try
        {
            File.Move(temp, path, overwrite: false);
            // The name on disk too: a crash that kept only the temporary name would give this node a new id at its next start.
            Posix.SyncDirectory(dataDirectory);
            return id;
        }
        catch (IOException) when (Read(path) is { } other)
        {
            File.Delete(temp);
            return other;
        }
    }

    private static string? Read(string path) =>
        File.Exists(path) && File.ReadAllText(path).Trim() is { Length: > 0 } id ? id : null;

    private static FileStreamOptions OwnerOnly(FileStreamOptions options)
    {
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        return options;
    }

    public void Dispose() => held.Dispose();
}

/// <summary>Another live server already holds this node's identity: this one must not start.</summary>
public sealed class NodeInUseException(string message, Exception? inner = null) : StartRefusedException(message, inner);
