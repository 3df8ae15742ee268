using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Runway.Data.Migrations.Sqlite;

// Hand-written; mirrors Data/AccountConfigurations.cs. Timestamps are unix microseconds.
[DbContext(typeof(RunwayDb))]
[Migration("20261124090000_Accounts")]
public sealed class Accounts : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.CreateTable(
            name: "users",
            columns: t => new
            {
                username = t.Column<string>(type: "TEXT", nullable: false),
                display_name = t.Column<string>(type: "TEXT", nullable: true),
                email = t.Column<string>(type: "TEXT", nullable: true),
                role = t.Column<string>(type: "TEXT", nullable: false),
                groups = t.Column<string>(type: "TEXT", nullable: false),
                enabled = t.Column<bool>(type: "INTEGER", nullable: false),
                password_hash = t.Column<string>(type: "TEXT", nullable: false),
                created_at = t.Column<long>(type: "INTEGER", nullable: false),
            },
            constraints: t => t.PrimaryKey("pk_users", x => x.username));

        migrationBuilder.CreateTable(
            name: "api_tokens",
            columns: t => new
            {
                id = t.Column<string>(type: "TEXT", nullable: false),
                username = t.Column<string>(type: "TEXT", nullable: false),
                name = t.Column<string>(type: "TEXT", nullable: false),
                token_hash = t.Column<string>(type: "TEXT", nullable: false),
                scopes = t.Column<string>(type: "TEXT", nullable: false),
                client_id = t.Column<string>(type: "TEXT", nullable: true),
                created_at = t.Column<long>(type: "INTEGER", nullable: false),
                expires_at = t.Column<long>(type: "INTEGER", nullable: true),
                revoked_at = t.Column<long>(type: "INTEGER", nullable: true),
            },
            constraints: t => t.PrimaryKey("pk_api_tokens", x => x.id));

        migrationBuilder.CreateTable(
            name: "oauth_clients",
            columns: t => new
            {
                client_id = t.Column<string>(type: "TEXT", nullable: false),
                name = t.Column<string>(type: "TEXT", nullable: false),
                owner = t.Column<string>(type: "TEXT", nullable: false),
                secret_hash = t.Column<string>(type: "TEXT", nullable: false),
                scopes = t.Column<string>(type: "TEXT", nullable: false),
                created_at = t.Column<long>(type: "INTEGER", nullable: false),
                revoked_at = t.Column<long>(type: "INTEGER", nullable: true),
            },
            constraints: t => t.PrimaryKey("pk_oauth_clients", x => x.client_id));

        migrationBuilder.CreateTable(
            name: "audit_entries",
            columns: t => new
            {
                id = t.Column<long>(type: "INTEGER", nullable: false),
                at = t.Column<long>(type: "INTEGER", nullable: false),
                actor = t.Column<string>(type: "TEXT", nullable: false),
                action = t.Column<string>(type: "TEXT", nullable: false),
                target = t.Column<string>(type: "TEXT", nullable: true),
                address = t.Column<string>(type: "TEXT", nullable: true),
            },
            constraints: t => t.PrimaryKey("pk_audit_entries", x => x.id));

        migrationBuilder.CreateIndex("ix_api_tokens_token_hash", "api_tokens", "token_hash", unique: true);
        migrationBuilder.CreateIndex("ix_api_tokens_username_id", "api_tokens", ["username", "id"]);
        migrationBuilder.CreateIndex("ix_audit_entries_actor_id", "audit_entries", ["actor", "id"]);
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.DropTable("audit_entries");
        migrationBuilder.DropTable("oauth_clients");
        migrationBuilder.DropTable("api_tokens");
        migrationBuilder.DropTable("users");
    }
}
