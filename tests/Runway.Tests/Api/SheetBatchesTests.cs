using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Spreadsheet;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Api;

/// <summary>Issue 14's spreadsheets: CSV and XLSX batches (told apart by content), per-cell errors, files by id or name, templates.</summary>
public sealed class SheetBatchesTests : IAsyncLifetime
{
    private readonly string pipelines = BatchPipelines.Create();
    private readonly RunwayApp app;
    private HttpClient client = null!;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public SheetBatchesTests() => app = new RunwayApp(pipelines);

    public async ValueTask InitializeAsync() => client = await app.CreateUserClientAsync("ana");

    public async ValueTask DisposeAsync()
    {
        client.Dispose();
        await app.DisposeAsync();
        Directory.Delete(pipelines, recursive: true);
    }

    [Fact]
    public async Task Csv_WithBomCrlfQuotingAndAComment_MakesOneRunPerRow()
    {
        var csv = "\uFEFFword,times\r\n# what to write,how often\r\n\"a, b\",2\r\n\"say \"\"hi\"\"\",\r\nplain,1\r\n";

        using var response = await PostSheetAsync("echo", Encoding.UTF8.GetBytes(csv), "samples.txt");

        var batch = await CreatedAsync(response);
        var done = await BatchesApiTests.WaitBatchAsync(client, batch.GetProperty("id").GetString()!);
        Assert.Equal("succeeded", done.GetProperty("state").GetString());
        var words = done.GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("params")).ToList();
        Assert.Equal(["a, b", "plain", "say \"hi\""], words.Select(p => p.GetProperty("word").GetString()).Order(StringComparer.Ordinal));
        Assert.Equal(2, words.Single(p => p.GetProperty("word").GetString() == "a, b").GetProperty("times").GetInt32());
        Assert.Equal(1, words.Single(p => p.GetProperty("word").GetString() == "say \"hi\"").GetProperty("times").GetInt32());
    }

    [Fact]
    public async Task Xlsx_MadeByTheLibrary_TakesFormulasAsTheirCachedValues()
    {
        // The formula says 1+1 but the file says 3: only never evaluating it gives 3.
        var xlsx = Xlsx(
            [Text("A1", "word"), Text("B1", "times"), Text("C1", "fail")],
            [Text("A2", "from xlsx"), new Cell { CellReference = "B2", CellFormula = new CellFormula("1+1"), CellValue = new CellValue("3") },
                new Cell { CellReference = "C2", DataType = CellValues.Boolean, CellValue = new CellValue("0") }]);

        using var response = await PostSheetAsync("echo", xlsx, "samples.csv");

        var batch = await CreatedAsync(response);
        var done = await BatchesApiTests.WaitBatchAsync(client, batch.GetProperty("id").GetString()!);
        var run = Assert.Single(done.GetProperty("runs").EnumerateArray());
        Assert.Equal(("from xlsx", 3, false), (run.GetProperty("params").GetProperty("word").GetString(), run.GetProperty("params").GetProperty("times").GetInt32(),
            run.GetProperty("params").GetProperty("fail").GetBoolean()));
    }

    [Fact]
    public async Task BadCells_AreRefusedWhole_EachWithRowColumnAndWhy()
    {
        var csv = "word,times,fail,colour\nok,1,false,\nx,many,maybe,\n,2,true,\n";

        using var response = await PostSheetAsync("echo", Encoding.UTF8.GetBytes(csv), "s.csv");

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var problems = (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("problems").EnumerateArray()
            .Select(p => (p.GetProperty("row").GetInt32(), p.GetProperty("column").GetString(), p.GetProperty("field").GetString())).ToHashSet();
        Assert.Contains((1, "D", "columns"), problems);
        Assert.Contains((3, "B", "params.times"), problems);
        Assert.Contains((3, "C", "params.fail"), problems);
        Assert.Contains((4, "A", "params.word"), problems);
        Assert.Equal(4, problems.Count);
        Assert.Equal(0, (await client.GetFromJsonAsync<JsonElement>("/api/v1/runs", Ct)).GetProperty("runs").GetArrayLength());
    }

    [Fact]
    public async Task FileCells_TakeMyFileIdsAndNames_ButNeverAnotherUsersFile()
    {
        var mine = await UploadAsync(client, "reads.txt", "four words in here\n");
        using var bob = await app.CreateUserClientAsync("bob");
        var bobs = await UploadAsync(bob, "bobs.txt", "secret\n");

        using var refused = await PostSheetAsync("count", Encoding.UTF8.GetBytes($"input\n{bobs}\nbobs.txt\n"), "s.csv");
        using var accepted = await PostSheetAsync("count", Encoding.UTF8.GetBytes($"input\n{mine}\nreads.txt\n"), "s.csv");

        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);
        var problems = (await refused.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("problems").EnumerateArray().ToList();
        Assert.Equal([2, 3], problems.Select(p => p.GetProperty("row").GetInt32()).Order());
        Assert.All(problems, p => Assert.Equal("A", p.GetProperty("column").GetString()));
        var batch = await CreatedAsync(accepted);
        var done = await BatchesApiTests.WaitBatchAsync(client, batch.GetProperty("id").GetString()!);
        Assert.Equal("succeeded", done.GetProperty("state").GetString());
        Assert.All(done.GetProperty("runs").EnumerateArray(), r => Assert.Equal(mine, r.GetProperty("params").GetProperty("input").GetString()));
    }

    [Fact]
    public async Task TwentyMegabytesOfGarbage_IsRefusedFast()
    {
        var garbage = new byte[20 * 1024 * 1024];
        new Random(14).NextBytes(garbage);
        var zipLike = (byte[])garbage.Clone();
        "PK\x03\x04"u8.CopyTo(zipLike);
        var clock = Stopwatch.StartNew();

        using var random = await PostSheetAsync("echo", garbage, "s.csv");
        using var zip = await PostSheetAsync("echo", zipLike, "s.xlsx");

        Assert.Equal(HttpStatusCode.UnprocessableEntity, random.StatusCode);
        Assert.Contains("neither XLSX nor CSV", await random.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, zip.StatusCode);
        Assert.Contains("not a readable XLSX", await zip.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task Templates_HaveHeaderDescriptionsAndDefaults_AndUploadAsTheyAre()
    {
        var csv = await client.GetStringAsync("/api/v1/pipelines/echo/template.csv", Ct);
        var xlsx = await client.GetByteArrayAsync("/api/v1/pipelines/echo/template.xlsx", Ct);

        var lines = csv.Split("\r\n");
        Assert.Equal("word,times,fail", lines[0]);
        Assert.StartsWith("\"# What to write (string, required)\"", lines[1], StringComparison.Ordinal);
        Assert.Equal(",1,false", lines[2]);
        using (var document = SpreadsheetDocument.Open(new MemoryStream(xlsx), false))
        {
            var rows = document.WorkbookPart!.WorksheetParts.Single().Worksheet.Descendants<Row>().ToList();
            Assert.Equal(["word", "times", "fail"], rows[0].Elements<Cell>().Select(c => c.InnerText));
            Assert.Equal(["", "1", "false"], rows[2].Elements<Cell>().Select(c => c.InnerText));
        }
        // Filled in as a user would: the defaults row gets its word.
        using var filled = await PostSheetAsync("echo", Encoding.UTF8.GetBytes(csv.Replace("\r\n,1,false", "\r\nfilled,1,false", StringComparison.Ordinal)), "t.csv");
        var batch = await CreatedAsync(filled);
        Assert.Equal(1, batch.GetProperty("total").GetInt32());
        using var bob = await app.CreateUserClientAsync("bob");
        Assert.Equal(HttpStatusCode.NotFound, (await bob.GetAsync("/api/v1/pipelines/secret/template.csv", Ct)).StatusCode);
    }

    private async Task<HttpResponseMessage> PostSheetAsync(string pipeline, byte[] sheet, string fileName)
    {
        using var form = new MultipartFormDataContent
        {
            { new StringContent(pipeline), "pipeline" },
            { new ByteArrayContent(sheet), "rows", fileName },
        };
        return await client.PostAsync("/api/v1/batches", form, Ct);
    }

    private static async Task<JsonElement> CreatedAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"answered {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static async Task<string> UploadAsync(HttpClient client, string name, string content)
    {
        using var form = new MultipartFormDataContent { { new ByteArrayContent(Encoding.UTF8.GetBytes(content)), "file", name } };
        using var response = await client.PostAsync("/api/v1/files", form, Ct);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.True(response.IsSuccessStatusCode, body.ToString());
        return body.GetProperty("id").GetString()!;
    }

    private static Cell Text(string reference, string text) =>
        new() { CellReference = reference, DataType = CellValues.InlineString, InlineString = new InlineString(new Text(text)) };

    /// <summary>A one-sheet workbook written by the Open XML SDK, as a spreadsheet program would save it.</summary>
    private static byte[] Xlsx(params Cell[][] rows)
    {
        using var memory = new MemoryStream();
        using (var document = SpreadsheetDocument.Create(memory, SpreadsheetDocumentType.Workbook))
        {
            var workbook = document.AddWorkbookPart();
            workbook.Workbook = new Workbook();
            var sheet = workbook.AddNewPart<WorksheetPart>();
            var data = new SheetData();
            for (var i = 0; i < rows.Length; i++)
            {
                data.Append(new Row(rows[i]) { RowIndex = (uint)(i + 1) });
            }
            sheet.Worksheet = new Worksheet(data);
            workbook.Workbook.AppendChild(new DocumentFormat.OpenXml.Spreadsheet.Sheets()).Append(new Sheet { Id = workbook.GetIdOfPart(sheet), SheetId = 1, Name = "samples" });
        }
        return memory.ToArray();
    }
}
