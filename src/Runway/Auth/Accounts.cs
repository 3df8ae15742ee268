using Microsoft.EntityFrameworkCore;
using Runway.Data;

namespace Runway.Auth;

public sealed record NewUser(string Username, string? Password, string Role = Roles.User, string? DisplayName = null, string? Email = null, IReadOnlyList<string>? Groups = null);

/// <summary>
/// The users table: the one code path the API, the CLI on the server machine and the first start all go
/// through, so a user made one way behaves the same as one made another.
/// </summary>
public sealed class Accounts(IDbContextFactory<RunwayDb> databases, Passwords passwords, GrantCache cache, TimeProvider clock)
{
    public const string FirstAdmin = "admin";

    private readonly Lazy<string> decoy = new(() => passwords.Hash(Secrets.NewPassword()));

    public static string? UsernameProblem(string? username) =>
        string.IsNullOrEmpty(username) || username.Length > 64 || !username.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' or '@')
            ? "must be 1 to 64 letters, digits, '.', '-', '_' or '@'"
            : null;

    /// <summary>Per-field problems with a new user, empty when it may be added. A null password is generated later.</summary>
    public static Dictionary<string, string[]> Validate(NewUser user)
    {
        var errors = new Dictionary<string, string[]>();
        if (UsernameProblem(user.Username) is { } name)
        {
            errors["username"] = [name];
        }
        if (user.Password is not null && Passwords.Problem(user.Password) is { } password)
        {
            errors["password"] = [password];
        }
        if (!Roles.IsValid(user.Role))
        {
            errors["role"] = [$"must be {Roles.Admin} or {Roles.User}"];
        }
        if (GroupsProblem(user.Groups) is { } groups)
        {
            errors["groups"] = [groups];
        }
        return errors;
    }

    /// <summary>Why a list of group names is refused, or null: each is named as a user is.</summary>
    public static string? GroupsProblem(IEnumerable<string>? groups) =>
        groups?.Any(g => UsernameProblem(g) is not null) == true ? "each group must be 1 to 64 letters, digits, '.', '-', '_' or '@'" : null;

    public async Task<UserAccount?> FindAsync(string username, CancellationToken ct)
    {
        await using var db = await databases.CreateDbContextAsync(ct);
        return await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Username == username, ct);
    }

    public async Task<IReadOnlyList<UserAccount>> ListAsync(CancellationToken ct)
    {
        await using var db = await databases.CreateDbContextAsync(ct);
        return await db.Users.AsNoTracking().OrderBy(u => u.Username).ToListAsync(ct);
    }

    /// <summary>Adds the user; null when the name is taken. Callers validate the fields first.</summary>
    public async Task<UserAccount?> AddAsync(NewUser user, string password, CancellationToken ct)
    {
        await using var db = await databases.CreateDbContextAsync(ct);
        var account = new UserAccount
        {
            Username = user.Username,
            DisplayName = user.DisplayName,
            Email = user.Email,
            Role = user.Role,
            Groups = string.Join(' ', user.Groups ?? []),
            PasswordHash = passwords.Hash(password),
            CreatedAt = clock.GetUtcNow(),
        };
        if (await db.Users.AnyAsync(u => u.Username == user.Username, ct))
        {
            return null;
        }
        db.Users.Add(account);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            // Another node or CLI added the same name between the check and the insert.
            return null;
        }
        return account;
    }

    /// <summary>Applies <paramref name="change"/> to the stored user; null when there is no such user.</summary>
    public async Task<UserAccount?> UpdateAsync(string username, Action<UserAccount> change, CancellationToken ct)
    {
        await using var db = await databases.CreateDbContextAsync(ct);
        if (await db.Users.FirstOrDefaultAsync(u => u.Username == username, ct) is not { } user)
        {
            return null;
        }
        change(user);
        await db.SaveChangesAsync(ct);
        cache.Clear(); // a disabled user's tokens stop working, a demoted admin's lose the admin scope
        return user;
    }

    public Task<UserAccount?> SetPasswordAsync(string username, string password, CancellationToken ct)
    {
        var hash = passwords.Hash(password);
        return UpdateAsync(username, u => u.PasswordHash = hash, ct);
    }

    /// <summary>The enabled user whose password this is, or null. Unknown names cost a hash too, so timing tells nothing.</summary>
    public async Task<UserAccount?> VerifyPasswordAsync(string username, string password, CancellationToken ct)
    {
        var user = await FindAsync(username, ct);
        var (ok, rehashed) = passwords.Verify(user?.PasswordHash ?? decoy.Value, password);
        if (user is null || !ok || !user.Enabled)
        {
            return null;
        }
        if (rehashed is not null)
        {
            await UpdateAsync(username, u => u.PasswordHash = rehashed, ct);
            user.PasswordHash = rehashed; // what is stored now: a sign-in cookie stamps it
        }
        return user;
    }

    /// <summary>
    /// On a database without users, creates <see cref="FirstAdmin"/> with <paramref name="password"/> or a
    /// generated one. Returns the password to show when it was generated, null otherwise.
    /// </summary>
    public async Task<string?> EnsureFirstAdminAsync(string? password, CancellationToken ct)
    {
        await using (var db = await databases.CreateDbContextAsync(ct))
        {
            if (await db.Users.AnyAsync(ct))
            {
                return null;
            }
        }
        var generated = string.IsNullOrEmpty(password);
        var chosen = generated ? Secrets.NewPassword() : password!;
        var added = await AddAsync(new NewUser(FirstAdmin, chosen, Roles.Admin, "Administrator"), chosen, ct);
        return added is not null && generated ? chosen : null;
    }
}
