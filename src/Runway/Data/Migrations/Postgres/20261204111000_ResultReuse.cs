using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Runway.Data.Migrations.Postgres;

// Hand-written; mirrors Data/RunConfiguration.cs. Issue 14, result reuse: a run of a pipeline with cache: true|shared
// keeps its cache key (RunCache), looked up by later submissions; a run that reused another's outputs names it.
[DbContext(typeof(RunwayDb))]
[Migration("20261204111000_ResultReuse")]
public sealed class ResultReuse : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.AddColumn<string>("cache_key", "runs", type: "text", nullable: true);
        migrationBuilder.AddColumn<string>("cached_from", "runs", type: "text", nullable: true);
        migrationBuilder.CreateIndex(RunIndexes.CacheKey, "runs", ["cache_key", "id"], filter: "cache_key IS NOT NULL");
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.DropIndex(RunIndexes.CacheKey, "runs");
        migrationBuilder.DropColumn("cached_from", "runs");
        migrationBuilder.DropColumn("cache_key", "runs");
    }
}
