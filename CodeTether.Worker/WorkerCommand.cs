using System.CommandLine;
using System.Net;
using System.Security.Cryptography;
using CodeTether.Shared.Client;
using CodeTether.Worker.Agent;
using CodeTether.Worker.Providers;
using CodeTether.Worker.Sessions;
using CodeTether.Worker.Tools;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CodeTether.Worker;

/// <summary>
/// <c>codetether worker</c>: the worker daemon as a System.CommandLine command. Every flag falls back to an environment
/// variable (the seed's names). Mount it with <c>root.Add(WorkerCommand.Create())</c>.
/// </summary>
/// <remarks>
/// Invoke with <c>new InvocationConfiguration { ProcessTerminationTimeout = null }</c>: System.CommandLine's own
/// SIGTERM/Ctrl+C handling otherwise kills the process 2 s after the signal, cutting the worker's shutdown grace short.
/// The generic host handles the signals and waits for the graceful drain.
/// </remarks>
public static class WorkerCommand
{
    public const string DefaultServerUrl = "http://127.0.0.1:8000";
    private const string Description = "Run a CodeTether worker: take tasks for local codebases from a CodeTether server.";

    private static Option<string?> ServerOption() => new("--server")
    { Description = $"Server URL [env A2A_SERVER_URL, default {DefaultServerUrl}]" };

    private static Option<string?> CodebasesOption() => new("--codebases")
    { Description = "Codebase paths, separated by ',' or ':' (made absolute; 'global' takes any task) [env A2A_CODEBASES, default: current directory]" };

    private static Option<string?> TokenOption() => new("--token")
    { Description = "Worker token [env A2A_WORKER_TOKEN; for a loopback server, default $CODETETHER_DATA_DIR/admin-token]" };

    private static Option<string?> WorkerIdOption() => new("--worker-id")
    { Description = "Worker id [env A2A_WORKER_ID, default <hostname>-<random>]" };

    private static Option<string?> NameOption() => new("--name")
    { Description = "Display name [env A2A_WORKER_NAME, default: the worker id]" };

    private static Option<string?> AutoApproveOption() => new Option<string?>("--auto-approve")
    { Description = "Which agent tool calls run without asking: all, safe or none [env A2A_AUTO_APPROVE, default safe]" }
        .AcceptOnlyFromAmong(AutoApproveModes.All, AutoApproveModes.Safe, AutoApproveModes.None);

    private static Option<string?> CapabilitiesOption() => new("--capabilities")
    { Description = "Comma-separated capabilities [env A2A_CAPABILITIES]" };

    private static Option<string?> ModelsOption() => new("--models")
    { Description = "Comma-separated models the agent serves: provider:model or tier=provider:model (tiers fast, balanced, best; the first is the default), e.g. anthropic:claude-sonnet-4,fast=openai:gpt-4.1-mini [env A2A_MODELS; default: one model per provider key set]" };

    private static Option<string?> DataDirOption() => new("--data-dir")
    { Description = "Worker state (session transcripts) [env CODETETHER_DATA_DIR, default <LocalApplicationData>/codetether]" };

    private static Option<string?> McpConfigOption() => new("--mcp-config")
    { Description = "JSON file of MCP servers whose tools the agent gets ({\"mcpServers\": {...}}) [env CODETETHER_MCP_CONFIG]" };

    private static Option<bool> WebFetchOption() => new("--web-fetch")
    { Description = "Allow the agent's web_fetch tool [env CODETETHER_WEB_FETCH=1]" };

    private static Option<int?> MaxStepsOption() => new("--max-steps")
    { Description = "Model calls per agent task [default 50]" };

    private static Option<double?> ToolTimeoutOption() => new("--tool-timeout")
    { Description = "Default seconds of one agent shell call (the model may ask for up to --shell-timeout) [default 120]" };

    private static Option<int?> MaxConcurrentOption() => new("--max-concurrent")
    { Description = "Tasks run at the same time [env A2A_MAX_CONCURRENT, default 1]" };

    private static Option<string?> ExecutorOption() => new Option<string?>("--executor")
    { Description = "How tasks are run: 'agent' (the coding agent; default when a model is configured), 'shell' (the prompt is a /bin/sh command) or 'unconfigured' (fails them) [env A2A_EXECUTOR]" }
        .AcceptOnlyFromAmong(ExecutorKinds.Agent, ExecutorKinds.Unconfigured, ExecutorKinds.Shell);

    private static Option<double?> GraceOption() => new("--grace")
    { Description = "Seconds a running task gets to finish on shutdown before it is cancelled and requeued [default 20]" };

    private static Option<double?> ShellTimeoutOption() => new("--shell-timeout")
    { Description = "Seconds one command of the shell executor may run [default 1800]" };

    public static Command Create() => Configure(new Command("worker", Description));

    /// <summary>The same command as the process's root (the standalone <c>CodeTether.Worker</c> executable).</summary>
    public static RootCommand CreateRoot() => Configure(new RootCommand(Description));

    private static T Configure<T>(T command) where T : Command
    {
        command.Options.Add(ServerOption());
        command.Options.Add(CodebasesOption());
        command.Options.Add(TokenOption());
        command.Options.Add(WorkerIdOption());
        command.Options.Add(NameOption());
        command.Options.Add(AutoApproveOption());
        command.Options.Add(CapabilitiesOption());
        command.Options.Add(ModelsOption());
        command.Options.Add(MaxConcurrentOption());
        command.Options.Add(ExecutorOption());
        command.Options.Add(GraceOption());
        command.Options.Add(ShellTimeoutOption());
        command.Options.Add(DataDirOption());
        command.Options.Add(McpConfigOption());
        command.Options.Add(WebFetchOption());
        command.Options.Add(MaxStepsOption());
        command.Options.Add(ToolTimeoutOption());

        command.SetAction(async (parse, ct) =>
        {
            WorkerOptions options;
            try
            {
                options = ResolveOptions(parse, Environment.GetEnvironmentVariable);
            }
            catch (ArgumentException ex)
            {
                await Console.Error.WriteLineAsync($"codetether worker: {ex.Message}").ConfigureAwait(false);
                return 1;
            }
            await RunAsync(options, ct).ConfigureAwait(false);
            return Environment.ExitCode;
        });
        return command;
    }

    /// <summary>Flags first, then environment variables, then defaults.</summary>
    public static WorkerOptions ResolveOptions(ParseResult parse, Func<string, string?> env)
    {
        string? Pick(string option, string variable) =>
            NullIfEmpty(parse.GetValue<string?>(option)) ?? NullIfEmpty(env(variable));

        var serverText = Pick("--server", "A2A_SERVER_URL") ?? DefaultServerUrl;
        if (!Uri.TryCreate(serverText, UriKind.Absolute, out var server) || server.Scheme is not ("http" or "https"))
            throw new ArgumentException($"--server must be an http(s) URL, got '{serverText}'");

        var codebases = ParseCodebases(Pick("--codebases", "A2A_CODEBASES"));
        var token = Pick("--token", "A2A_WORKER_TOKEN") ?? (IsLoopback(server) ? ReadAdminToken(env) : null);
        var workerId = Pick("--worker-id", "A2A_WORKER_ID") ?? DefaultWorkerId();
        var maxConcurrent = parse.GetValue<int?>("--max-concurrent")
            ?? (int.TryParse(env("A2A_MAX_CONCURRENT"), out var m) ? m : 1);
        if (maxConcurrent < 1) throw new ArgumentException("--max-concurrent must be at least 1");
        var autoApprove = Pick("--auto-approve", "A2A_AUTO_APPROVE") ?? AutoApproveModes.Safe;
        if (autoApprove is not (AutoApproveModes.All or AutoApproveModes.Safe or AutoApproveModes.None))
            throw new ArgumentException($"--auto-approve must be all, safe or none, got '{autoApprove}'");
        var executor = Pick("--executor", "A2A_EXECUTOR");
        if (executor is not (null or ExecutorKinds.Agent or ExecutorKinds.Unconfigured or ExecutorKinds.Shell))
            throw new ArgumentException($"--executor must be agent, shell or unconfigured, got '{executor}'");
        var models = SplitList(Pick("--models", "A2A_MODELS"));
        var catalog = ModelCatalog.Empty;
        // Explicit agent, or no executor named and the entries look like provider:model: the models must be servable.
        if (executor == ExecutorKinds.Agent || (executor is null && models.All(m => m.Contains(':'))))
            catalog = ModelCatalog.Build(models, env);
        executor ??= catalog.Models.Count > 0 ? ExecutorKinds.Agent : ExecutorKinds.Unconfigured;
        if (executor == ExecutorKinds.Agent && catalog.Models.Count == 0)
            throw new ArgumentException("--executor agent needs a model: pass --models provider:model (e.g. anthropic:claude-sonnet-4) or set a provider key such as ANTHROPIC_API_KEY or OPENAI_API_KEY");
        var shellTimeout = Seconds(parse.GetValue<double?>("--shell-timeout"), 1800, "--shell-timeout");
        var toolTimeout = Seconds(parse.GetValue<double?>("--tool-timeout"), 120, "--tool-timeout");
        var maxSteps = parse.GetValue<int?>("--max-steps") ?? 50;
        if (maxSteps < 1) throw new ArgumentException("--max-steps must be at least 1");

        return new WorkerOptions
        {
            ServerUrl = server,
            Token = token,
            WorkerId = workerId,
            Name = Pick("--name", "A2A_WORKER_NAME"),
            Codebases = codebases,
            Capabilities = SplitList(Pick("--capabilities", "A2A_CAPABILITIES")),
            Models = executor == ExecutorKinds.Agent ? catalog.Advertised : models,
            Catalog = catalog,
            DataDir = NullIfEmpty(parse.GetValue<string?>("--data-dir")) ?? DataDirectory(env),
            McpConfig = Pick("--mcp-config", "CODETETHER_MCP_CONFIG") is { } mcp ? Path.GetFullPath(ExpandHome(mcp)) : null,
            WebFetch = parse.GetValue<bool>("--web-fetch") || env("CODETETHER_WEB_FETCH") is "1" or "true",
            MaxSteps = maxSteps,
            ToolTimeout = toolTimeout < shellTimeout ? toolTimeout : shellTimeout,
            AutoApprove = autoApprove,
            MaxConcurrent = maxConcurrent,
            Executor = executor,
            Grace = Seconds(parse.GetValue<double?>("--grace"), 20, "--grace"),
            ShellTimeout = shellTimeout,
        };
    }

    /// <summary>Runs the daemon until <paramref name="ct"/> fires or the process gets SIGTERM/SIGINT.</summary>
    public static async Task RunAsync(WorkerOptions options, CancellationToken ct = default)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddSingleton(Options.Create(options));
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(sp =>
            CodeTetherClient.Create(options.ToClientOptions(), sp.GetRequiredService<ILogger<CodeTetherClient>>()));
        builder.Services.AddSingleton<ITaskExecutor>(sp => options.Executor switch
        {
            ExecutorKinds.Shell => new ShellExecutor(options.ShellTimeout, sp.GetRequiredService<ILogger<ShellExecutor>>()),
            ExecutorKinds.Agent => CreateAgent(options, sp),
            _ => new UnconfiguredExecutor(),
        });
        builder.Services.AddHostedService<WorkerService>();
        // The drain (grace + cancel + release) must fit inside the host's shutdown timeout.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = options.Grace + options.CancelGrace + TimeSpan.FromSeconds(35));

        using var host = builder.Build();
        await host.RunAsync(ct).ConfigureAwait(false);
    }

    /// <summary>The agent executor for these options, with real providers and the local session store.</summary>
    public static AgentExecutor CreateAgent(WorkerOptions options, IServiceProvider sp)
    {
        var redactor = SecretRedactor.FromEnvironment(
            [.. ProviderRegistry.SecretVariables, "A2A_WORKER_TOKEN", "A2A_AUTH_TOKENS", "GITHUB_TOKEN", "GH_TOKEN"], options.Token);
        var settings = new AgentSettings
        {
            Models = options.Catalog,
            AutoApprove = options.AutoApprove,
            MaxSteps = options.MaxSteps,
            WorkerId = options.WorkerId,
            Redactor = redactor,
            McpServers = options.McpConfig is { } path ? McpToolSource.LoadConfig(path) : new Dictionary<string, McpServerConfig>(),
            Tools = new ToolSettings { ShellTimeout = options.ToolTimeout, MaxShellTimeout = options.ShellTimeout, WebFetch = options.WebFetch },
        };
        return new AgentExecutor(settings, model => ProviderRegistry.Create(model, Environment.GetEnvironmentVariable),
            new SessionStore(Path.Combine(options.DataDir, "worker", "sessions")), sp.GetRequiredService<CodeTetherClient>(),
            sp.GetRequiredService<ILogger<AgentExecutor>>(), TimeProvider.System, sp.GetRequiredService<ILoggerFactory>());
    }

    public static IReadOnlyList<string> ParseCodebases(string? value)
    {
        var items = SplitList(value, [',', Path.PathSeparator]);
        if (items.Count == 0) return [Path.GetFullPath(Environment.CurrentDirectory)];
        return [.. items
            .Select(p => p == Shared.Contracts.CodebaseIds.Global ? p : Path.TrimEndingDirectorySeparator(Path.GetFullPath(ExpandHome(p))))
            .Distinct(StringComparer.Ordinal)];
    }

    public static bool IsLoopback(Uri server) =>
        server.IsLoopback || (IPAddress.TryParse(server.IdnHost.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));

    /// <summary>The admin token a local host writes to <c>$CODETETHER_DATA_DIR/admin-token</c>; null when absent.</summary>
    public static string? ReadAdminToken(Func<string, string?> env)
    {
        var file = Path.Combine(DataDirectory(env), "admin-token");
        try
        {
            return File.Exists(file) ? NullIfEmpty(File.ReadAllText(file).Trim()) : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string DataDirectory(Func<string, string?> env) =>
        NullIfEmpty(env("CODETETHER_DATA_DIR"))
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "codetether");

    private static string DefaultWorkerId()
    {
        var host = new string([.. Environment.MachineName.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-')]);
        return $"{(host.Length == 0 ? "worker" : host)}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3))}";
    }

    private static IReadOnlyList<string> SplitList(string? value) => SplitList(value, [',']);

    private static IReadOnlyList<string> SplitList(string? value, char[] separators) =>
        string.IsNullOrWhiteSpace(value)
            ? []
            : value.Split(separators, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static string ExpandHome(string path) =>
        path == "~" || path.StartsWith("~/", StringComparison.Ordinal)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), path.Length > 2 ? path[2..] : "")
            : path;

    private static TimeSpan Seconds(double? value, double fallback, string flag)
    {
        var seconds = value ?? fallback;
        if (seconds <= 0 || double.IsNaN(seconds)) throw new ArgumentException($"{flag} must be a positive number of seconds");
        return TimeSpan.FromSeconds(seconds);
    }

    private static string? NullIfEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();
}
