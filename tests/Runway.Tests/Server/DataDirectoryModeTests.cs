using System.Net.Http.Headers;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Server;

/// <summary>Whatever the isolation of runs, the data directory is the server's alone: 0700, its files 0600.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class DataDirectoryModeTests
{
    private const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode PrivateFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode Open = (UnixFileMode)0b111_101_101;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Start_MakesAnOpenDataDirectoryPrivate()
    {
        await using var app = new RunwayApp();
        // As an older Runway left it: 755 and 644.
        var files = Directory.CreateDirectory(Path.Combine(app.DataDirectory, "files")).FullName;
        var upload = Path.Combine(files, "f_01JD0000000000000000000000");
        File.WriteAllText(upload, "someone's data");
        File.SetUnixFileMode(upload, (UnixFileMode)0b110_100_100);
        File.SetUnixFileMode(files, Open);
        File.SetUnixFileMode(app.DataDirectory, Open);

        using var client = app.CreateClient(); // starts the server

        Assert.Equal(Private, File.GetUnixFileMode(app.DataDirectory));
        Assert.Equal(Private, File.GetUnixFileMode(files));
        Assert.Equal(PrivateFile, File.GetUnixFileMode(upload));
    }

    [Fact]
    public async Task Serve_CreatesEveryFileOfItsOwnPrivate()
    {
        var data = Path.Combine(Directory.CreateTempSubdirectory("runway-modes-").FullName, "data");
        try
        {
            await using var server = new RunwayProcess(data, Repository.PipelinesDirectory);
            await server.StartAsync();
            using var http = server.CreateClient();
            using var content = new MultipartFormDataContent();
            var part = new ByteArrayContent("private"u8.ToArray());
            part.Headers.ContentType = new MediaTypeHeaderValue("text/plain");
            content.Add(part, "file", "a.txt");
            using var response = await http.PostAsync("/api/v1/files", content, Ct);
            Assert.True(response.IsSuccessStatusCode);

            Assert.Equal(Private, File.GetUnixFileMode(data));
            var entries = Directory.EnumerateFileSystemEntries(data, "*", new EnumerationOptions { RecurseSubdirectories = true })
                .Where(p => !p.StartsWith(Path.Combine(data, "runs") + "/", StringComparison.Ordinal))
                .ToList();
            Assert.Contains(Path.Combine(data, "runway.db"), entries);
            // Files are the owner's alone: 0600, or 0400 for a content-addressed blob, which is never rewritten once placed.
            Assert.All(entries, e =>
            {
                var mode = File.GetUnixFileMode(e);
                if (Directory.Exists(e))
                {
                    Assert.Equal(Private, mode);
                }
                else
                {
                    Assert.Contains(mode, (UnixFileMode[])[PrivateFile, UnixFileMode.UserRead]);
                }
            });
            Assert.Contains(entries, e => e.Contains("/blobs/", StringComparison.Ordinal) && File.GetUnixFileMode(e) == UnixFileMode.UserRead);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(data)!, recursive: true);
        }
    }
}
