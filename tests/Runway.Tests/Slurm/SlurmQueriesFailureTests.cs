using Runway.Execution.Slurm;
using Runway.Tests.Fakes;

namespace Runway.Tests.Slurm;

/// <summary>
/// A Slurm command that fails is not an answer: the caller must retry, not conclude the job is gone. Driven by
/// stand-in commands in <see cref="SlurmOptions.CommandsDirectory"/>, as a cluster whose accounting daemon is down
/// answers (squeue works, sacct fails); the real cluster's answers are in the other Slurm tests.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class SlurmQueriesFailureTests : IDisposable
{
    private readonly TempDirectory bin = new();

    public void Dispose() => bin.Dispose();

    [Fact]
    public async Task FindByNames_Throws_WhenSacctFails_InsteadOfAnsweringNoSuchJob()
    {
        Command("squeue", "exit 0");
        Command("sacct", "echo 'sacct: error: slurm_persist_conn_open_without_init: failed to open persistent connection to host:localhost:6819: Connection refused' >&2; exit 1");
        var queries = new SlurmQueries(new SlurmCommands(new SlurmOptions { CommandsDirectory = bin.Path, CommandTimeout = TimeSpan.FromSeconds(10) }));

        var failed = await Assert.ThrowsAsync<SlurmUnavailableException>(() => queries.FindByNamesAsync(["runway-01JD0000000000000000000001"], TestContext.Current.CancellationToken));

        Assert.Contains("sacct", failed.Message, StringComparison.Ordinal);
        // Before submitting again after a failed sbatch, squeue's answer is enough: accounting down holds nothing back.
        Assert.Null(await queries.FindByNameAsync("runway-01JD0000000000000000000001", TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task FindByNames_AnswersFromSqueueAlone_WhereTheClusterKeepsNoAccounting()
    {
        Command("squeue", "exit 0");
        Command("sacct", "echo 'Slurm accounting storage is disabled' >&2; exit 1");
        var queries = new SlurmQueries(new SlurmCommands(new SlurmOptions { CommandsDirectory = bin.Path, CommandTimeout = TimeSpan.FromSeconds(10) }));

        Assert.Empty(await queries.FindByNamesAsync(["runway-01JD0000000000000000000001"], TestContext.Current.CancellationToken));
    }

    private void Command(string name, string body)
    {
        var path = bin.Combine(name);
        File.WriteAllText(path, $"#!/bin/sh\n{body}\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }
}
