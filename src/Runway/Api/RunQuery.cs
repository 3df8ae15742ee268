using System.Buffers.Text;
using System.Security.Claims;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Runway.Data;
using Runway.Runs;

namespace Runway.Api;

/// <summary>What a list of runs may be narrowed by; <see cref="Name"/> is text anywhere in the run's name, any case.</summary>
public sealed record RunFilter(string? State = null, string? Pipeline = null, string? Owner = null, string? Tag = null, string? Name = null, string? BatchId = null);

/// <summary>One page of runs, newest first, and the cursor of the next (null on the last page).</summary>
public sealed record RunPage(IReadOnlyList<Run> Runs, string? NextCursor);

/// <summary>
/// The runs a caller may list, filtered and paged: one rule for GET /api/v1/runs and the web UI's runs page.
/// Ids are ULIDs, so "newest first" is "id descending" and the next page is "id below the last one seen":
/// an index seek, never OFFSET.
/// </summary>
public static class RunQuery
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 500;

    /// <summary>The caller's runs; an admin's: everyone's.</summary>
    public static IQueryable<Run> VisibleTo(RunwayDb db, ClaimsPrincipal user)
    {
        var me = Caller.NameOf(user);
        return Caller.IsAdmin(user) ? db.Runs.AsNoTracking() : db.Runs.AsNoTracking().Where(r => r.Owner == me);
    }

    /// <summary>One page of the runs the caller may see, or null with <paramref name="errors"/> filled when a filter is malformed.</summary>
    public static async Task<RunPage?> PageAsync(
        RunwayDb db, ClaimsPrincipal user, RunFilter filter, string? cursor, int? limit, Dictionary<string, string[]> errors, CancellationToken ct)
    {
        var query = Filter(VisibleTo(db, user), filter, cursor, errors);
        var size = limit ?? DefaultLimit;
        if (size is < 1 or > MaxLimit)
        {
            errors["limit"] = [$"must be between 1 and {MaxLimit}"];
        }
        if (errors.Count > 0 || query is null)
        {
            return null;
        }
        var page = await query.OrderByDescending(r => r.Id).Take(size + 1).ToListAsync(ct);
        return new RunPage(page.Take(size).ToList(), page.Count > size ? CursorAfter(page[size - 1].Id) : null);
    }

    /// <summary>
    /// How many of the runs the caller may see match the filter, per state, whatever the filter's own state.
    /// Bounded with a million runs: finished states are counted over the newest <paramref name="window"/> matching
    /// runs (one index range), while queued and running, few and what a person watches, are counted whole up to
    /// <paramref name="window"/> + 1 through the state index. <c>Windowed</c> says the finished counts were cut.
    /// </summary>
    public static async Task<(IReadOnlyDictionary<RunState, int> Counts, bool Windowed)> CountsAsync(
        RunwayDb db, ClaimsPrincipal user, RunFilter filter, int window, CancellationToken ct)
    {
        var counts = new Dictionary<RunState, int>();
        if (Filter(VisibleTo(db, user), filter with { State = null }, null, []) is not { } query)
        {
            return (counts, false);
        }
        var recent = await query.OrderByDescending(r => r.Id).Take(window).Select(r => r.State).ToListAsync(ct);
        foreach (var state in recent)
        {
            counts[state] = counts.GetValueOrDefault(state) + 1;
        }
        foreach (var active in (RunState[])[RunState.Queued, RunState.Running])
        {
            counts[active] = await query.Where(r => r.State == active).Take(window + 1).CountAsync(ct);
        }
        return (counts, recent.Count >= window);
    }

    /// <summary>The filtered query, or null with <paramref name="errors"/> filled when a filter is malformed.</summary>
    public static IQueryable<Run>? Filter(IQueryable<Run> runs, RunFilter filter, string? cursor, Dictionary<string, string[]> errors)
    {
        var (state, pipeline, owner, tag, name, batchId) = filter;
        if (!string.IsNullOrEmpty(state))
        {
            var states = new List<RunState>();
            foreach (var wanted in state.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (RunStates.TryParse(wanted, out var s))
                {
                    states.Add(s);
                }
                else
                {
                    errors["state"] = [$"'{wanted}' is not a state; one of: {string.Join(", ", RunStates.All.Select(x => x.ToWire()))}"];
                }
            }
            runs = states.Count == 1 ? runs.Where(r => r.State == states[0]) : runs.Where(r => states.Contains(r.State));
        }
        if (!string.IsNullOrEmpty(pipeline))
        {
            runs = runs.Where(r => r.Pipeline == pipeline);
        }
        if (!string.IsNullOrEmpty(owner))
        {
            runs = runs.Where(r => r.Owner == owner);
        }
        if (!string.IsNullOrEmpty(tag))
        {
            var split = tag.IndexOfAny([':', '=']);
            if (split <= 0)
            {
                errors["tag"] = ["must be name:value"];
            }
            else
            {
                // Tags are stored as compact JSON written by System.Text.Json, so the encoded pair is a
                // substring of the column exactly when the run has that tag.
                var pair = JsonSerializer.Serialize(new Dictionary<string, string> { [tag[..split]] = tag[(split + 1)..] })[1..^1];
                var pattern = "%" + pair.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal) + "%";
                runs = runs.Where(r => EF.Functions.Like(r.TagsJson, pattern, "\\"));
            }
        }
        if (!string.IsNullOrWhiteSpace(name))
        {
            // No index serves text inside a name; the other filters and the page size bound the scan.
            var text = name.Trim().ToLowerInvariant();
            // lower() and instr()/strpos() in SQL on both databases; the StringComparison overload has no translation.
#pragma warning disable CA1862
            runs = runs.Where(r => r.Name != null && r.Name.ToLower().Contains(text));
#pragma warning restore CA1862
        }
        if (!string.IsNullOrEmpty(batchId))
        {
            runs = runs.Where(r => r.BatchId == batchId);
        }
        if (!string.IsNullOrEmpty(cursor))
        {
            if (DecodeCursor(cursor) is { } after)
            {
                runs = runs.Where(r => r.Id.CompareTo(after) < 0);
            }
            else
            {
                errors["cursor"] = ["is not a cursor this server gave out"];
            }
        }
        return errors.Count > 0 ? null : runs;
    }

    public static string CursorAfter(string id) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(id));

    public static string? DecodeCursor(string cursor)
    {
        try
        {
            var id = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(cursor));
            return Ids.IsRunId(id) ? id : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
