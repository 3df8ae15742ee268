using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Runway.Data;

/// <summary>The mark that ties a PostgreSQL database to the one data directory every node of it must share.</summary>
public sealed class SharedDirectoryMark
{
    public int Id { get; set; }
    public required string Mark { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

internal sealed class SharedDirectoryMarkConfiguration : IEntityTypeConfiguration<SharedDirectoryMark>
{
    public void Configure(EntityTypeBuilder<SharedDirectoryMark> b)
    {
        b.ToTable("shared_directory");
        b.HasKey(m => m.Id).HasName("pk_shared_directory");
        b.Property(m => m.Id).HasColumnName("id").ValueGeneratedNever();
        b.Property(m => m.Mark).HasColumnName("mark");
        b.Property(m => m.CreatedAt).HasColumnName("created_at");
    }
}

/// <summary>
/// Nodes on one database read run directories, uploads and exit records from one data directory, on a file
/// system they all mount (as on an HPC cluster). The first node writes a random mark into that directory and into
/// the database; a node whose data directory lacks the database's mark is not on the shared file system, and
/// would take over runs whose files it cannot see: it refuses to start and says so.
/// </summary>
public static class SharedDirectory
{
    public const string MarkFile = "shared-directory-mark";

    public static async Task CheckAsync(IDbContextFactory<RunwayDb> contexts, string dataDirectory, TimeProvider clock, CancellationToken ct)
    {
        var path = Path.Combine(dataDirectory, MarkFile);
        await using var db = await contexts.CreateDbContextAsync(ct);
        var stored = await db.SharedDirectoryMarks.AsNoTracking().FirstOrDefaultAsync(m => m.Id == 1, ct);
        var local = File.Exists(path) ? (await File.ReadAllTextAsync(path, ct)).Trim() : null;
        if (stored is null)
        {
            local ??= await WriteAsync(path, ct);
            db.SharedDirectoryMarks.Add(new SharedDirectoryMark { Id = 1, Mark = local, CreatedAt = clock.GetUtcNow() });
            try
            {
                await db.SaveChangesAsync(ct);
                return;
            }
            catch (DbUpdateException)
            {
                // Another node started at the same moment and stored its mark first: compare with that one.
                db.ChangeTracker.Clear();
                stored = await db.SharedDirectoryMarks.AsNoTracking().FirstAsync(m => m.Id == 1, ct);
            }
        }
        if (!string.Equals(stored.Mark, local, StringComparison.Ordinal))
        {
            throw new NodeInUseException(
                $"the data directory {dataDirectory} is not the one the other nodes of this database share: "
                + (local is null ? $"it has no {MarkFile}" : $"its {MarkFile} is {local}")
                + $", theirs is {stored.Mark} (written {stored.CreatedAt:O}). Every node on one database must use the same data directory, "
                + "on a file system they all mount (NFS, Lustre…): mount it and give its path as --data-dir.");
        }
    }

    /// <summary>CreateNew: of two nodes starting at once, the second reads the first one's mark.</summary>
    private static async Task<string> WriteAsync(string path, CancellationToken ct)
    {
        var mark = Guid.NewGuid().ToString("N");
        try
        {
            await using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
            await file.WriteAsync(System.Text.Encoding.UTF8.GetBytes(mark + "\n"), ct);
            return mark;
        }
        catch (IOException) when (File.Exists(path))
        {
            return (await File.ReadAllTextAsync(path, ct)).Trim();
        }
    }
}
