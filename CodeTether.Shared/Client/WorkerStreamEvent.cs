using CodeTether.Shared.Contracts;

namespace CodeTether.Shared.Client;

/// <summary>One event of <c>GET /v1/worker/tasks/stream</c>. <see cref="EventId"/> is the SSE <c>id:</c> (may be null).</summary>
public abstract record WorkerStreamEvent(string? EventId);

/// <summary><c>connected</c>: the server accepted the stream for <paramref name="WorkerId"/>.</summary>
public sealed record WorkerConnectedEvent(string? EventId, string? WorkerId) : WorkerStreamEvent(EventId);

/// <summary><c>task_available</c>: a task this worker may claim.</summary>
public sealed record TaskAvailableEvent(string? EventId, TaskDto Task) : WorkerStreamEvent(EventId);

/// <summary><c>task_cancelled</c>: stop working on <paramref name="TaskId"/>.</summary>
public sealed record TaskCancelledEvent(string? EventId, string TaskId, string? Reason) : WorkerStreamEvent(EventId);

/// <summary><c>heartbeat</c>: keep-alive from the server.</summary>
public sealed record StreamHeartbeatEvent(string? EventId) : WorkerStreamEvent(EventId);
