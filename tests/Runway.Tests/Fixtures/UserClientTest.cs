namespace Runway.Tests.Fixtures;

/// <summary>An API test class with its own app and a signed-in user's client, made anew for each test.</summary>
public abstract class UserClientTest : IAsyncLifetime
{
    protected RunwayApp App { get; } = new();

    protected HttpClient Client { get; private set; } = null!;

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => Client = await App.CreateUserClientAsync();

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}
