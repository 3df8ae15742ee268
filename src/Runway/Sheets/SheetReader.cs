using System.Text;
using Sylvan.Data.Csv;

namespace Runway.Sheets;

/// <summary>
/// Reads an uploaded sheet, CSV or XLSX told apart by their bytes (an XLSX is a ZIP: "PK\x03\x04"), never by the file's
/// name. Both are streamed row by row and stop at the first cap passed (<see cref="SheetLimits"/>), so a 20 MB file of
/// garbage costs at most a few kilobytes of reading before it is refused; the CSV must be UTF-8 (a BOM is skipped).
/// </summary>
public static class SheetReader
{
    public static async Task<Sheet> ReadAsync(Stream stream, SheetLimits limits, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var head = new byte[4];
        var read = await stream.ReadAtLeastAsync(head, head.Length, throwOnEndOfStream: false, ct);
        stream.Seek(0, SeekOrigin.Begin);
        if (read == 0)
        {
            throw new SheetException("the rows file is empty");
        }
        if (head.AsSpan(0, read).SequenceEqual("PK\x03\x04"u8[..read]) && read == 4)
        {
            return XlsxSheet.Read(stream, limits);
        }
        return await ReadCsvAsync(stream, limits, ct);
    }

    private static async Task<Sheet> ReadCsvAsync(Stream stream, SheetLimits limits, CancellationToken ct)
    {
        // Throws on bytes that are not UTF-8 rather than reading them as U+FFFD: garbage is refused at its first bad byte.
        using var text = new StreamReader(stream, new UTF8Encoding(false, throwOnInvalidBytes: true), detectEncodingFromByteOrderMarks: true);
        var options = new CsvDataReaderOptions { HasHeaders = true, BufferSize = 0x10000, MaxBufferSize = limits.MaxCellLength * 8 + 0x10000 };
        var rows = new List<SheetRow>();
        try
        {
            await using var csv = await CsvDataReader.CreateAsync(text, options, ct);
            var header = new List<string>(csv.FieldCount);
            for (var i = 0; i < csv.FieldCount; i++)
            {
                header.Add(csv.GetName(i).Trim());
            }
            var cells = header.Count;
            var number = 1;
            while (await csv.ReadAsync(ct))
            {
                number++;
                var count = csv.RowFieldCount;
                if (count == 0 || csv.GetString(0).StartsWith('#'))
                {
                    continue;
                }
                var row = new SheetCell[count];
                for (var i = 0; i < count; i++)
                {
                    row[i] = new SheetCell(Cell(csv.GetString(i), limits, number, i));
                }
                cells += count;
                Check(rows.Count + 1, cells, limits);
                rows.Add(new SheetRow(number, row));
            }
            return new Sheet(header, rows);
        }
        catch (DecoderFallbackException)
        {
            throw new SheetException("the rows file is neither XLSX nor CSV text in UTF-8");
        }
        catch (CsvRecordTooLargeException)
        {
            throw new SheetException($"the rows file has a row longer than this server reads (cells of at most {limits.MaxCellLength} characters)");
        }
        catch (CsvFormatException e)
        {
            throw new SheetException($"the rows file is not valid CSV: {e.Message}");
        }
    }

    /// <summary>Stops the read as soon as a cap is passed.</summary>
    internal static void Check(int rows, int cells, SheetLimits limits)
    {
        if (rows > limits.MaxRows)
        {
            throw new SheetException($"the sheet has more than {limits.MaxRows} rows; a batch holds at most {limits.MaxRows} runs (Runway:Batches:MaxRows)");
        }
        if (cells > limits.MaxCells)
        {
            throw new SheetException($"the sheet has more than {limits.MaxCells} cells (Runway:Batches:MaxCells)");
        }
    }

    internal static string Cell(string text, SheetLimits limits, int row, int column) => text.Length <= limits.MaxCellLength
        ? text
        : throw new SheetException($"cell {Sheet.ColumnName(column)}{row} holds more than {limits.MaxCellLength} characters");
}
