using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Api;

/// <summary>The queue is fair: only admins and the operator's priority group jump it.</summary>
public sealed class PriorityTests : IAsyncLifetime
{
    private readonly RunwayApp app = new(settings: new Dictionary<string, string> { ["Runway:PriorityGroup"] = "urgent" });
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => app.DisposeAsync();

    [Fact]
    public async Task Submit_Answers403Problem_WhenAUserRaisesThePriority()
    {
        using var user = await app.CreateUserClientAsync("ana");

        using var response = await user.PostAsJsonAsync("/api/v1/runs", new { pipeline = "hello", priority = 1 }, RunwayApp.Json, Ct);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Contains("priority", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var list = await user.GetFromJsonAsync<JsonElement>("/api/v1/runs", Ct);
        Assert.Empty(list.GetProperty("runs").EnumerateArray());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public async Task Submit_AcceptsTheDefaultOrLowerPriority_FromAnyone(int priority)
    {
        using var user = await app.CreateUserClientAsync("ana");

        var run = await RunwayApp.SubmitAsync(user, new { pipeline = "hello", priority });

        Assert.Equal(priority, run.GetProperty("priority").GetInt32());
    }

    [Fact]
    public async Task Submit_AcceptsAHigherPriority_FromAnAdmin()
    {
        using var admin = app.CreateAdminClient();

        var run = await RunwayApp.SubmitAsync(admin, new { pipeline = "hello", priority = 10 });

        Assert.Equal(10, run.GetProperty("priority").GetInt32());
    }

    [Fact]
    public async Task Submit_AcceptsAHigherPriority_FromTheConfiguredGroup()
    {
        await app.EnsureUserAsync("bo", groups: ["urgent"]);
        var token = await app.CreateTokenAsync("bo");
        using var member = app.CreateClient();
        member.DefaultRequestHeaders.Authorization = RunwayApp.Bearer(token);

        var run = await RunwayApp.SubmitAsync(member, new { pipeline = "hello", priority = 10 });

        Assert.Equal(10, run.GetProperty("priority").GetInt32());
    }
}
