using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Runway.Data.Migrations.Sqlite;

// Hand-written; mirrors Data/RunConfiguration.cs. Issue 15: a resubmitted run names the run it was made from.
[DbContext(typeof(RunwayDb))]
[Migration("20261204120000_Resubmit")]
public sealed class Resubmit : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.AddColumn<string>("resubmitted_from", "runs", type: "TEXT", nullable: true);
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.DropColumn("resubmitted_from", "runs");
    }
}
