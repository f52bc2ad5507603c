using CodeTether.Shared.Contracts;

namespace CodeTether.Shared.Events;

/// <summary>
/// What travels on the event bus after a change has been committed: exactly one of the payloads is set.
/// Task events carry their database id so that streams can de-duplicate against a replay.
/// </summary>
public sealed record LiveEvent
{
    public required string TenantId { get; init; }
    public TaskEventDto? Task { get; init; }
    public WorkerDto? Worker { get; init; }
    public CodebaseDto? Codebase { get; init; }
}
