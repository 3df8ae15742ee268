using System.Net;
using Runway.Notifications;

namespace Runway.Tests.Notifications;

public sealed class WebhookAddressesTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.8.9.10")]
    [InlineData("0.0.0.0")]
    [InlineData("10.1.2.3")]
    [InlineData("172.16.0.1")]
    [InlineData("172.31.255.255")]
    [InlineData("192.168.1.1")]
    [InlineData("169.254.169.254")]
    [InlineData("100.64.0.1")]
    [InlineData("100.127.255.254")]
    [InlineData("224.0.0.1")]
    [InlineData("255.255.255.255")]
    [InlineData("198.18.0.1")]
    [InlineData("::")]
    [InlineData("::1")]
    [InlineData("::ffff:127.0.0.1")]
    [InlineData("::ffff:10.0.0.1")]
    [InlineData("::ffff:169.254.169.254")]
    [InlineData("64:ff9b::a00:1")]
    [InlineData("fc00::1")]
    [InlineData("fd12:3456::1")]
    [InlineData("fe80::1")]
    [InlineData("fec0::1")]
    [InlineData("ff02::1")]
    [InlineData("2001:db8::1")]
    [InlineData("2002:7f00:1::1")]
    [InlineData("::127.0.0.1")]
    public void IsPublic_IsFalse_ForInternalAddresses(string address) =>
        Assert.False(WebhookAddresses.IsPublic(IPAddress.Parse(address)), address);

    [Theory]
    [InlineData("93.184.215.14")]
    [InlineData("8.8.8.8")]
    [InlineData("172.32.0.1")]
    [InlineData("100.128.0.1")]
    [InlineData("2606:4700::1111")]
    [InlineData("::ffff:8.8.8.8")]
    public void IsPublic_IsTrue_ForPublicAddresses(string address) =>
        Assert.True(WebhookAddresses.IsPublic(IPAddress.Parse(address)), address);

    [Fact]
    public void Allows_WhatTheOperatorListed_AndNothingElseThatIsInternal()
    {
        var allowed = new WebhookAddresses(["127.0.0.1", "10.20.0.0/16", "hooks.internal"]);

        Assert.True(allowed.Allows("x", IPAddress.Parse("127.0.0.1")));
        Assert.True(allowed.Allows("x", IPAddress.Parse("::ffff:127.0.0.1")));
        Assert.True(allowed.Allows("x", IPAddress.Parse("10.20.3.4")));
        Assert.True(allowed.Allows("hooks.internal", IPAddress.Parse("192.168.0.9")));
        Assert.False(allowed.Allows("x", IPAddress.Parse("127.0.0.2")));
        Assert.False(allowed.Allows("x", IPAddress.Parse("10.21.0.1")));
        Assert.False(allowed.Allows("other.internal", IPAddress.Parse("192.168.0.9")));
        Assert.True(new WebhookAddresses(["*"]).Allows("x", IPAddress.Parse("::1")));
    }

    [Theory]
    [InlineData("http://127.0.0.1:9/hook", "not a public address")]
    [InlineData("https://[::1]/hook", "not a public address")]
    [InlineData("https://[::ffff:192.168.0.1]/hook", "not a public address")]
    [InlineData("https://169.254.169.254/latest/meta-data", "not a public address")]
    [InlineData("https://localhost/hook", "not a public address")]
    [InlineData("ftp://example.org/hook", "absolute http or https URL")]
    [InlineData("/relative", "absolute http or https URL")]
    [InlineData("https://user:secret@example.org/hook", "user name or password")]
    public async Task Check_RefusesWithAReason(string url, string reason)
    {
        var problem = await new WebhookAddresses([]).CheckAsync(url, Ct);

        Assert.NotNull(problem);
        Assert.Contains(reason, problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_Accepts_APublicAddressAndWhatIsAllowed()
    {
        Assert.Null(await new WebhookAddresses([]).CheckAsync("https://93.184.215.14/hook", Ct));
        Assert.Null(await new WebhookAddresses(["127.0.0.1"]).CheckAsync("http://127.0.0.1:8081/hook", Ct));
        Assert.Null(await new WebhookAddresses(["localhost"]).CheckAsync("http://localhost:8081/hook", Ct));
    }
}
