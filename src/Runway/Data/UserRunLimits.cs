namespace Runway.Data;

/// <summary>
/// <c>Runway:Limits</c>: how many runs one user may have running at once, across all nodes (JAWS's fair-share cap),
/// so that one user's ten thousand queued runs cannot starve everyone else. A user's cap is the largest
/// <c>Groups:&lt;group&gt;:MaxRunningPerUser</c> among their groups that set one, else <c>MaxRunningPerUser</c>;
/// 0 (the default) means no cap. Runs over the cap wait queued; the claim statement itself enforces it.
/// </summary>
public sealed class UserRunLimits
{
    public const string Section = "Runway:Limits";

    public int MaxRunningPerUser { get; set; }

    public Dictionary<string, GroupRunLimits> Groups { get; set; } = new(StringComparer.Ordinal);

    public bool Any => MaxRunningPerUser > 0 || Groups.Values.Any(g => g.MaxRunningPerUser > 0);

    /// <summary>The cap of a user in these groups, or null when there is none.</summary>
    public int? CapOf(IEnumerable<string> groups)
    {
        var ofGroups = groups.Select(g => Groups.TryGetValue(g, out var l) && l.MaxRunningPerUser > 0 ? l.MaxRunningPerUser : 0).DefaultIfEmpty(0).Max();
        return ofGroups > 0 ? ofGroups : MaxRunningPerUser > 0 ? MaxRunningPerUser : null;
    }

    internal IEnumerable<KeyValuePair<string, int>> GroupCaps => Groups.Where(g => g.Value.MaxRunningPerUser > 0)
        .Select(g => KeyValuePair.Create(g.Key, g.Value.MaxRunningPerUser));
}

public sealed class GroupRunLimits
{
    public int MaxRunningPerUser { get; set; }
}
