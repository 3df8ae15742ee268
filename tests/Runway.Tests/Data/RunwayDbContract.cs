using Microsoft.EntityFrameworkCore;
using Runway.Files;
using Runway.Runs;

namespace Runway.Tests.Data;

/// <summary>The queries the API and pages run on <c>RunwayDb</c> directly translate on both providers.</summary>
public abstract class RunwayDbContract(Func<TestDatabase> open) : StoreTest(open)
{
    [Fact]
    public async Task Files_RoundTripEveryField()
    {
        var file = new StoredFile
        {
            Id = Ids.NewFileId(Clock),
            Name = "words.txt",
            Size = 5_000_000_000,
            Sha256 = new string('a', 64),
            Owner = "ana",
            CreatedAt = Clock.GetUtcNow(),
        };
        await using (var db = await OpenDbAsync())
        {
            db.Files.Add(file);
            await db.SaveChangesAsync(Ct);
        }

        await using var read = await OpenDbAsync();
        Assert.Equivalent(file, await read.Files.AsNoTracking().SingleAsync(f => f.Owner == "ana", Ct), strict: true);
    }

    [Fact]
    public async Task RunList_FiltersAndPagesNewestFirst()
    {
        var runs = new List<Run>();
        for (var i = 0; i < 6; i++)
        {
            runs.Add(await AddAsync(owner: i % 2 == 0 ? "ana" : "bo"));
        }
        await Store.ClaimAsync("n1", 1, Ct);
        var anas = runs.Where(r => r.Owner == "ana").Select(r => r.Id).Reverse().ToList();
        var since = runs[2].SubmittedAt;

        await using var db = await OpenDbAsync();
        var firstPage = await db.Runs.AsNoTracking().Where(r => r.Owner == "ana")
            .OrderByDescending(r => r.Id).Take(2).Select(r => r.Id).ToListAsync(Ct);
        var cursor = firstPage[^1];
        var secondPage = await db.Runs.AsNoTracking().Where(r => r.Owner == "ana" && r.Id.CompareTo(cursor) < 0)
            .OrderByDescending(r => r.Id).Take(2).Select(r => r.Id).ToListAsync(Ct);
        var queued = await db.Runs.CountAsync(r => r.State == RunState.Queued, Ct);
        var recent = await db.Runs.Where(r => r.SubmittedAt >= since).OrderBy(r => r.SubmittedAt).Select(r => r.Id).ToListAsync(Ct);

        Assert.Equal(anas, firstPage.Concat(secondPage));
        Assert.Equal(5, queued);
        Assert.Equal(runs.Skip(2).Select(r => r.Id), recent);
    }
}
