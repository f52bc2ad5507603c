using CodeTether.Api.A2A;
using CodeTether.Api.Auth;
using CodeTether.Api.Codebases;
using CodeTether.Api.Persistence;
using CodeTether.Api.Realtime;
using CodeTether.Api.Sessions;
using CodeTether.Api.Tasks;
using CodeTether.Api.Workers;
using CodeTether.Shared.Contracts;
using CodeTether.Shared.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Scalar.AspNetCore;

namespace CodeTether.Api.Hosting;

/// <summary>Builds the whole platform: <see cref="AddCodeTether"/> lists every feature, <see cref="MapCodeTether"/> every route group.</summary>
public static class CodeTetherHost
{
    public static WebApplication Build(string[] args, IReadOnlyDictionary<string, string?>? overrides = null)
    {
        // appsettings.json ships next to the binary: read it wherever the command is started from.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args, ContentRootPath = AppContext.BaseDirectory,
            // Static web assets and the dashboard are found by this name, also when a test process hosts us.
            ApplicationName = typeof(CodeTetherHost).Assembly.GetName().Name,
        });
        if (overrides is not null) builder.Configuration.AddInMemoryCollection(overrides);
        // Dashboard assets (ours, MudBlazor's, blazor.web.js): from the build's static web assets manifest when it is
        // there (dotnet run, tests), from wwwroot when published. Without this, non-Development builds serve empty files.
        builder.WebHost.UseStaticWebAssets();
        builder.Configuration.AddInMemoryCollection(EnvironmentCompatibility.Map(builder.Configuration));
        if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["http_ports"]) &&
            string.IsNullOrEmpty(builder.Configuration["https_ports"]))
            builder.WebHost.UseUrls($"http://127.0.0.1:{HostingOptions.DefaultPort}");
        builder.AddCodeTether();
        var app = builder.Build();
        var urls = (app.Configuration["urls"] ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries)
            .Concat((app.Configuration["http_ports"] ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries).Select(p => $"http://*:{p}"));
        BindingGuard.Check(urls, app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<AuthOptions>>().Value.IsLocalMode);
        app.MapCodeTether();
        return app;
    }

    public static WebApplicationBuilder AddCodeTether(this WebApplicationBuilder builder)
    {
        var hosting = builder.Configuration.GetSection(HostingOptions.Section).Get<HostingOptions>() ?? new HostingOptions();
        Directory.CreateDirectory(hosting.DataDir);
        builder.Services.AddOptions<HostingOptions>().BindConfiguration(HostingOptions.Section);
        // Kestrel's own default is ~28.6 MB (never null), so `??=` would not apply: set 4 MB unless configured explicitly.
        if (builder.Configuration["Kestrel:Limits:MaxRequestBodySize"] is null)
            builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = 4 * 1024 * 1024);

        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddProblemDetails();
        builder.Services.ConfigureHttpJsonOptions(o => CodeTetherJson.Configure(o.SerializerOptions));
        builder.Services.AddOpenApi();

        builder.AddCodeTetherPersistence(hosting);
        builder.AddCodeTetherAuth(hosting);
        builder.Services.AddSingleton<IEventBus, InProcessEventBus>();

        builder.Services.AddOptions<TaskOptions>().BindConfiguration(TaskOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<WorkerOptions>().BindConfiguration(WorkerOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddScoped<TaskLifecycle>();
        builder.Services.AddScoped<TaskLeases>();
        builder.Services.AddScoped<WorkerRegistry>();
        builder.Services.AddSingleton<TaskEventStream>();
        builder.Services.AddSingleton<WorkerConnections>();
        builder.Services.AddSingleton<Dispatcher>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<Dispatcher>());
        builder.Services.AddHostedService<LeaseReaper>();
        builder.AddA2A();
        builder.AddCodeTetherDashboard();
        return builder;
    }

    public static WebApplication MapCodeTether(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseAuthentication();
        app.UseTenantFromPrincipal();
        app.UseAuthorization();
        app.UseAntiforgery();

        foreach (var path in new[] { "/health", "/v1/health", "/health/live", "/health/ready" })
            app.MapGet(path, Health).AllowAnonymous().WithTags("Health").WithName("Health" + path.Replace("/", "_"));
        app.MapOpenApi().AllowAnonymous();
        app.MapScalarApiReference("/docs", o => o.WithTitle("CodeTether API").WithOpenApiRoutePattern("/openapi/{documentName}.json")).AllowAnonymous();

        app.MapCodebases();
        app.MapTasks();
        app.MapWorkers();
        app.MapSessions();
        app.MapA2A();
        app.MapCodeTetherDashboard();
        return app;
    }

    static Ok<HealthDto> Health(DatabaseInfo db) =>
        TypedResults.Ok(new HealthDto("healthy", typeof(CodeTetherHost).Assembly.GetName().Version?.ToString() ?? "0", db.Provider.ToString().ToLowerInvariant(), "in-process"));
}
