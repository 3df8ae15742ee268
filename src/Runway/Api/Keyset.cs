using System.Buffers.Text;
using System.Text;

namespace Runway.Api;

/// <summary>
/// The <c>limit</c> and <c>cursor</c> of the lists other than runs (files, tokens, users, clients), which
/// page as <see cref="RunQuery"/> does: ordered by a unique key, the next page is "key past the last one
/// seen", and <c>next_cursor</c> is null on the last page. A cursor is that key, base64url-encoded.
/// </summary>
public static class Keyset
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;

    /// <summary>The page size, or null with <paramref name="errors"/> filled.</summary>
    public static int Limit(int? limit, Dictionary<string, string[]> errors)
    {
        var size = limit ?? DefaultLimit;
        if (size is < 1 or > MaxLimit)
        {
            errors["limit"] = [$"must be between 1 and {MaxLimit}"];
        }
        return size;
    }

    /// <summary>The key a cursor stands for; null when there is none, and an error when it is not one this server gave out.</summary>
    public static string? After(string? cursor, Func<string, bool> isKey, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrEmpty(cursor))
        {
            return null;
        }
        try
        {
            var key = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(cursor));
            if (isKey(key))
            {
                return key;
            }
        }
        catch (FormatException)
        {
        }
        errors["cursor"] = ["is not a cursor this server gave out"];
        return null;
    }

    /// <summary>The cursor of the next page when the query fetched one row more than <paramref name="size"/>; else null.</summary>
    public static string? Next<T>(IReadOnlyList<T> fetched, int size, Func<T, string> key) =>
        fetched.Count > size ? Base64Url.EncodeToString(Encoding.UTF8.GetBytes(key(fetched[size - 1]))) : null;
}
