using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using Runway.Auth;
using Runway.Data;

namespace Runway.Api;

/// <summary>A page of users by name.</summary>
public sealed record UserPage(IReadOnlyList<UserAccount> Users, string? NextCursor);

/// <summary>
/// What a change to a user came to: the user (and a password generated for it, shown once), or the per-field
/// errors, or <see cref="Conflict"/> (the name is taken); neither user nor errors: no such user.
/// </summary>
public sealed record UserChange(UserAccount? User = null, string? GeneratedPassword = null, Dictionary<string, string[]>? Errors = null, bool Conflict = false);

/// <summary>
/// An admin's work on users, for /api/v1/admin/users and the admin pages alike: the list, adding a user (a
/// password generated when none is given), and changes (role, groups, enabled, password), each audited.
/// </summary>
public sealed class UserAdmin(IDbContextFactory<RunwayDb> databases, Accounts accounts, Passwords passwords, AuditTrail audit)
{
    public async Task<UserPage?> PageAsync(int? limit, string? cursor, Dictionary<string, string[]> errors, CancellationToken ct)
    {
        var size = Keyset.Limit(limit, errors);
        var after = Keyset.After(cursor, name => name.Length > 0, errors);
        if (errors.Count > 0)
        {
            return null;
        }
        await using var db = await databases.CreateDbContextAsync(ct);
        var query = db.Users.AsNoTracking();
        query = after is null ? query : query.Where(u => u.Username.CompareTo(after) > 0);
        var page = await query.OrderBy(u => u.Username).Take(size + 1).ToListAsync(ct);
        return new UserPage(page.Take(size).ToList(), Keyset.Next(page, size, u => u.Username));
    }

    public async Task<UserChange> AddAsync(ClaimsPrincipal caller, AddUserRequest? request, string? address, CancellationToken ct)
    {
        var user = new NewUser(request?.Username ?? "", request?.Password, request?.Role ?? Roles.User, request?.DisplayName, request?.Email, request?.Groups);
        var errors = Accounts.Validate(user);
        if (errors.Count > 0)
        {
            return new UserChange(Errors: errors);
        }
        var password = user.Password ?? Secrets.NewPassword();
        if (await accounts.AddAsync(user, password, ct) is not { } added)
        {
            return new UserChange(Conflict: true);
        }
        await audit.RecordAsync(Caller.NameOf(caller), "user.create", added.Username, address, ct);
        return new UserChange(added, user.Password is null ? password : null);
    }

    /// <summary>Applies the fields given; with <paramref name="generatePassword"/>, a new password too, answered once.</summary>
    public async Task<UserChange> UpdateAsync(
        ClaimsPrincipal caller, string username, UpdateUserRequest? request, bool generatePassword, string? address, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        if (request?.Role is { } role && !Roles.IsValid(role))
        {
            errors["role"] = [$"must be {Roles.Admin} or {Roles.User}"];
        }
        var generated = generatePassword ? Secrets.NewPassword() : null;
        if (generated is null && request?.Password is { } newPassword && Passwords.Problem(newPassword) is { } weak)
        {
            errors["password"] = [weak];
        }
        if (Accounts.GroupsProblem(request?.Groups) is { } groups)
        {
            errors["groups"] = [groups];
        }
        if (username == Caller.NameOf(caller) && (request?.Enabled == false || request?.Role == Roles.User))
        {
            errors["enabled"] = ["an admin cannot disable or demote their own account; ask another admin"];
        }
        if (errors.Count > 0)
        {
            return new UserChange(Errors: errors);
        }
        var hash = (generated ?? request?.Password) is { } p ? passwords.Hash(p) : null;
        var updated = await accounts.UpdateAsync(username, u =>
        {
            u.DisplayName = request?.DisplayName ?? u.DisplayName;
            u.Email = request?.Email ?? u.Email;
            u.Role = request?.Role ?? u.Role;
            u.Groups = request?.Groups is { } groups ? string.Join(' ', groups) : u.Groups;
            u.Enabled = request?.Enabled ?? u.Enabled;
            u.PasswordHash = hash ?? u.PasswordHash;
        }, ct);
        if (updated is null)
        {
            return new UserChange();
        }
        await audit.RecordAsync(Caller.NameOf(caller), AuditAction(request, hash is not null), username, address, ct);
        return new UserChange(updated, generated);
    }

    /// <summary>The audit trail's name for a change: the same as the CLI's for a password reset, an enable and a disable.</summary>
    private static string AuditAction(UpdateUserRequest? request, bool newPassword) => request switch
    {
        _ when newPassword => "user.reset_password",
        { Enabled: { } enabled, DisplayName: null, Email: null, Role: null, Groups: null } => enabled ? "user.enable" : "user.disable",
        _ => "user.update",
    };
}
