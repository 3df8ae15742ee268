using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Runway.Auth;

namespace Runway.Data;

internal sealed class UserAccountConfiguration : IEntityTypeConfiguration<UserAccount>
{
    public void Configure(EntityTypeBuilder<UserAccount> b)
    {
        b.ToTable("users");
        b.HasKey(u => u.Username).HasName("pk_users");
        b.Property(u => u.Username).HasColumnName("username").ValueGeneratedNever();
        b.Property(u => u.DisplayName).HasColumnName("display_name");
        b.Property(u => u.Email).HasColumnName("email");
        b.Property(u => u.Role).HasColumnName("role");
        b.Property(u => u.Groups).HasColumnName("groups");
        b.Property(u => u.Enabled).HasColumnName("enabled");
        b.Property(u => u.PasswordHash).HasColumnName("password_hash");
        b.Property(u => u.CreatedAt).HasColumnName("created_at");
        b.Ignore(u => u.IsAdmin);
        b.Ignore(u => u.GroupList);
    }
}

internal sealed class ApiTokenConfiguration : IEntityTypeConfiguration<ApiToken>
{
    public void Configure(EntityTypeBuilder<ApiToken> b)
    {
        b.ToTable("api_tokens");
        b.HasKey(t => t.Id).HasName("pk_api_tokens");
        b.Property(t => t.Id).HasColumnName("id").ValueGeneratedNever();
        b.Property(t => t.Username).HasColumnName("username");
        b.Property(t => t.Name).HasColumnName("name");
        b.Property(t => t.TokenHash).HasColumnName("token_hash");
        b.Property(t => t.Scopes).HasColumnName("scopes");
        b.Property(t => t.ClientId).HasColumnName("client_id");
        b.Property(t => t.CreatedAt).HasColumnName("created_at");
        b.Property(t => t.ExpiresAt).HasColumnName("expires_at");
        b.Property(t => t.RevokedAt).HasColumnName("revoked_at");
        b.HasIndex(t => t.TokenHash, "ix_api_tokens_token_hash").IsUnique();
        b.HasIndex(t => new { t.Username, t.Id }, "ix_api_tokens_username_id");
    }
}

internal sealed class OAuthClientConfiguration : IEntityTypeConfiguration<OAuthClient>
{
    public void Configure(EntityTypeBuilder<OAuthClient> b)
    {
        b.ToTable("oauth_clients");
        b.HasKey(c => c.ClientId).HasName("pk_oauth_clients");
        b.Property(c => c.ClientId).HasColumnName("client_id").ValueGeneratedNever();
        b.Property(c => c.Name).HasColumnName("name");
        b.Property(c => c.Owner).HasColumnName("owner");
        b.Property(c => c.SecretHash).HasColumnName("secret_hash");
        b.Property(c => c.Scopes).HasColumnName("scopes");
        b.Property(c => c.CreatedAt).HasColumnName("created_at");
        b.Property(c => c.RevokedAt).HasColumnName("revoked_at");
    }
}

internal sealed class AuditEntryConfiguration : IEntityTypeConfiguration<AuditEntry>
{
    public void Configure(EntityTypeBuilder<AuditEntry> b)
    {
        b.ToTable("audit_entries");
        b.HasKey(a => a.Id).HasName("pk_audit_entries");
        b.Property(a => a.Id).HasColumnName("id").ValueGeneratedOnAdd();
        b.Property(a => a.At).HasColumnName("at");
        b.Property(a => a.Actor).HasColumnName("actor");
        b.Property(a => a.Action).HasColumnName("action");
        b.Property(a => a.Target).HasColumnName("target");
        b.Property(a => a.Address).HasColumnName("address");
        b.HasIndex(a => new { a.Actor, a.Id }, "ix_audit_entries_actor_id");
        b.HasIndex(a => new { a.At, a.Id }, AuditIndexes.AtId);
    }
}

internal static class AuditIndexes
{
    /// <summary>A time range of the trail becomes an id range (Api/AuditQuery.cs).</summary>
    public const string AtId = "ix_audit_entries_at_id";
}
