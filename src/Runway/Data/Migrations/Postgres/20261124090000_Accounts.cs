using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

namespace Runway.Data.Migrations.Postgres;

// Hand-written; mirrors Data/AccountConfigurations.cs. Timestamps are timestamptz (UTC).
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
                username = t.Column<string>(type: "text", nullable: false),
                display_name = t.Column<string>(type: "text", nullable: true),
                email = t.Column<string>(type: "text", nullable: true),
                role = t.Column<string>(type: "text", nullable: false),
                groups = t.Column<string>(type: "text", nullable: false),
                enabled = t.Column<bool>(type: "boolean", nullable: false),
                password_hash = t.Column<string>(type: "text", nullable: false),
                created_at = t.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
            },
            constraints: t => t.PrimaryKey("pk_users", x => x.username));

        migrationBuilder.CreateTable(
            name: "api_tokens",
            columns: t => new
            {
                id = t.Column<string>(type: "text", nullable: false),
                username = t.Column<string>(type: "text", nullable: false),
                name = t.Column<string>(type: "text", nullable: false),
                token_hash = t.Column<string>(type: "text", nullable: false),
                scopes = t.Column<string>(type: "text", nullable: false),
                client_id = t.Column<string>(type: "text", nullable: true),
                created_at = t.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                expires_at = t.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                revoked_at = t.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
            },
            constraints: t => t.PrimaryKey("pk_api_tokens", x => x.id));

        migrationBuilder.CreateTable(
            name: "oauth_clients",
            columns: t => new
            {
                client_id = t.Column<string>(type: "text", nullable: false),
                name = t.Column<string>(type: "text", nullable: false),
                owner = t.Column<string>(type: "text", nullable: false),
                secret_hash = t.Column<string>(type: "text", nullable: false),
                scopes = t.Column<string>(type: "text", nullable: false),
                created_at = t.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                revoked_at = t.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
            },
            constraints: t => t.PrimaryKey("pk_oauth_clients", x => x.client_id));

        migrationBuilder.CreateTable(
            name: "audit_entries",
            columns: t => new
            {
                id = t.Column<long>(type: "bigint", nullable: false)
                    .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                at = t.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                actor = t.Column<string>(type: "text", nullable: false),
                action = t.Column<string>(type: "text", nullable: false),
                target = t.Column<string>(type: "text", nullable: true),
                address = t.Column<string>(type: "text", nullable: true),
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
