using System.Text.Json;
using System.Text.Json.Nodes;

namespace CodeTether.Shared.Contracts;

/// <summary>The states of the task lifecycle (DESIGN.md). Wire values are lower-case, as in the seed.</summary>
public static class TaskStatuses
{
    public const string Submitted = "submitted";
    public const string Routed = "routed";
    public const string Claimed = "claimed";
    public const string Running = "running";
    public const string InputRequired = "input-required";
    public const string Completed = "completed";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    /// <summary>The seed's polling workers ask for <c>pending</c>: the states a worker may still claim.</summary>
    public const string Pending = "pending";

    public static readonly IReadOnlyList<string> All =
        [Submitted, Routed, Claimed, Running, InputRequired, Completed, Failed, Cancelled];

    public static readonly IReadOnlyList<string> Claimable = [Submitted, Routed];
    public static readonly IReadOnlyList<string> Leased = [Claimed, Running, InputRequired];
    public static readonly IReadOnlyList<string> Terminal = [Completed, Failed, Cancelled];

    public static bool IsTerminal(string status) => Terminal.Contains(status);
    public static bool IsKnown(string status) => All.Contains(status) || status == Pending;
}

/// <summary>The agents a worker offers (the worker issue adds their behaviour).</summary>
public static class AgentNames
{
    public const string Build = "build";
    public const string Plan = "plan";
    public const string Explore = "explore";
    public const string Default = Build;
}

/// <summary>Body of <c>POST /v1/agent/codebases/{id}/trigger</c>.</summary>
public sealed record TriggerTaskRequest
{
    public string? Prompt { get; init; }
    public string? Title { get; init; }
    public string? Agent { get; init; }
    public string? Model { get; init; }
    public int? Priority { get; init; }
    public JsonObject? Metadata { get; init; }
    public string? TargetWorkerId { get; init; }
    public string? SessionId { get; init; }
}

/// <summary>Body of <c>POST /v1/agent/tasks</c>: a trigger plus where to run it (none = <c>global</c>).</summary>
public sealed record CreateTaskRequest
{
    public string? Prompt { get; init; }
    public string? Title { get; init; }
    public string? Agent { get; init; }
    public string? Model { get; init; }
    public int? Priority { get; init; }
    public JsonObject? Metadata { get; init; }
    public string? TargetWorkerId { get; init; }
    public string? SessionId { get; init; }
    public string? CodebaseId { get; init; }
    /// <summary>The original's name for <see cref="CodebaseId"/>.</summary>
    public string? WorkspaceId { get; init; }
    public string? CodebasePath { get; init; }

    public TriggerTaskRequest ToTrigger() => new()
    {
        Prompt = Prompt, Title = Title, Agent = Agent, Model = Model, Priority = Priority,
        Metadata = Metadata, TargetWorkerId = TargetWorkerId, SessionId = SessionId,
    };
}

public sealed record TaskDto
{
    public required string Id { get; init; }
    public required string CodebaseId { get; init; }
    public required string Title { get; init; }
    public required string Prompt { get; init; }
    public required string Agent { get; init; }
    public string? Model { get; init; }
    public int Priority { get; init; }
    public required string Status { get; init; }
    public int Attempt { get; init; }
    public int MaxAttempts { get; init; }
    /// <summary>The worker holding the lease (claimed/running), else the last one that did.</summary>
    public string? WorkerId { get; init; }
    public string? TargetWorkerId { get; init; }
    public string? SessionId { get; init; }
    public string? Result { get; init; }
    public string? Error { get; init; }
    public int? ProgressPct { get; init; }
    public string? StatusMessage { get; init; }
    public JsonElement? Metadata { get; init; }
    public long FencingToken { get; init; }
    public DateTimeOffset? LeaseExpiresAt { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
    public DateTimeOffset? RoutedAt { get; init; }
    public DateTimeOffset? ClaimedAt { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? CompletedAt { get; init; }
}

/// <summary>A task with its timeline: every status change, oldest first.</summary>
public sealed record TaskDetailDto
{
    public required TaskDto Task { get; init; }
    public required IReadOnlyList<TaskEventDto> Timeline { get; init; }
}

public sealed record TaskPage(IReadOnlyList<TaskDto> Tasks, string? NextCursor);

/// <summary>One entry of a task's append-only event log. <see cref="Id"/> is the SSE <c>id:</c>.</summary>
public sealed record TaskEventDto
{
    public long Id { get; init; }
    public required string TaskId { get; init; }
    public required string CodebaseId { get; init; }
    public required string Type { get; init; }
    public required string Status { get; init; }
    public int Attempt { get; init; }
    public string? WorkerId { get; init; }
    public JsonElement? Data { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
}

/// <summary>Body of <c>POST /v1/agent/tasks/{id}/cancel</c> (optional).</summary>
public sealed record CancelTaskRequest
{
    public string? Reason { get; init; }
}

/// <summary>Body of <c>POST /v1/agent/tasks/{id}/resume</c>: the user's answer to a task in <c>input-required</c>.</summary>
public sealed record ResumeTaskRequest
{
    public string? Prompt { get; init; }
}
