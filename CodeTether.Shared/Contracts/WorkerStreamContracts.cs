namespace CodeTether.Shared.Contracts;

/// <summary>Data of the worker stream's <c>connected</c> event.</summary>
public sealed record WorkerStreamConnected
{
    public string? WorkerId { get; init; }
}

/// <summary>Data of the worker stream's <c>task_cancelled</c> event.</summary>
public sealed record WorkerStreamTaskCancelled
{
    public string? TaskId { get; init; }
    public string? Reason { get; init; }
}
