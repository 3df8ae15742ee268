using System.Buffers.Text;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Runway.Runs;

namespace Runway.Api;

/// <summary>
/// The filters and keyset cursor of GET /api/v1/runs. Ids are ULIDs, so "newest first" is "id descending"
/// and the next page is "id below the last one seen": an index seek, never OFFSET.
/// </summary>
public static class RunQuery
{
    /// <summary>The filtered query, or null with <paramref name="errors"/> filled when a filter is malformed.</summary>
    public static IQueryable<Run>? Filter(
        IQueryable<Run> runs, string? state, string? pipeline, string? owner, string? tag, string? cursor,
        Dictionary<string, string[]> errors)
    {
        if (!string.IsNullOrEmpty(state))
        {
            var states = new List<RunState>();
            foreach (var name in state.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (RunStates.TryParse(name, out var s))
                {
                    states.Add(s);
                }
                else
                {
                    errors["state"] = [$"'{name}' is not a state; one of: {string.Join(", ", RunStates.All.Select(x => x.ToWire()))}"];
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

    private static string? DecodeCursor(string cursor)
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
