namespace Runway.Sheets;

/// <summary>One cell as read: its text, or why it has none a user should see (an XLSX error value such as #DIV/0!).</summary>
public readonly record struct SheetCell(string? Text, string? Error = null)
{
    public bool IsEmpty => Error is null && string.IsNullOrEmpty(Text);
}

/// <summary>One row of the sheet with its number as the sheet shows it (the header is row 1).</summary>
public sealed record SheetRow(int Number, IReadOnlyList<SheetCell> Cells);

/// <summary>
/// A spreadsheet read into rows of text, CSV or XLSX alike: the header (the first row), then the data rows. Rows whose
/// first cell starts with <c>#</c> are comments and never reach here (the templates' description row is one).
/// </summary>
public sealed record Sheet(IReadOnlyList<string> Header, IReadOnlyList<SheetRow> Rows)
{
    /// <summary>The spreadsheet's own name of a column: A, B, …, Z, AA, …</summary>
    public static string ColumnName(int index)
    {
        var name = "";
        for (var n = index + 1; n > 0; n = (n - 1) / 26)
        {
            name = (char)('A' + ((n - 1) % 26)) + name;
        }
        return name;
    }

    /// <summary>The 0-based index of a column name (A → 0); -1 when it is not one.</summary>
    public static int ColumnIndex(ReadOnlySpan<char> name)
    {
        var index = 0;
        foreach (var c in name)
        {
            if (c is < 'A' or > 'Z' || index > 100_000)
            {
                return -1;
            }
            index = (index * 26) + (c - 'A' + 1);
        }
        return index - 1;
    }
}

/// <summary>Why a sheet could not be read at all (not CSV or XLSX, over a cap): one message, the 4xx's detail.</summary>
public sealed class SheetException(string message) : Exception(message);

/// <summary>How much of a sheet is read at most: rows (the header not counted), cells, and characters per cell.</summary>
public sealed record SheetLimits(int MaxRows, int MaxCells, int MaxCellLength);
