using Runway.Compat.Ga4gh.Wes;

namespace Runway.Compat;

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
        return services;
    }

    public static IEndpointRouteBuilder MapCompatViews(this IEndpointRouteBuilder app)
    {
        app.MapWes();
        return app;
    }
}
