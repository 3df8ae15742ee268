using System.Text.RegularExpressions;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Api;

/// <summary>Api uses Auth (credentials, scopes, the audit trail); Auth must not use Api back.</summary>
public sealed partial class FolderDependencyTests
{
    [Fact]
    public void Auth_UsesNothingOfApi()
    {
        var auth = Path.Combine(Repository.Root, "src", "Runway", "Auth");
        var apiTypes = Directory.EnumerateFiles(Path.Combine(Repository.Root, "src", "Runway", "Api"), "*.cs")
            .SelectMany(f => TypeDeclaration().Matches(File.ReadAllText(f)).Select(m => m.Groups["name"].Value))
            .ToHashSet(StringComparer.Ordinal);

        var uses = Directory.EnumerateFiles(auth, "*.cs")
            .SelectMany(f => Identifier().Matches(Comment().Replace(File.ReadAllText(f), ""))
                .Select(m => m.Value)
                .Where(word => word == "Runway.Api" || apiTypes.Contains(word))
                .Select(word => $"{Path.GetFileName(f)}: {word}"))
            .Distinct()
            .ToList();

        Assert.True(uses.Count == 0, "Auth/ uses Api/: " + string.Join(", ", uses));
    }

    [GeneratedRegex("//.*$", RegexOptions.Multiline)]
    private static partial Regex Comment();

    [GeneratedRegex(@"\b(?:class|record|struct|interface|enum)\s+(?<name>\w+)")]
    private static partial Regex TypeDeclaration();

    [GeneratedRegex(@"\bRunway\.Api\b|\b[A-Z]\w*\b")]
    private static partial Regex Identifier();
}
