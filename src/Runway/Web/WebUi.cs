using Microsoft.Extensions.FileProviders;

namespace Runway.Web;

/// <summary>
/// The web UI: Razor Pages under Web/Pages over the same services the API calls, its static files, and
/// the headers every response carries.
/// </summary>
public static class WebUi
{
    public static IServiceCollection AddWebUi(this IServiceCollection services)
    {
        services.AddRazorPages(o =>
        {
            o.RootDirectory = "/Web/Pages";
            // Admins only; anyone else signed in gets the rendered 403 page (UseWebStatusPages).
            o.Conventions.AuthorizeFolder("/Admin", Auth.Scopes.Admin);
        });
        services.AddAntiforgery(o =>
        {
            o.Cookie.Name = "runway_antiforgery";
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.FormFieldName = "__csrf";
        });
        return services;
    }

    /// <summary>Before routing: the security headers, then the static files (anonymous: the sign-in page needs its style).</summary>
    public static WebApplication UseWebUi(this WebApplication app)
    {
        app.UseMiddleware<SecurityHeaders>();
        // The files live in Web/wwwroot and are copied beside runway.dll (Runway.csproj), whatever the content root.
        var root = Path.Combine(AppContext.BaseDirectory, "wwwroot");
        if (Directory.Exists(root))
        {
            app.UseStaticFiles(new StaticFileOptions
            {
                FileProvider = new PhysicalFileProvider(root),
                OnPrepareResponse = c => c.Context.Response.Headers.CacheControl = "public, max-age=3600",
            });
        }
        return app;
    }

    /// <summary>
    /// An error answered without a body becomes a page for people (Pages/Error) and problem+json for programs:
    /// the API's contract is unchanged.
    /// </summary>
    public static WebApplication UseWebStatusPages(this WebApplication app)
    {
        app.UseWhen(http => Auth.SignInCookie.IsPage(http.Request), web => web.UseStatusCodePagesWithReExecute("/error/{0}"));
        app.UseWhen(http => !Auth.SignInCookie.IsPage(http.Request), api => api.UseStatusCodePages());
        return app;
    }

    public static WebApplication MapWebUi(this WebApplication app)
    {
        app.MapRazorPages();
        return app;
    }
}
