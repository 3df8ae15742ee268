using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Runway.Data.Migrations.Postgres;

// Hand-written; mirrors Data/RunConfiguration.cs, Data/StoredFileConfiguration.cs and Data/JobLeases.cs. Timestamps are timestamptz (UTC).
// Issue 16, retention and quotas: a run keeps the size of its directory and when its files were purged; an upload
// when it was last used by a submission; the jobs table holds the retention sweep's lease (one node at a time).
[DbContext(typeof(RunwayDb))]
[Migration("20261203114500_Retention")]
public sealed class Retention : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.AddColumn<long>("files_bytes", "runs", type: "bigint", nullable: true);
        migrationBuilder.AddColumn<DateTimeOffset>("files_purged_at", "runs", type: "timestamp with time zone", nullable: true);
        migrationBuilder.CreateIndex(RunIndexes.OwnerFilesBytes, "runs", ["owner", "files_bytes"]);
        migrationBuilder.CreateIndex(RunIndexes.FilesKept, "runs", ["finished_at", "id"], filter: "files_purged_at IS NULL AND finished_at IS NOT NULL");

        // An upload counts as used when it was made: the files there are now are as old as their upload.
        migrationBuilder.AddColumn<DateTimeOffset>("last_used_at", "files", type: "timestamp with time zone", nullable: false, defaultValue: new DateTimeOffset(1970, 1, 1, 0, 0, 0, TimeSpan.Zero));
        migrationBuilder.Sql("UPDATE files SET last_used_at = created_at");
        migrationBuilder.CreateIndex(FileIndexes.OwnerSize, "files", ["owner", "size"]);
        migrationBuilder.CreateIndex(FileIndexes.LastUsedAt, "files", ["last_used_at", "id"]);

        migrationBuilder.CreateTable(
            name: "jobs",
            columns: t => new
            {
                name = t.Column<string>(type: "text", nullable: false),
                locked_by = t.Column<string>(type: "text", nullable: true),
                locked_until = t.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                next_at = t.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
            },
            constraints: t => t.PrimaryKey("pk_jobs", x => x.name));
        migrationBuilder.Sql($"INSERT INTO jobs (name, locked_until, next_at) VALUES ('{JobLeases.Retention}', '1970-01-01T00:00:00Z', '1970-01-01T00:00:00Z')");
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.DropTable("jobs");
        migrationBuilder.DropIndex(FileIndexes.LastUsedAt, "files");
        migrationBuilder.DropIndex(FileIndexes.OwnerSize, "files");
        migrationBuilder.DropColumn("last_used_at", "files");
        migrationBuilder.DropIndex(RunIndexes.FilesKept, "runs");
        migrationBuilder.DropIndex(RunIndexes.OwnerFilesBytes, "runs");
        migrationBuilder.DropColumn("files_purged_at", "runs");
        migrationBuilder.DropColumn("files_bytes", "runs");
    }
}
