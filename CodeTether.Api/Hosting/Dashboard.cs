using CodeTether.Api.Auth;
using CodeTether.Api.Codebases;
using CodeTether.Api.Realtime;
using CodeTether.Api.Sessions;
using CodeTether.Api.Tasks;
using CodeTether.Api.Workers;
using CodeTether.Web;
using CodeTether.Web.Services;
using MudBlazor.Services;

namespace CodeTether.Api.Hosting;

/// <summary>The dashboard (CodeTether.Web) served at <c>/</c> by this host, its ports, and the live hub.</summary>
public static class Dashboard
{
    public static WebApplicationBuilder AddCodeTetherDashboard(this WebApplicationBuilder builder)
    {
        builder.Services.AddRazorComponents().AddInteractiveServerComponents();
        builder.Services.AddCascadingAuthenticationState();
        builder.Services.AddMudServices();
        builder.Services.AddSignalR();
        builder.Services.AddScoped<DashboardUser>();
        builder.Services.AddScoped<ITaskBoard, TaskBoard>();
        builder.Services.AddScoped<ICodebaseBoard, CodebaseBoard>();
        builder.Services.AddScoped<IWorkerBoard, WorkerBoard>();
        builder.Services.AddScoped<ISessionBoard, SessionBoard>();
        builder.Services.AddScoped<ILiveFeed, LiveFeed>();
        builder.Services.AddHostedService<LiveHubRelay>();
        return builder;
    }

    public static WebApplication MapCodeTetherDashboard(this WebApplication app)
    {
        app.MapSignIn();
        app.MapHub<LiveHub>("/hubs/live").RequirePermission(Permission.TasksRead);

        // Assets and pages are for signed-in people only; the sign-in pages themselves are plain HTML.
        var manifest = Path.Combine(AppContext.BaseDirectory, "codetether.staticwebassets.endpoints.json");
        // Mapped through a group so that every endpoint it adds (also the build-output fallback {**path:file}) carries the permission.
        var assets = app.MapGroup("").RequirePermission(Permission.Dashboard);
        if (File.Exists(manifest)) assets.MapStaticAssets(manifest); else assets.MapStaticAssets();
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode().RequirePermission(Permission.Dashboard);
        return app;
    }
}
