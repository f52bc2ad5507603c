namespace CodeTether.Shared.Events;

/// <summary>Types of <see cref="Contracts.TaskEventDto"/>; each is also the SSE <c>event:</c> name.</summary>
public static class TaskEventTypes
{
    /// <summary>A lifecycle transition; data carries <c>from</c>, <c>to</c>, <c>reason</c>.</summary>
    public const string Status = "status";
    /// <summary>Progress reported by the worker (percent, message, checkpoint).</summary>
    public const string Progress = "progress";
    /// <summary>A chunk of the agent's output text.</summary>
    public const string Output = "output";
    public const string ToolCall = "tool_call";
    public const string ToolResult = "tool_result";
    public const string Diff = "diff";
    public const string Message = "message";
    public const string Artifact = "artifact";
    public const string Usage = "usage";

    /// <summary>The kinds a worker may post as steps.</summary>
    public static readonly IReadOnlyList<string> WorkerSteps = [Progress, Output, ToolCall, ToolResult, Diff, Message, Artifact, Usage];
}

/// <summary>Event names of the worker's task stream (<c>GET /v1/worker/tasks/stream</c>).</summary>
public static class WorkerStreamEvents
{
    public const string Connected = "connected";
    public const string TaskAvailable = "task_available";
    public const string TaskCancelled = "task_cancelled";
    public const string Heartbeat = "heartbeat";
}
