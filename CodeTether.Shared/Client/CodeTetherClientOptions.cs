namespace CodeTether.Shared.Client;

/// <summary>Who the worker is and where its server lives. <see cref="ToString"/> never prints the token.</summary>
public sealed class CodeTetherClientOptions
{
    /// <summary>Base URL of the CodeTether host, e.g. <c>http://127.0.0.1:8000</c>.</summary>
    public required Uri ServerUrl { get; init; }

    /// <summary>Worker (or API) token sent as <c>Authorization: Bearer</c>; none when null or empty.</summary>
    public string? Token { get; init; }

    public required string WorkerId { get; init; }
    public string? WorkerName { get; init; }
    public string? Hostname { get; init; } = Environment.MachineName;

    /// <summary>Codebase ids or absolute paths this worker serves; <c>global</c> takes anything.</summary>
    public IReadOnlyList<string> Codebases { get; init; } = [];
    public IReadOnlyList<string> Capabilities { get; init; } = [];
    public IReadOnlyList<string> Models { get; init; } = [];

    /// <summary>First delay before reconnecting the task stream; doubles per failed attempt (with full jitter).</summary>
    public TimeSpan ReconnectBaseDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Upper bound of the reconnect delay.</summary>
    public TimeSpan ReconnectMaxDelay { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The stream is considered dead (and reconnected) when no event — not even a <c>heartbeat</c> — arrives for this long.
    /// Catches half-open TCP connections. <see cref="Timeout.InfiniteTimeSpan"/> turns it off.
    /// </summary>
    public TimeSpan StreamIdleTimeout { get; init; } = TimeSpan.FromMinutes(2);

    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    internal string DisplayName => string.IsNullOrWhiteSpace(WorkerName) ? WorkerId : WorkerName;

    public override string ToString() =>
        $"CodeTetherClientOptions {{ ServerUrl = {ServerUrl}, WorkerId = {WorkerId}, WorkerName = {WorkerName}, " +
        $"Token = {(string.IsNullOrEmpty(Token) ? "(none)" : "***")}, Codebases = [{string.Join(", ", Codebases)}] }}";
}
