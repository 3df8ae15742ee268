using System.Text;

namespace Runway.Pipelines;

/// <summary>One piece of an argument template: literal text, or the name inside a <c>{placeholder}</c>.</summary>
internal readonly record struct TemplateSegment(string Text, bool IsPlaceholder);

/// <summary>
/// The placeholder syntax of command arguments and environment values: <c>{name}</c> is a placeholder,
/// <c>{{</c> and <c>}}</c> are literal braces, and any other brace is an error, so that a stray brace in an
/// inline awk or sh script is caught at load rather than rendered in a surprising way.
/// </summary>
internal static class Template
{
    public const string RunDirectory = "run_dir";
    public const string PipelineDirectory = "pipeline_dir";
    public const string RunId = "run_id";

    public static readonly IReadOnlySet<string> BuiltIns = new HashSet<string>(StringComparer.Ordinal) { RunDirectory, PipelineDirectory, RunId };

    /// <exception cref="FormatException">The template has an unmatched brace or a malformed placeholder.</exception>
    public static List<TemplateSegment> Split(string template)
    {
        var segments = new List<TemplateSegment>();
        var literal = new StringBuilder();
        for (var i = 0; i < template.Length; i++)
        {
            var c = template[i];
            if (c == '}')
            {
                if (i + 1 < template.Length && template[i + 1] == '}')
                {
                    literal.Append('}');
                    i++;
                    continue;
                }
                throw new FormatException($"a '}}' without its '{{' at position {i + 1} (write '}}}}' for a literal brace)");
            }
            if (c != '{')
            {
                literal.Append(c);
                continue;
            }
            if (i + 1 < template.Length && template[i + 1] == '{')
            {
                literal.Append('{');
                i++;
                continue;
            }
            var close = template.IndexOf('}', i + 1);
            var name = close < 0 ? null : template[(i + 1)..close];
            if (name is null || !IsName(name))
            {
                throw new FormatException(
                    $"'{{' at position {i + 1} does not start a placeholder such as {{input}} (write '{{{{' for a literal brace)");
            }
            if (literal.Length > 0)
            {
                segments.Add(new TemplateSegment(literal.ToString(), false));
                literal.Clear();
            }
            segments.Add(new TemplateSegment(name, true));
            i = close;
        }
        if (literal.Length > 0)
        {
            segments.Add(new TemplateSegment(literal.ToString(), false));
        }
        return segments;
    }

    /// <summary>Parameter and placeholder names: <c>^[a-z_][a-z0-9_]*$</c>.</summary>
    public static bool IsName(string name) =>
        name.Length > 0 && (char.IsAsciiLetterLower(name[0]) || name[0] == '_')
        && name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_');
}
