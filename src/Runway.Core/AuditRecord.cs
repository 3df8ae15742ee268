namespace Runway;

/// <summary>
/// Who did what to which thing, from where: an audit entry before it is stored. Names ids and user
/// names, never a secret. A store that takes one with a change writes both in one transaction.
/// </summary>
public sealed record AuditRecord(DateTimeOffset At, string Actor, string Action, string? Target, string? Address);
