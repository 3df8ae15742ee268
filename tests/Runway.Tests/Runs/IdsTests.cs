using Runway.Runs;

namespace Runway.Tests.Runs;

public sealed class IdsTests
{
    [Fact]
    public void Ids_MadeInOneMillisecond_SortInTheOrderTheyWereMade()
    {
        var at = new DateTimeOffset(2026, 12, 4, 22, 0, 0, TimeSpan.Zero);

        var ids = Enumerable.Range(0, 1000).Select(_ => Ids.NewUlid(at)).ToList();

        Assert.Equal(ids, ids.Order(StringComparer.Ordinal));
        Assert.Equal(ids.Count, ids.Distinct(StringComparer.Ordinal).Count());
        Assert.All(ids, id => Assert.StartsWith(ids[0][..10], id, StringComparison.Ordinal)); // the same 48-bit time
    }

    [Fact]
    public void Ids_OfALaterMillisecond_SortAfter_AndAreRunIds()
    {
        var at = new DateTimeOffset(2026, 12, 4, 22, 0, 0, TimeSpan.Zero);

        var first = Ids.NewUlid(at);
        var later = Ids.NewUlid(at.AddMilliseconds(1));

        Assert.True(string.CompareOrdinal(first, later) < 0, $"{first} sorts after {later}");
        Assert.True(Ids.IsRunId(first) && Ids.IsRunId(later));
        Assert.True(Ids.IsFileId("f_" + later));
    }
}
