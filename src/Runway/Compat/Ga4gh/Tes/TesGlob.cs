using System.Text;
using System.Text.RegularExpressions;

namespace Runway.Compat.Ga4gh.Tes;

/// <summary>
/// TES 1.1 output wildcards, as a shell's glob reads them: <c>*</c> any characters but <c>/</c>, <c>?</c> one,
/// <c>[…]</c> a set; a backslash makes the next character plain.
/// </summary>
public static class TesGlob
{
    public static bool IsPattern(string path)
    {
        for (var i = 0; i < path.Length; i++)
        {
            if (path[i] == '\\')
            {
                i++;
            }
            else if (path[i] is '*' or '?' or '[')
            {
                return true;
            }
        }
        return false;
    }

    public static bool Matches(string pattern, string path) => ToRegex(pattern).IsMatch(path);

    private static Regex ToRegex(string pattern)
    {
        var text = new StringBuilder("^");
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (c == '\\' && i + 1 < pattern.Length)
            {
                text.Append(Regex.Escape(pattern[++i].ToString()));
            }
            else if (c == '*')
            {
                text.Append("[^/]*");
            }
            else if (c == '?')
            {
                text.Append("[^/]");
            }
            else if (c == '[' && pattern.IndexOf(']', i + 1) is var end and > 0)
            {
                var set = pattern[(i + 1)..end];
                text.Append('[').Append(set.StartsWith('!') ? "^" + Regex.Escape(set[1..]) : Regex.Escape(set)).Append(']');
                i = end;
            }
            else
            {
                text.Append(Regex.Escape(c.ToString()));
            }
        }
        return new Regex(text.Append(@"\z").ToString(), RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
    }
}
