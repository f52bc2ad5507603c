using System.CommandLine;
using CodeTether.Api.Auth;
using CodeTether.Api.Persistence;
using Microsoft.Extensions.Options;

namespace CodeTether.Api.Hosting;

/// <summary>
/// <c>codetether</c>: <c>serve</c> (the default), <c>migrate</c>, <c>worker</c> and <c>task</c>.
/// Options that are not ours (e.g. <c>--urls</c>, <c>--Tasks:LeaseDuration=00:00:10</c>) go to ASP.NET configuration.
/// </summary>
public static class Cli
{
    /// <summary>
    /// The hosts (server and worker) handle SIGTERM themselves and drain gracefully, so System.CommandLine must not
    /// kill the process on its own schedule.
    /// </summary>
    public static Task<int> RunAsync(string[] args) =>
        Build().Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });

    public static RootCommand Build()
    {
        var root = new RootCommand("CodeTether: run AI coding agents as a production system.");
        var serve = ServeCommand();
        root.TreatUnmatchedTokensAsErrors = false;
        foreach (var o in serve.Options) root.Options.Add(o);
        root.Action = serve.Action;
        root.Subcommands.Add(serve);
        root.Subcommands.Add(MigrateCommand());
        root.Subcommands.Add(CodeTether.Worker.WorkerCommand.Create());
        root.Subcommands.Add(TaskCommands.Create());
        return root;
    }

    static Command ServeCommand()
    {
        var port = new Option<int?>("--port", "-p") { Description = $"Port to listen on (default {HostingOptions.DefaultPort})." };
        var host = new Option<string?>("--host") { Description = "Address to bind with --port (default 127.0.0.1)." };
        var serve = new Command("serve", "Run the server (API, worker protocol, live streams).") { port, host };
        serve.TreatUnmatchedTokensAsErrors = false;
        serve.SetAction(async (parse, ct) =>
        {
            if (parse.UnmatchedTokens.FirstOrDefault() is { } first && !first.StartsWith('-'))
            {
                await Console.Error.WriteLineAsync($"codetether: unknown command '{first}'. Try 'codetether --help'.");
                return 1;
            }
            var overrides = new Dictionary<string, string?>();
            if (parse.GetValue(port) is { } p)
                overrides["urls"] = $"http://{parse.GetValue(host) ?? "127.0.0.1"}:{p}";
            else if (parse.GetValue(host) is { } h)
                overrides["urls"] = $"http://{h}:{HostingOptions.DefaultPort}";
            try
            {
                var app = CodeTetherHost.Build([.. parse.UnmatchedTokens], overrides);
                await app.StartAsync(ct);
                PrintWelcome(app);
                await app.WaitForShutdownAsync(ct);
                return 0;
            }
            catch (StartupRefusedException ex)
            {
                await Console.Error.WriteLineAsync("codetether: " + ex.Message);
                return 2;
            }
            catch (OptionsValidationException ex)
            {
                await Console.Error.WriteLineAsync("codetether: invalid configuration: " + string.Join("; ", ex.Failures));
                return 2;
            }
        });
        return serve;
    }

    static Command MigrateCommand()
    {
        var migrate = new Command("migrate", "Create or upgrade the database schema, then exit (run before starting replicas).");
        migrate.TreatUnmatchedTokensAsErrors = false;
        migrate.SetAction(async (parse, ct) =>
        {
            var app = CodeTetherHost.Build([.. parse.UnmatchedTokens]);
            await DatabaseMigrator.MigrateAsync(app.Services.GetRequiredService<IServiceScopeFactory>(), ct);
            Console.WriteLine("Database is up to date: " + DatabaseConnection.Describe(app.Configuration["Database:ConnectionString"]));
            return 0;
        });
        return migrate;
    }

    /// <summary>In local mode the admin token is the way in: say where it is (stdout only, never the log).</summary>
    static void PrintWelcome(WebApplication app)
    {
        var auth = app.Services.GetRequiredService<IOptions<AuthOptions>>().Value;
        var hosting = app.Services.GetRequiredService<IOptions<HostingOptions>>().Value;
        var url = app.Urls.FirstOrDefault() ?? $"http://127.0.0.1:{HostingOptions.DefaultPort}";
        Console.WriteLine($"CodeTether is listening on {string.Join(", ", app.Urls)} (data: {hosting.DataDir})");
        if (!auth.IsLocalMode) return;
        Console.WriteLine("Local mode: only this machine can connect. Sign in with the one-time link:");
        Console.WriteLine($"  {url}/login?token={auth.AdminToken}");
        Console.WriteLine($"API/worker token: Authorization: Bearer <contents of {Path.Combine(hosting.DataDir, LocalAdminToken.FileName)}>");
    }
}
