using Runway.Auth;
using Runway.Tests.Data;

namespace Runway.Tests.Auth;

public sealed class LoginThrottleTests
{
    private readonly ManualClock clock = new();

    private LoginThrottle Throttle(int perPair = 3, int perAddress = 100, int perUser = 100, int tracked = 100_000) => new(new AuthOptions
    {
        FailedLoginsPerUserAndAddress = perPair,
        FailedLoginsPerAddress = perAddress,
        FailedLoginsPerUser = perUser,
        FailedLoginWindow = TimeSpan.FromMinutes(5),
        FailedLoginTrackedKeys = tracked,
    }, clock);

    private static void Fail(LoginThrottle throttle, string? name, string address, int times)
    {
        for (var i = 0; i < times; i++)
        {
            throttle.RecordFailure(name, address);
        }
    }

    [Fact]
    public void Failures_BlockTheUserFromThatAddressOnly_BelowTheUserCeiling()
    {
        var throttle = Throttle();
        Fail(throttle, "ana", "10.0.0.1", 3);

        Assert.NotNull(throttle.RetryAfter("ana", "10.0.0.1"));
        Assert.Null(throttle.RetryAfter("ana", "10.0.0.2"));
        Assert.Null(throttle.RetryAfter("bob", "10.0.0.1"));
    }

    [Fact]
    public void TheUserCeiling_BlocksTheUserFromEveryAddress()
    {
        var throttle = Throttle(perUser: 5);
        for (var i = 0; i < 5; i++)
        {
            throttle.RecordFailure("ana", $"10.0.0.{i}");
        }

        Assert.NotNull(throttle.RetryAfter("ana", "10.9.9.9"));
        Assert.Null(throttle.RetryAfter("bob", "10.9.9.9"));
    }

    [Fact]
    public void TheAddressCeiling_BlocksEveryNameFromThatAddress()
    {
        var throttle = Throttle(perAddress: 4);
        for (var i = 0; i < 4; i++)
        {
            throttle.RecordFailure($"made-up-{i}", "10.0.0.1");
        }

        Assert.NotNull(throttle.RetryAfter("ana", "10.0.0.1"));
        Assert.Null(throttle.RetryAfter("ana", "10.0.0.2"));
    }

    [Fact]
    public void RetryAfter_IsTheTimeLeftInTheWindow_AndTheWindowFreesIt()
    {
        var throttle = Throttle();
        Fail(throttle, "ana", "10.0.0.1", 3);

        clock.Advance(TimeSpan.FromSeconds(120.5));
        var wait = throttle.RetryAfter("ana", "10.0.0.1");
        clock.Advance(TimeSpan.FromSeconds(179.5));

        Assert.Equal(TimeSpan.FromSeconds(179.5), wait);
        Assert.Equal(180, LoginThrottle.Seconds(wait!.Value));
        Assert.Null(throttle.RetryAfter("ana", "10.0.0.1"));
    }

    [Fact]
    public void ARightPassword_ClearsOnlyItsOwnPair()
    {
        var throttle = Throttle(perPair: 3, perUser: 4);
        Fail(throttle, "ana", "10.0.0.1", 2);
        Fail(throttle, "ana", "10.0.0.2", 1);

        throttle.RecordSuccess("ana", "10.0.0.1");
        throttle.RecordFailure("ana", "10.0.0.1");

        Assert.NotNull(throttle.RetryAfter("ana", "10.0.0.3"));
    }

    [Fact]
    public void Memory_StaysBounded_UnderAFloodOfMadeUpNamesAndAddresses_AndBlocksSurvive()
    {
        var throttle = Throttle(tracked: 1000);
        Fail(throttle, "ana", "10.0.0.1", 3);

        for (var i = 0; i < 20_000; i++)
        {
            throttle.RecordFailure($"made-up-{i}", $"10.{i / 65536 % 256}.{i / 256 % 256}.{i % 256}");
        }

        Assert.InRange(throttle.TrackedKeys, 1, 1000);
        Assert.NotNull(throttle.RetryAfter("ana", "10.0.0.1"));
    }
}
