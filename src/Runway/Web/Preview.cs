using System.Text;
using Runway.Execution;

namespace Runway.Web;

/// <summary>What the run page shows of an output inline: an image, the first lines of a text, or those as a table.</summary>
public sealed record Preview(string Kind, IReadOnlyList<string> Lines, IReadOnlyList<IReadOnlyList<string>> Rows, bool More)
{
    public const int MaxLines = 20;
    private const int MaxBytes = 64 * 1024;
    private static readonly string[] Images = [".png", ".svg", ".jpg", ".jpeg", ".gif", ".webp"];
    private static readonly string[] Texts = [".txt", ".log", ".json", ".md", ".csv", ".tsv", ".yaml", ".yml", ".out", ".err"];

    /// <summary>Images are shown by URL in an img element (an SVG so shown runs no script); never read here.</summary>
    public static bool IsImage(string path) => Images.Contains(Path.GetExtension(path).ToLowerInvariant());

    public static bool IsText(string path) => Texts.Contains(Path.GetExtension(path).ToLowerInvariant());

    /// <summary>The first lines of a text output (at most 64 KiB read), split into cells for TSV and CSV.</summary>
    public static Preview Read(RunFileStream file, string path)
    {
        var buffer = new byte[(int)Math.Min(MaxBytes, file.Length)];
        var read = RandomAccess.Read(file.Handle, buffer, 0);
        var text = new UTF8Encoding(false, false).GetString(buffer, 0, read);
        var lines = text.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        var cut = file.Length > read;
        if (cut || (lines.Count > 0 && lines[^1].Length == 0))
        {
            lines.RemoveAt(lines.Count - 1); // a partial last line, or the empty one after the final newline
        }
        var more = cut || lines.Count > MaxLines;
        lines = lines.Take(MaxLines).ToList();
        return Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".tsv" => new Preview("table", lines, lines.Select(l => (IReadOnlyList<string>)l.Split('\t')).ToList(), more),
            ".csv" => new Preview("table", lines, lines.Select(SplitCsv).ToList(), more),
            _ => new Preview("text", lines, [], more),
        };
    }

    /// <summary>One CSV line into cells (RFC 4180 quotes; a quoted newline ends the preview's cell there).</summary>
    private static IReadOnlyList<string> SplitCsv(string line)
    {
        var cells = new List<string>();
        var cell = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quoted && c == '"' && i + 1 < line.Length && line[i + 1] == '"')
            {
                cell.Append('"');
                i++;
            }
            else if (c == '"')
            {
                quoted = !quoted;
            }
            else if (c == ',' && !quoted)
            {
                cells.Add(cell.ToString());
                cell.Clear();
            }
            else
            {
                cell.Append(c);
            }
        }
        cells.Add(cell.ToString());
        return cells;
    }
}
