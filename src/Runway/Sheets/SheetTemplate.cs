using System.Text;
using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Spreadsheet;
using Runway.Pipelines;

namespace Runway.Sheets;

/// <summary>
/// An empty sheet for a pipeline's batch: the header (one column per parameter), a row of descriptions, a row of
/// defaults. The description row starts with <c>#</c>, the comment mark both readers skip (<see cref="SheetReader"/>),
/// so a filled-in template is uploaded as it is; the defaults row is the first run's, to be overwritten or removed.
/// </summary>
public static class SheetTemplate
{
    public static string Csv(Pipeline pipeline)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        var text = new StringBuilder();
        foreach (var row in Rows(pipeline))
        {
            text.AppendJoin(',', row.Select(Quote)).Append("\r\n");
        }
        return text.ToString();
    }

    public static byte[] Xlsx(Pipeline pipeline)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        using var memory = new MemoryStream();
        using (var document = SpreadsheetDocument.Create(memory, SpreadsheetDocumentType.Workbook))
        {
            var workbook = document.AddWorkbookPart();
            workbook.Workbook = new Workbook();
            var worksheet = workbook.AddNewPart<WorksheetPart>();
            var data = new SheetData();
            foreach (var (cells, index) in Rows(pipeline).Select((r, i) => (r, i)))
            {
                var row = new Row { RowIndex = (uint)(index + 1) };
                foreach (var (text, column) in cells.Select((c, i) => (c, i)))
                {
                    row.Append(new Cell
                    {
                        CellReference = $"{Sheet.ColumnName(column)}{index + 1}",
                        DataType = CellValues.InlineString,
                        InlineString = new InlineString(new Text(text)),
                    });
                }
                data.Append(row);
            }
            worksheet.Worksheet = new Worksheet(data);
            workbook.Workbook.AppendChild(new DocumentFormat.OpenXml.Spreadsheet.Sheets()).Append(new DocumentFormat.OpenXml.Spreadsheet.Sheet
            {
                Id = workbook.GetIdOfPart(worksheet),
                SheetId = 1,
                Name = pipeline.Name.Length <= 31 ? pipeline.Name : pipeline.Name[..31],
            });
        }
        return memory.ToArray();
    }

    /// <summary>Header, descriptions (the first cell marked <c>#</c>), defaults; every cell text, as a sheet shows it.</summary>
    private static IEnumerable<string[]> Rows(Pipeline pipeline)
    {
        var parameters = pipeline.Parameters;
        yield return [.. parameters.Select(p => p.Name)];
        yield return [.. parameters.Select((p, i) => (i == 0 ? "# " : "") + Describe(p))];
        yield return [.. parameters.Select(p => p.Default switch
        {
            null => "",
            var d when d.GetValueKind() == System.Text.Json.JsonValueKind.String => d.GetValue<string>(),
            var d => d.ToJsonString(),
        })];
    }

    private static string Describe(Runway.Pipelines.Parameter p)
    {
        var what = p.Type switch
        {
            ParameterType.Enum => $"one of {string.Join(" | ", p.Values)}",
            ParameterType.File => "file id or the name of your upload",
            ParameterType.Boolean => "true or false",
            var type => type.ToString().ToLowerInvariant(),
        };
        var range = (p.Minimum, p.Maximum) switch
        {
            (null, null) => "",
            (var min, null) => $", at least {min}",
            (null, var max) => $", at most {max}",
            (var min, var max) => $", {min} to {max}",
        };
        return $"{p.Description}{(string.IsNullOrEmpty(p.Description) ? "" : " ")}({what}{range}{(p.Required ? ", required" : "")})";
    }

    /// <summary>RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled.</summary>
    private static string Quote(string field) =>
        field.AsSpan().IndexOfAny(",\"\r\n") < 0 ? field : $"\"{field.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";
}
