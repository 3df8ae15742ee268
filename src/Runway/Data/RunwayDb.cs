using Microsoft.EntityFrameworkCore;
using Runway.Auth;
using Runway.Files;
using Runway.Runs;

namespace Runway.Data;

/// <summary>
/// The one context type for both providers: the API injects it, the store creates short-lived ones from
/// <see cref="IDbContextFactory{RunwayDb}"/>. The provider picks its migration set by namespace
/// (<see cref="ProviderMigrationsAssembly"/>), so the type stays sealed and single.
/// </summary>
public sealed class RunwayDb(DbContextOptions<RunwayDb> options) : DbContext(options)
{
    public DbSet<Run> Runs => Set<Run>();
    public DbSet<RunEvent> RunEvents => Set<RunEvent>();
    public DbSet<StoredFile> Files => Set<StoredFile>();
    public DbSet<UserAccount> Users => Set<UserAccount>();
    public DbSet<ApiToken> ApiTokens => Set<ApiToken>();
    public DbSet<OAuthClient> OAuthClients => Set<OAuthClient>();
    public DbSet<AuditEntry> AuditEntries => Set<AuditEntry>();
    public DbSet<NodeRecord> Nodes => Set<NodeRecord>();
    public DbSet<SharedDirectoryMark> SharedDirectoryMarks => Set<SharedDirectoryMark>();
    public DbSet<JobRecord> Jobs => Set<JobRecord>();
    public DbSet<KeptPipelineVersion> PipelineVersions => Set<KeptPipelineVersion>();
    public DbSet<Notification> Notifications => Set<Notification>();
    public DbSet<NotifySettings> NotifySettings => Set<NotifySettings>();
    public DbSet<Batch> Batches => Set<Batch>();
    public DbSet<Schedules.Schedule> Schedules => Set<Schedules.Schedule>();
    public DbSet<TesOutputRecord> TesOutputs => Set<TesOutputRecord>();

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // SQLite has no timestamp type and EF cannot ORDER BY or compare DateTimeOffset there; unix
        // microseconds sort and compare as integers and match PostgreSQL's precision, so both round-trip alike.
        // Npgsql refuses a non-zero offset for timestamptz, so PostgreSQL gets every value as UTC.
        if (Database.IsSqlite())
        {
            configurationBuilder.Properties<DateTimeOffset>().HaveConversion<UnixMicrosecondsConverter>();
        }
        else
        {
            configurationBuilder.Properties<DateTimeOffset>().HaveConversion<UtcConverter>();
        }
        configurationBuilder.Properties<RunState>().HaveConversion<RunStateConverter>();
    }

    protected override void OnModelCreating(ModelBuilder modelBuilder) =>
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(RunwayDb).Assembly);
}
