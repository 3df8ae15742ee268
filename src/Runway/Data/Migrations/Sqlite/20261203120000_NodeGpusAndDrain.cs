using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Runway.Data.Migrations.Sqlite;

// Hand-written; mirrors Data/NodeRecord.cs. Issue 12/13: a node publishes its GPUs and who holds each with its
// heartbeat, and draining becomes a flag beside the node's liveness, so that it survives the node's restart.
[DbContext(typeof(RunwayDb))]
[Migration("20261203120000_NodeGpusAndDrain")]
public sealed class NodeGpusAndDrain : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.AddColumn<bool>("draining", "nodes", type: "INTEGER", nullable: false, defaultValue: false);
        migrationBuilder.AddColumn<string>("gpus", "nodes", type: "TEXT", nullable: false, defaultValue: "");
        migrationBuilder.Sql("UPDATE nodes SET draining = 1, state = 'active' WHERE state = 'draining'");
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.Sql("UPDATE nodes SET state = 'draining' WHERE draining AND state = 'active'");
        migrationBuilder.DropColumn("draining", "nodes");
        migrationBuilder.DropColumn("gpus", "nodes");
    }
}
