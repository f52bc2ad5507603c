using System.Text.Json;

namespace CodeTether.Shared.Contracts;

public static class WorkerStatuses
{
    public const string Online = "online";
    public const string Busy = "busy";
    public const string Offline = "offline";
}

/// <summary>Body of <c>POST /v1/agent/workers/register</c> (seed field names).</summary>
public sealed record RegisterWorkerRequest
{
    public string? WorkerId { get; init; }
    public string? Name { get; init; }
    public string? AgentName { get; init; }
    public string? Hostname { get; init; }
    /// <summary>Codebase ids or absolute paths; <c>global</c> takes anything.</summary>
    public IReadOnlyList<string>? Codebases { get; init; }
    public IReadOnlyList<string>? Capabilities { get; init; }
    public IReadOnlyList<string>? Models { get; init; }
}

public sealed record WorkerDto
{
    public required string WorkerId { get; init; }
    public required string Name { get; init; }
    public string? Hostname { get; init; }
    public required string Status { get; init; }
    public IReadOnlyList<string> Codebases { get; init; } = [];
    public IReadOnlyList<string> Capabilities { get; init; } = [];
    public IReadOnlyList<string> Models { get; init; } = [];
    public string? CurrentTaskId { get; init; }
    public int TasksCompleted { get; init; }
    public int TasksFailed { get; init; }
    public DateTimeOffset? LastHeartbeat { get; init; }
    public DateTimeOffset RegisteredAt { get; init; }
}

public sealed record WorkerHeartbeatRequest
{
    public string? WorkerId { get; init; }
    public string? Status { get; init; }
}

/// <summary>Body of <c>POST /v1/worker/tasks/claim</c> and (optional) <c>POST /v1/worker/tasks/{id}/claim</c>.</summary>
public sealed record ClaimTaskRequest
{
    public string? TaskId { get; init; }
    public string? WorkerId { get; init; }
}

public sealed record ClaimTaskResponse
{
    public bool Success { get; init; } = true;
    public required TaskDto Task { get; init; }
    public long FencingToken { get; init; }
    public DateTimeOffset LeaseExpiresAt { get; init; }
}

/// <summary>Body of <c>POST /v1/worker/tasks/heartbeat</c>: renews the lease and reports progress.</summary>
public sealed record TaskHeartbeatRequest
{
    public string? TaskId { get; init; }
    public string? WorkerId { get; init; }
    public long? FencingToken { get; init; }
    public int? ProgressPct { get; init; }
    public string? StatusMessage { get; init; }
    public JsonElement? Checkpoint { get; init; }
}

public sealed record TaskLeaseResponse(string TaskId, string Status, long FencingToken, DateTimeOffset LeaseExpiresAt);

/// <summary>Body of <c>POST /v1/worker/tasks/{id}/events</c>: a batch of the agent's steps.</summary>
public sealed record TaskStepsRequest
{
    public string? WorkerId { get; init; }
    public long? FencingToken { get; init; }
    public IReadOnlyList<TaskStep>? Events { get; init; }
}

/// <summary>One step of the agent: <c>type</c> is one of <see cref="Events.TaskEventTypes"/> worker kinds.</summary>
public sealed record TaskStep
{
    public string? Type { get; init; }
    public JsonElement? Data { get; init; }
}

/// <summary>Body of <c>POST /v1/worker/tasks/release</c> and <c>POST /v1/agent/tasks/{id}/complete</c>.</summary>
public sealed record ReleaseTaskRequest
{
    public string? TaskId { get; init; }
    public string? WorkerId { get; init; }
    public string? Status { get; init; }
    public string? Result { get; init; }
    public string? Error { get; init; }
    public long? FencingToken { get; init; }
    /// <summary>
    /// With <c>status: failed</c>: the worker could not finish (e.g. it is shutting down) and hands the task back;
    /// the server requeues it as a new attempt while attempts remain.
    /// </summary>
    public bool? Requeue { get; init; }
}

public sealed record SessionSyncRequest
{
    public string? WorkerId { get; init; }
    public IReadOnlyList<SessionSyncItem>? Sessions { get; init; }
}

public sealed record SessionSyncItem
{
    public string? Id { get; init; }
    public string? Title { get; init; }
    public string? Agent { get; init; }
    public string? TaskId { get; init; }
    public DateTimeOffset? CreatedAt { get; init; }
    public DateTimeOffset? UpdatedAt { get; init; }
    public IReadOnlyList<SessionMessageDto>? Messages { get; init; }
}

public sealed record SessionMessageDto
{
    public string? Id { get; init; }
    public string? Role { get; init; }
    public string? Content { get; init; }
    public JsonElement? Parts { get; init; }
    public DateTimeOffset? CreatedAt { get; init; }
}

public sealed record SessionDto
{
    public required string Id { get; init; }
    public required string CodebaseId { get; init; }
    public string? WorkerId { get; init; }
    public string? Title { get; init; }
    public string? Agent { get; init; }
    public int MessageCount { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
}

public sealed record SessionSyncResponse(int Sessions, int Messages);

public sealed record HealthDto(string Status, string Version, string Database, string Bus);

/// <summary>Body of <c>POST /v1/worker/tasks/{id}/input-required</c>: the agent asks the user a question.</summary>
public sealed record RequestInputRequest
{
    public string? WorkerId { get; init; }
    public long? FencingToken { get; init; }
    public string? Message { get; init; }
}
