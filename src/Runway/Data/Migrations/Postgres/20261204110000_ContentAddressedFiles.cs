using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Runway.Data.Migrations.Postgres;

// Hand-written; mirrors Data/StoredFileConfiguration.cs. Issue 14, content-addressed files: uploads are found by their
// hash (?sha256=, a blob still needed) and charged once per blob a user holds (StorageUse).
[DbContext(typeof(RunwayDb))]
[Migration("20261204110000_ContentAddressedFiles")]
public sealed class ContentAddressedFiles : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.CreateIndex(FileIndexes.OwnerSha256, "files", ["owner", "sha256", "size"]);
        migrationBuilder.CreateIndex(FileIndexes.Sha256, "files", "sha256");
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.DropIndex(FileIndexes.Sha256, "files");
        migrationBuilder.DropIndex(FileIndexes.OwnerSha256, "files");
    }
}
