using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Runway.Data.Migrations.Postgres;

// Hand-written; mirrors Compat/Caesar/CaesarFileTag.cs. Issue 17: caesar-rest's upload tag, shown by /fileids.
[DbContext(typeof(RunwayDb))]
[Migration("20261205122000_CaesarFileTags")]
public sealed class CaesarFileTags : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.CreateTable(
            name: "caesar_file_tags",
            columns: t => new
            {
                file_id = t.Column<string>(type: "text", nullable: false),
                tag = t.Column<string>(type: "text", nullable: false),
            },
            constraints: t =>
            {
                t.PrimaryKey("pk_caesar_file_tags", x => x.file_id);
                t.ForeignKey("fk_caesar_file_tags_files_file_id", x => x.file_id, "files", "id", onDelete: ReferentialAction.Cascade);
            });
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.DropTable("caesar_file_tags");
    }
}
