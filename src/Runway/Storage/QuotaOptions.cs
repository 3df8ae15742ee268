namespace Runway.Storage;

/// <summary>
/// <c>Runway:Quota</c>: how many bytes one user may store, uploads and run directories together. A user's quota is the
/// largest <c>Groups:&lt;group&gt;:UserBytes</c> among their groups that set one, else <c>UserBytes</c>; 0 (the default)
/// means no quota. As <c>Runway:Limits</c> does for running runs (<see cref="Data.UserRunLimits"/>).
/// </summary>
public sealed class QuotaOptions
{
    public const string Section = "Runway:Quota";

    public long UserBytes { get; set; }

    public Dictionary<string, GroupQuota> Groups { get; set; } = new(StringComparer.Ordinal);

    /// <summary>How long a user's stored bytes are trusted before they are read again; a node's own uploads are added at once.</summary>
    public TimeSpan CacheFor { get; set; } = TimeSpan.FromSeconds(10);

    public bool Any => UserBytes > 0 || Groups.Values.Any(g => g.UserBytes > 0);

    /// <summary>The quota of a user in these groups, or null when there is none.</summary>
    public long? LimitOf(IEnumerable<string> groups)
    {
        var ofGroups = groups.Select(g => Groups.TryGetValue(g, out var q) && q.UserBytes > 0 ? q.UserBytes : 0).DefaultIfEmpty(0).Max();
        return ofGroups > 0 ? ofGroups : UserBytes > 0 ? UserBytes : null;
    }
}

public sealed class GroupQuota
{
    public long UserBytes { get; set; }
}
