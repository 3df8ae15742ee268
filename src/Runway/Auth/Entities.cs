namespace Runway.Auth;

/// <summary>A person or a service account. Groups and roles are plain strings so the database stays readable.</summary>
public sealed class UserAccount
{
    public required string Username { get; init; }
    public string? DisplayName { get; set; }
    public string? Email { get; set; }

    /// <summary><see cref="Roles.Admin"/> or <see cref="Roles.User"/>.</summary>
    public required string Role { get; set; }

    /// <summary>Space-separated group names, matched against a pipeline's <c>allowed_groups</c>.</summary>
    public string Groups { get; set; } = "";

    public bool Enabled { get; set; } = true;
    public required string PasswordHash { get; set; }
    public DateTimeOffset CreatedAt { get; init; }

    public bool IsAdmin => Role == Roles.Admin;

    public IReadOnlyList<string> GroupList => Groups.Split(' ', StringSplitOptions.RemoveEmptyEntries);
}

/// <summary>
/// A bearer credential: a personal API token, or an access token issued to an OAuth client. Only the
/// SHA-256 of the secret is stored; the secret itself is shown once, when it is made.
/// </summary>
public sealed class ApiToken
{
    public required string Id { get; init; }
    public required string Username { get; init; }
    public required string Name { get; init; }
    public required string TokenHash { get; init; }

    /// <summary>Space-separated, as OAuth writes them.</summary>
    public required string Scopes { get; init; }

    /// <summary>Set when the token was issued by <c>POST /oauth/token</c> to this client.</summary>
    public string? ClientId { get; init; }

    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? ExpiresAt { get; init; }
    public DateTimeOffset? RevokedAt { get; set; }
}

/// <summary>A confidential OAuth 2.0 client (client credentials grant), acting for its owner.</summary>
public sealed class OAuthClient
{
    public required string ClientId { get; init; }
    public required string Name { get; init; }
    public required string Owner { get; init; }
    public required string SecretHash { get; init; }

    /// <summary>The most a token issued to this client may carry; a request may ask for less.</summary>
    public required string Scopes { get; init; }

    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? RevokedAt { get; set; }
}

/// <summary>One line of the audit trail: who did what to which thing, when and from where.</summary>
public sealed class AuditEntry
{
    public long Id { get; init; }
    public DateTimeOffset At { get; init; }
    public required string Actor { get; init; }
    public required string Action { get; init; }
    public string? Target { get; init; }
    public string? Address { get; init; }

    public static AuditEntry From(AuditRecord record) => new()
    {
        At = record.At,
        Actor = record.Actor,
        Action = record.Action,
        Target = record.Target,
        Address = record.Address,
    };
}

public static class Roles
{
    public const string Admin = "admin";
    public const string User = "user";

    public static bool IsValid(string? role) => role is Admin or User;
}
