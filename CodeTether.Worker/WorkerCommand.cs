using System.CommandLine;
using System.Net;
using System.Security.Cryptography;
using CodeTether.Shared.Client;
using CodeTether.Worker.Agent;
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
    { Description = "Comma-separated models this worker offers [env A2A_MODELS]" };

    private static Option<int?> MaxConcurrentOption() => new("--max-concurrent")
    { Description = "Tasks run at the same time [env A2A_MAX_CONCURRENT, default 1]" };

    private static Option<string?> ExecutorOption() => new Option<string?>("--executor")
    { Description = "How tasks are run: 'unconfigured' (fails them: no LLM provider yet) or 'shell' (the prompt is a /bin/sh command) [env A2A_EXECUTOR]" }
        .AcceptOnlyFromAmong(ExecutorKinds.Unconfigured, ExecutorKinds.Shell);

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
        var executor = Pick("--executor", "A2A_EXECUTOR") ?? ExecutorKinds.Unconfigured;
        if (executor is not (ExecutorKinds.Unconfigured or ExecutorKinds.Shell))
            throw new ArgumentException($"--executor must be unconfigured or shell, got '{executor}'");

        return new WorkerOptions
        {
            ServerUrl = server,
            Token = token,
            WorkerId = workerId,
            Name = Pick("--name", "A2A_WORKER_NAME"),
            Codebases = codebases,
            Capabilities = SplitList(Pick("--capabilities", "A2A_CAPABILITIES")),
            Models = SplitList(Pick("--models", "A2A_MODELS")),
            AutoApprove = autoApprove,
            MaxConcurrent = maxConcurrent,
            Executor = executor,
            Grace = Seconds(parse.GetValue<double?>("--grace"), 20, "--grace"),
            ShellTimeout = Seconds(parse.GetValue<double?>("--shell-timeout"), 1800, "--shell-timeout"),
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
        builder.Services.AddSingleton<ITaskExecutor>(sp => options.Executor == ExecutorKinds.Shell
            ? new ShellExecutor(options.ShellTimeout, sp.GetRequiredService<ILogger<ShellExecutor>>())
            : new UnconfiguredExecutor());
        builder.Services.AddHostedService<WorkerService>();
        // The drain (grace + cancel + release) must fit inside the host's shutdown timeout.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = options.Grace + options.CancelGrace + TimeSpan.FromSeconds(35));

        using var host = builder.Build();
        await host.RunAsync(ct).ConfigureAwait(false);
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
        var dataDir = NullIfEmpty(env("CODETETHER_DATA_DIR"))
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "codetether");
        var file = Path.Combine(dataDir, "admin-token");
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
