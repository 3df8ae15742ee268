using System.Security.Claims;
using Runway.Api;
using Runway.Compat.Caesar;
using Runway.Compat.Centro;
using Runway.Compat.Ga4gh.Wes;
using Runway.Compat.Orchestration;
using Runway.Runs;

namespace Runway.Compat;

/// <summary>The operator's switches for the old systems' APIs (Runway:Compat), each off by default.</summary>
public sealed class CompatOptions
{
    public const string Section = "Runway:Compat";

    public bool Caesar { get; set; }
    public bool Centro { get; set; }
    public bool Orchestration { get; set; }

    /// <summary>Centro pipeline name → the Runway pipeline and parameters its project JSON maps onto.</summary>
    public Dictionary<string, CentroMapping> CentroPipelines { get; set; } = [];
}

/// <summary>
/// The protocol views over Runway's pipelines, runs, files and accounts (issue 17): GA4GH WES always; the old
/// systems' APIs (caesar-rest, Jetstream Centro, LIneA Orchestration) each only when the operator turns it on.
/// Each is a mapping onto the API's own services and holds no rule of its own: validation, ownership and state
/// stay in Submissions, RunQuery, RunCancel, Uploads and OwnedFiles.
/// </summary>
public static class CompatViews
{
    public static IServiceCollection AddCompatViews(this IServiceCollection services)
    {
        // First in line: the default writer would take every request, WES's included.
        services.Insert(0, ServiceDescriptor.Singleton<IProblemDetailsWriter, WesErrorWriter>());
        services.AddSingleton<ProcessIds>();
        return services;
    }

    /// <summary>The run when the caller may see it: the API's rule, so another user's run does not exist for them (404).</summary>
    public static async Task<Run?> VisibleRunAsync(IRunStore store, string id, ClaimsPrincipal user, CancellationToken cancellationToken) =>
        await store.GetAsync(id, cancellationToken) is { } run && Caller.CanSee(user, run.Owner) ? run : null;

    public static IEndpointRouteBuilder MapCompatViews(this IEndpointRouteBuilder app)
    {
        var options = app.ServiceProvider.GetRequiredService<IConfiguration>().GetSection(CompatOptions.Section).Get<CompatOptions>() ?? new CompatOptions();
        app.MapWes();
        if (options.Caesar)
        {
            app.MapCaesar();
        }
        if (options.Centro)
        {
            app.MapCentro(options.CentroPipelines);
        }
        if (options.Orchestration)
        {
            app.MapOrchestration();
        }
        return app;
    }
}
