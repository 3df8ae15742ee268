namespace Runway.Files;

/// <summary>An uploaded file: its bytes live at <c>files/{Id}</c> under the data directory, never under a user-chosen name.</summary>
public sealed class StoredFile
{
    public required string Id { get; init; }

    /// <summary>The client's file name, reduced to a safe base name (see <see cref="FileNames.Sanitize"/>).</summary>
    public required string Name { get; init; }

    public long Size { get; init; }
    public required string Sha256 { get; init; }
    public required string Owner { get; init; }
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>When a run was last submitted with it (its upload until then): the retention policy deletes files unused for long.</summary>
    public DateTimeOffset LastUsedAt { get; init; }
}
