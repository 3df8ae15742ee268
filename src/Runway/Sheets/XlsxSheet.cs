using System.IO.Packaging;
using System.Xml;
using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Spreadsheet;

namespace Runway.Sheets;

/// <summary>
/// The first worksheet of an XLSX, read with the Open XML SDK's SAX reader (<see cref="OpenXmlReader"/>) one row at a
/// time, never as a whole DOM. A formula cell gives its cached value (&lt;v&gt;), as the program that saved the file
/// computed it: Runway evaluates nothing. Shared strings are read once, within the same caps.
/// </summary>
internal static class XlsxSheet
{
    public static Sheet Read(Stream stream, SheetLimits limits)
    {
        try
        {
            using var document = SpreadsheetDocument.Open(stream, false, new OpenSettings { MaxCharactersInPart = 64L * 1024 * 1024 });
            var workbook = document.WorkbookPart ?? throw new SheetException("the XLSX file holds no workbook");
            var first = workbook.Workbook.Sheets?.Elements<DocumentFormat.OpenXml.Spreadsheet.Sheet>().FirstOrDefault()
                ?? throw new SheetException("the XLSX file holds no worksheet");
            if (first.Id?.Value is not { } partId || workbook.GetPartById(partId) is not WorksheetPart worksheet)
            {
                throw new SheetException("the XLSX file's first sheet is not a worksheet");
            }
            var strings = SharedStrings(workbook, limits);
            return Rows(worksheet, strings, limits);
        }
        catch (Exception e) when (e is OpenXmlPackageException or FileFormatException or InvalidDataException or XmlException or IOException
            or InvalidOperationException or ArgumentException or KeyNotFoundException)
        {
            throw new SheetException("the rows file starts as an XLSX (ZIP) file but is not a readable XLSX workbook");
        }
    }

    private static List<string> SharedStrings(WorkbookPart workbook, SheetLimits limits)
    {
        var strings = new List<string>();
        if (workbook.SharedStringTablePart is not { } part)
        {
            return strings;
        }
        using var reader = OpenXmlReader.Create(part);
        while (reader.Read())
        {
            if (reader.ElementType == typeof(SharedStringItem) && reader.IsStartElement)
            {
                var text = reader.LoadCurrentElement()?.InnerText ?? "";
                strings.Add(text.Length <= limits.MaxCellLength ? text : text[..(limits.MaxCellLength + 1)]);
                if (strings.Count > limits.MaxCells)
                {
                    throw new SheetException($"the XLSX file has more than {limits.MaxCells} distinct texts (Runway:Batches:MaxCells)");
                }
            }
        }
        return strings;
    }

    private static Sheet Rows(WorksheetPart worksheet, List<string> strings, SheetLimits limits)
    {
        List<string>? header = null;
        var rows = new List<SheetRow>();
        var cells = 0;
        using var reader = OpenXmlReader.Create(worksheet);
        while (reader.Read())
        {
            if (reader.ElementType != typeof(Row) || !reader.IsStartElement)
            {
                continue;
            }
            var row = (Row)reader.LoadCurrentElement()!;
            var number = (int)(row.RowIndex?.Value ?? (uint)(rows.Count + (header is null ? 1 : 2)));
            var values = new List<SheetCell>();
            foreach (var cell in row.Elements<Cell>())
            {
                var column = cell.CellReference?.Value is { } reference ? Sheet.ColumnIndex(reference.AsSpan().TrimEnd("0123456789")) : values.Count;
                if (column < 0 || column >= limits.MaxCells)
                {
                    throw new SheetException($"row {number} has a cell outside the columns this server reads");
                }
                while (values.Count < column)
                {
                    values.Add(new SheetCell(null));
                }
                values.Add(Value(cell, strings, limits, number, column));
                if (++cells > limits.MaxCells)
                {
                    SheetReader.Check(0, cells, limits);
                }
            }
            if (header is null)
            {
                header = [.. values.Select(v => (v.Text ?? "").Trim())];
                continue;
            }
            if (values.Count == 0 || values.All(v => v.IsEmpty) || (values[0].Text?.StartsWith('#') ?? false))
            {
                continue;
            }
            SheetReader.Check(rows.Count + 1, cells, limits);
            rows.Add(new SheetRow(number, values));
        }
        return new Sheet(header ?? [], rows);
    }

    /// <summary>The cell as text: a shared or inline string, a number or boolean as written, a formula's cached value.</summary>
    private static SheetCell Value(Cell cell, List<string> strings, SheetLimits limits, int row, int column)
    {
        var raw = cell.CellValue?.Text;
        var type = cell.DataType?.Value;
        if (type == CellValues.SharedString)
        {
            return int.TryParse(raw, out var index) && index >= 0 && index < strings.Count
                ? new SheetCell(SheetReader.Cell(strings[index], limits, row, column))
                : new SheetCell(null, "refers to a text the file does not hold");
        }
        if (type == CellValues.InlineString)
        {
            return new SheetCell(SheetReader.Cell(cell.InlineString?.InnerText ?? "", limits, row, column));
        }
        if (type == CellValues.Error)
        {
            return new SheetCell(null, $"holds the error value {raw}");
        }
        if (type == CellValues.Boolean)
        {
            return new SheetCell(raw == "1" ? "true" : raw == "0" ? "false" : raw);
        }
        return new SheetCell(raw is null ? null : SheetReader.Cell(raw, limits, row, column));
    }
}
