using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Runway.Pipelines;

namespace Runway.Data;

/// <summary>A pipeline version Runway has seen: its YAML text as it was, so it stays submittable after the file changed.</summary>
public sealed class KeptPipelineVersion
{
    public required string Name { get; init; }
    public required string Version { get; init; }
    public required string Yaml { get; init; }

    /// <summary>Where the file was: <c>{pipeline_dir}</c> of the kept version is that file's folder.</summary>
    public required string SourcePath { get; init; }

    public DateTimeOffset FirstSeenAt { get; init; }
}

/// <summary>
/// Pipeline versions side by side (issue 14). The pipelines directory says which versions exist now (<see cref="PipelineCatalog"/>,
/// including <c>&lt;name&gt;/&lt;version&gt;.yaml</c> files); the <c>pipeline_versions</c> table keeps every version Runway has
/// loaded, so when a YAML changes under a running server its earlier version is still run by <c>pipeline_version</c>.
/// </summary>
/// <remarks>
/// The default of a name is the newest version the directory declares now, not the newest ever kept: an operator who takes
/// a version back by editing the file gets what they wrote. A kept version is run as it was declared (its command, its
/// parameters, its groups); its scripts are whatever its folder holds now, which is the operator's to keep.
/// A name the directory no longer declares at all is not served, kept versions or not.
/// </remarks>
public sealed class PipelineVersions(PipelineCatalog catalog, IDbContextFactory<RunwayDb> databases, TimeProvider clock, ILogger<PipelineVersions> logger)
{
    /// <summary>The answer to (name, version): the pipeline, or null with every version known (newest first) to say what exists.</summary>
    public sealed record Lookup(Pipeline? Pipeline, IReadOnlyList<PipelineVersionInfo> Known);

    /// <summary>Stores the versions the catalog serves that are not kept yet; one insert per new version, none when nothing changed.</summary>
    public async Task KeepLoadedAsync(CancellationToken ct)
    {
        var loaded = catalog.All.SelectMany(p => catalog.VersionsOf(p.Name)).Where(p => p.Yaml is not null).ToList();
        if (loaded.Count == 0)
        {
            return;
        }
        await using var db = await databases.CreateDbContextAsync(ct);
        var names = loaded.Select(p => p.Name).Distinct().ToList();
        var kept = (await db.PipelineVersions.AsNoTracking().Where(v => names.Contains(v.Name)).Select(v => new { v.Name, v.Version }).ToListAsync(ct))
            .Select(v => (v.Name, v.Version)).ToHashSet();
        foreach (var pipeline in loaded.Where(p => !kept.Contains((p.Name, p.Version))))
        {
            try
            {
                db.PipelineVersions.Add(new KeptPipelineVersion
                {
                    Name = pipeline.Name,
                    Version = pipeline.Version,
                    Yaml = pipeline.Yaml!,
                    SourcePath = pipeline.SourcePath,
                    FirstSeenAt = clock.GetUtcNow(),
                });
                await db.SaveChangesAsync(ct);
            }
            catch (DbUpdateException)
            {
                // Another node kept it first: the first text seen for a version is the one kept.
                db.ChangeTracker.Clear();
            }
        }
    }

    /// <summary>The default (newest declared) when <paramref name="version"/> is null, else that version from the directory or the kept ones.</summary>
    public async Task<Lookup> FindAsync(string name, string? version, CancellationToken ct)
    {
        if (catalog.Find(name) is not { } latest)
        {
            return new Lookup(null, []);
        }
        if (version is null)
        {
            return new Lookup(latest, []);
        }
        if (catalog.Find(name, version) is { } declared)
        {
            return new Lookup(declared, []);
        }
        await using var db = await databases.CreateDbContextAsync(ct);
        if (await db.PipelineVersions.AsNoTracking().FirstOrDefaultAsync(v => v.Name == name && v.Version == version, ct) is { } kept)
        {
            try
            {
                return new Lookup(PipelineParser.Parse(kept.Yaml, kept.SourcePath) with { Yaml = kept.Yaml }, []);
            }
            catch (PipelineFormatException error)
            {
                // Parsed once when it was loaded; a later Runway may read some key differently.
                logger.LogWarning("Kept pipeline {Name} {Version} no longer parses: {Error}", name, version, error.Message);
            }
        }
        return new Lookup(null, await ListAsync(name, ct));
    }

    /// <summary>Every version of the name, newest first: those declared now and those kept.</summary>
    public async Task<IReadOnlyList<PipelineVersionInfo>> ListAsync(string name, CancellationToken ct)
    {
        var declared = catalog.VersionsOf(name).Select(p => p.Version).ToHashSet(StringComparer.Ordinal);
        if (declared.Count == 0)
        {
            return [];
        }
        await using var db = await databases.CreateDbContextAsync(ct);
        var kept = await db.PipelineVersions.AsNoTracking().Where(v => v.Name == name).Select(v => v.Version).ToListAsync(ct);
        var latest = catalog.Find(name)!.Version;
        return [.. declared.Union(kept).OrderByDescending(v => v, PipelineVersionOrder.Instance)
            .Select(v => new PipelineVersionInfo(v, v == latest, declared.Contains(v)))];
    }
}

/// <summary>One version of a pipeline: whether it is the default, and whether the directory declares it now (else Runway kept it).</summary>
public sealed record PipelineVersionInfo(string Version, bool Default, bool Declared);

internal sealed class KeptPipelineVersionConfiguration : IEntityTypeConfiguration<KeptPipelineVersion>
{
    public void Configure(EntityTypeBuilder<KeptPipelineVersion> b)
    {
        b.ToTable("pipeline_versions");
        b.HasKey(v => new { v.Name, v.Version }).HasName("pk_pipeline_versions");
        b.Property(v => v.Name).HasColumnName("name");
        b.Property(v => v.Version).HasColumnName("version");
        b.Property(v => v.Yaml).HasColumnName("yaml");
        b.Property(v => v.SourcePath).HasColumnName("source_path");
        b.Property(v => v.FirstSeenAt).HasColumnName("first_seen_at");
    }
}
