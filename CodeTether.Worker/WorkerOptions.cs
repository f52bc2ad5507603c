using CodeTether.Shared.Client;
using CodeTether.Worker.Providers;

namespace CodeTether.Worker;

/// <summary>Settings of one worker daemon, resolved from flags and environment by <see cref="WorkerCommand"/>.</summary>
public sealed class WorkerOptions
{
    public required Uri ServerUrl { get; init; }
    public string? Token { get; init; }
    public required string WorkerId { get; init; }
    public string? Name { get; init; }

    /// <summary>Absolute codebase paths (or <c>global</c>).</summary>
    public IReadOnlyList<string> Codebases { get; init; } = [];
    public IReadOnlyList<string> Capabilities { get; init; } = [];
    public IReadOnlyList<string> Models { get; init; } = [];

    /// <summary><c>all</c>, <c>safe</c> or <c>none</c>: which of the agent's tool calls run without approval.</summary>
    public string AutoApprove { get; init; } = AutoApproveModes.Safe;

    public int MaxConcurrent { get; init; } = 1;

    /// <summary><c>agent</c> (default when a model is configured), <c>shell</c> or <c>unconfigured</c>.</summary>
    public string Executor { get; init; } = ExecutorKinds.Unconfigured;

    /// <summary>The models the agent executor serves (<c>--models</c>, tiers, provider keys).</summary>
    public ModelCatalog Catalog { get; init; } = ModelCatalog.Empty;

    /// <summary>Where the worker keeps its state (session transcripts under <c>worker/sessions</c>).</summary>
    public string DataDir { get; init; } = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "codetether");

    /// <summary>MCP servers config file (<c>{"mcpServers": {...}}</c>) whose tools the agent gets.</summary>
    public string? McpConfig { get; init; }

    /// <summary>Enables the agent's <c>web_fetch</c> tool.</summary>
    public bool WebFetch { get; init; }

    /// <summary>Model calls per agent task.</summary>
    public int MaxSteps { get; init; } = 50;

    /// <summary>Default timeout of one agent <c>shell</c> call (never more than <see cref="ShellTimeout"/>).</summary>
    public TimeSpan ToolTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Time a running task gets to finish after shutdown starts, before it is cancelled and released.</summary>
    public TimeSpan Grace { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>How long a cancelled executor may take to stop before the task is released anyway.</summary>
    public TimeSpan CancelGrace { get; init; } = TimeSpan.FromSeconds(5);

    public TimeSpan LeaseRenewInterval { get; init; } = TimeSpan.FromSeconds(10);
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Timeout of one command of the <c>shell</c> executor.</summary>
    public TimeSpan ShellTimeout { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>Reconnect back-off of the task stream (tests shorten it).</summary>
    public TimeSpan ReconnectBaseDelay { get; init; } = TimeSpan.FromMilliseconds(500);
    public TimeSpan ReconnectMaxDelay { get; init; } = TimeSpan.FromSeconds(10);

    public string DisplayName => string.IsNullOrWhiteSpace(Name) ? WorkerId : Name;

    public CodeTetherClientOptions ToClientOptions() => new()
    {
        ServerUrl = ServerUrl,
        Token = Token,
        WorkerId = WorkerId,
        WorkerName = DisplayName,
        Hostname = Environment.MachineName,
        Codebases = Codebases,
        Capabilities = Capabilities,
        Models = Models,
        ReconnectBaseDelay = ReconnectBaseDelay,
        ReconnectMaxDelay = ReconnectMaxDelay,
    };

    public override string ToString() =>
        $"WorkerOptions {{ ServerUrl = {ServerUrl}, WorkerId = {WorkerId}, Name = {DisplayName}, " +
        $"Token = {(string.IsNullOrEmpty(Token) ? "(none)" : "***")}, Codebases = [{string.Join(", ", Codebases)}], " +
        $"Executor = {Executor}, Models = [{string.Join(", ", Models)}], MaxConcurrent = {MaxConcurrent}, AutoApprove = {AutoApprove} }}";
}

public static class AutoApproveModes
{
    public const string All = "all";
    public const string Safe = "safe";
    public const string None = "none";
}

public static class ExecutorKinds
{
    public const string Unconfigured = "unconfigured";
    public const string Shell = "shell";
    public const string Agent = "agent";
}
