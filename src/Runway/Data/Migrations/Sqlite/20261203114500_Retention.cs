using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Runway.Data.Migrations.Sqlite;

// Hand-written; mirrors Data/RunConfiguration.cs, Data/StoredFileConfiguration.cs and Data/JobLeases.cs. Timestamps are unix microseconds.
// Issue 16, retention and quotas: a run keeps the size of its directory and when its files were purged; an upload
// when it was last used by a submission; the jobs table holds the retention sweep's lease (one node at a time).
[DbContext(typeof(RunwayDb))]
[Migration("20261203114500_Retention")]
public sealed class Retention : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.AddColumn<long>("files_bytes", "runs", type: "INTEGER", nullable: true);
        migrationBuilder.AddColumn<long>("files_purged_at", "runs", type: "INTEGER", nullable: true);
        migrationBuilder.CreateIndex(RunIndexes.OwnerFilesBytes, "runs", ["owner", "files_bytes"]);
        migrationBuilder.CreateIndex(RunIndexes.FilesKept, "runs", ["finished_at", "id"], filter: "files_purged_at IS NULL AND finished_at IS NOT NULL");

        // An upload counts as used when it was made: the files there are now are as old as their upload.
        migrationBuilder.AddColumn<long>("last_used_at", "files", type: "INTEGER", nullable: false, defaultValue: 0L);
        migrationBuilder.Sql("UPDATE files SET last_used_at = created_at");
        migrationBuilder.CreateIndex(FileIndexes.OwnerSize, "files", ["owner", "size"]);
        migrationBuilder.CreateIndex(FileIndexes.LastUsedAt, "files", ["last_used_at", "id"]);

        migrationBuilder.CreateTable(
            name: "jobs",
            columns: t => new
            {
                name = t.Column<string>(type: "TEXT", nullable: false),
                locked_by = t.Column<string>(type: "TEXT", nullable: true),
                locked_until = t.Column<long>(type: "INTEGER", nullable: false),
                next_at = t.Column<long>(type: "INTEGER", nullable: false),
            },
            constraints: t => t.PrimaryKey("pk_jobs", x => x.name));
        migrationBuilder.Sql($"INSERT INTO jobs (name, locked_until, next_at) VALUES ('{JobLeases.Retention}', 0, 0)");
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
