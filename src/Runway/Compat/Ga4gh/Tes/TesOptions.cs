namespace Runway.Compat.Ga4gh.Tes;

/// <summary>
/// <c>Runway:Tes</c>. A TES task brings its own command and image, bypassing the operator's pipelines: so the
/// protocol is off unless the operator turns it on, and then only for members of the groups named here.
/// </summary>
public sealed class TesOptions
{
    public const string Section = "Runway:Tes";

    /// <summary>Answer TES at /ga4gh/tes/v1 and /v1; when false (the default) those paths answer 404.</summary>
    public bool Enabled { get; set; }

    /// <summary>The groups whose members may use TES; anyone else gets 403. Empty: nobody.</summary>
    public List<string> AllowedGroups { get; set; } = [];

    /// <summary>
    /// Input URL schemes fetched at submission into a file of the caller's (<c>http</c>, <c>https</c>) besides
    /// <c>runway://files/{id}</c>; empty (the default): only the caller's own Runway files.
    /// </summary>
    public List<string> AllowedInputSchemes { get; set; } = [];
}
