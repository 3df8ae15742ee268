using Microsoft.EntityFrameworkCore;
using Runway.Files;
using Runway.Runs;

namespace Runway.Compat.Caesar;

/// <summary>caesar-rest's accounting figures (its accounter.py) over a set of runs and files: sizes in MB, runtimes in seconds.</summary>
public static class CaesarStats
{
    public static async Task<Dictionary<string, object?>> OfAsync(IQueryable<Run> runs, IQueryable<StoredFile> files, TimeProvider clock, CancellationToken cancellationToken)
    {
        var byState = await runs.GroupBy(r => r.State).Select(g => new { State = g.Key, Count = g.Count() }).ToListAsync(cancellationToken);
        int Count(params RunState[] states) => byState.Where(s => states.Contains(s.State)).Sum(s => s.Count);
        var wall = await runs.Where(r => r.WallSeconds != null).Select(r => new { r.State, r.WallSeconds }).ToListAsync(cancellationToken);
        var runBytes = await runs.Where(r => r.FilesBytes != null).Select(r => r.FilesBytes!.Value).ToListAsync(cancellationToken);
        var fileBytes = await files.Select(f => f.Size).ToListAsync(cancellationToken);
        const double MB = 1024.0 * 1024.0;
        return new Dictionary<string, object?>
        {
            ["timestamp"] = CaesarJobs.Date(clock.GetUtcNow()),
            ["datasize"] = fileBytes.Sum() / MB,
            ["jobsize"] = runBytes.Sum() / MB,
            ["job_runtime"] = wall.Sum(w => w.WallSeconds!.Value),
            ["job_completed_runtime"] = wall.Where(w => w.State == RunState.Succeeded).Sum(w => w.WallSeconds!.Value),
            ["njobs"] = byState.Sum(s => s.Count),
            ["njobs_completed"] = Count(RunState.Succeeded),
            ["njobs_failed"] = Count(RunState.Failed, RunState.TimedOut),
            ["njobs_aborted"] = Count(RunState.SystemError, RunState.Canceled),
            ["njobs_pending"] = Count(RunState.Queued),
            ["njobs_running"] = Count(RunState.Running),
            ["njobs_unknown"] = 0,
        };
    }
}
