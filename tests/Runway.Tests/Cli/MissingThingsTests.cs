using System.Net;
using Runway.Cli;
using Runway.Tests.Fakes;

namespace Runway.Tests.Cli;

/// <summary>What the CLI says when what it was pointed at is not there.</summary>
public sealed class MissingThingsTests
{
    private const string Id = "01JD000000000000000000RUN1";

    [Theory]
    [InlineData("users", "list")]
    [InlineData("users", "add", "ana")]
    [InlineData("clients", "list")]
    public async Task LocalVerbs_Refuse_WhereThereIsNoDataDirectory(params string[] verb)
    {
        using var parent = new TempDirectory();
        var missing = Path.Combine(parent.Path, "runway-data");

        var run = await CliRun.RunAsync(null, [.. verb, "--data-dir", missing]);

        Assert.Equal(ExitCodes.Error, run.ExitCode);
        Assert.Contains($"no Runway database at {Path.Combine(missing, "runway.db")}", run.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(missing));
    }

    [Fact]
    public async Task Wait_ExitsWithItsOwnCode_WhenTheRunIsUnknown()
    {
        var server = new FakeServer().On(HttpMethod.Get, $"/api/v1/runs/{Id}", _ => FakeServer.Problem(HttpStatusCode.NotFound,
            $$"""{"title":"Not found","status":404,"detail":"no run with id '{{Id}}'"}"""));

        var run = await CliRun.RunAsync(server, "wait", Id);

        Assert.Equal(ExitCodes.NoSuchRun, run.ExitCode);
        Assert.NotEqual(ExitCodes.Failed, run.ExitCode);
        Assert.Contains($"no run with id '{Id}'", run.Error, StringComparison.Ordinal);
    }
}
