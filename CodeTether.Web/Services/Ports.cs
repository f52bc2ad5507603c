using CodeTether.Shared.Contracts;
using CodeTether.Shared.Events;

namespace CodeTether.Web.Services;

// The ports the dashboard needs. The host implements them in its feature folders with the same services as REST,
// in the tenant of the signed-in user; writes check the user's permissions server-side.

/// <summary>Filters of the task grid; each one is also a query-string parameter of <c>/tasks</c>.</summary>
public sealed record TaskQuery
{
    public string? Status { get; init; }
    public string? CodebaseId { get; init; }
    public string? WorkerId { get; init; }
    public string? Agent { get; init; }
    public string? Text { get; init; }
    /// <summary>Only tasks created within this window (e.g. the last hour); null = any time.</summary>
    public TimeSpan? Within { get; init; }
    public string SortBy { get; init; } = "created";
    public bool Descending { get; init; } = true;
    public int Page { get; init; }
    public int PageSize { get; init; } = 25;
}

public sealed record TaskQueryResult(IReadOnlyList<TaskDto> Items, int Total);

/// <summary>A task and its whole event log (status changes and the agent's steps), oldest first.</summary>
public sealed record TaskView(TaskDto Task, IReadOnlyList<TaskEventDto> Events, CodebaseDto? Codebase);

/// <summary>The figures of the overview page.</summary>
public sealed record OverviewStats
{
    public required IReadOnlyDictionary<string, int> TasksByStatus { get; init; }
    public int WorkersOnline { get; init; }
    public int WorkersBusy { get; init; }
    public int WorkersOffline { get; init; }
    public int Codebases { get; init; }
    /// <summary>Twelve five-minute buckets over the last hour, oldest first.</summary>
    public required IReadOnlyList<HourBucket> LastHour { get; init; }
    public required IReadOnlyList<TaskEventDto> RecentActivity { get; init; }
    public required IReadOnlyList<WorkerDto> Workers { get; init; }
}

/// <summary>Tasks finished in a bucket and the mean time they waited before a worker claimed them.</summary>
public sealed record HourBucket(DateTimeOffset Start, int Completed, int Failed, double? MeanQueueWaitSeconds);

public sealed record CodebaseForm
{
    public string Name { get; set; } = "";
    public string Path { get; set; } = "";
    public string? Description { get; set; }
}

public sealed record TriggerForm
{
    public string Prompt { get; set; } = "";
    public string? Title { get; set; }
    public string Agent { get; set; } = AgentNames.Default;
    public string? Model { get; set; }
    public int Priority { get; set; }
}

public sealed record SessionTranscript(SessionDto Session, IReadOnlyList<SessionMessageDto> Messages, CodebaseDto? Codebase);

public interface ITaskBoard
{
    Task<TaskQueryResult> QueryAsync(TaskQuery query, CancellationToken ct = default);
    Task<TaskView?> GetAsync(string taskId, CancellationToken ct = default);
    Task<OverviewStats> GetOverviewAsync(CancellationToken ct = default);
    Task<TaskDto> TriggerAsync(string codebaseId, TriggerForm form, CancellationToken ct = default);
    Task<TaskDto> CancelAsync(string taskId, CancellationToken ct = default);
    Task<TaskDto> RetryAsync(string taskId, CancellationToken ct = default);
    /// <summary>Answers the question of a task in <c>input-required</c>: it goes back to the queue with the answer as its prompt.</summary>
    Task<TaskDto> ResumeAsync(string taskId, string answer, CancellationToken ct = default);
}

public interface ICodebaseBoard
{
    Task<IReadOnlyList<CodebaseDto>> ListAsync(CancellationToken ct = default);
    Task<CodebaseDto?> GetAsync(string codebaseId, CancellationToken ct = default);
    Task<CodebaseDto> RegisterAsync(CodebaseForm form, CancellationToken ct = default);
    Task<CodebaseDto> UpdateAsync(string codebaseId, CodebaseForm form, CancellationToken ct = default);
    Task RemoveAsync(string codebaseId, CancellationToken ct = default);
}

public interface IWorkerBoard
{
    Task<IReadOnlyList<WorkerDto>> ListAsync(CancellationToken ct = default);
    Task<WorkerDto?> GetAsync(string workerId, CancellationToken ct = default);
}

public interface ISessionBoard
{
    Task<IReadOnlyList<SessionDto>> ListAsync(string? codebaseId, string? search, CancellationToken ct = default);
    Task<SessionTranscript?> GetAsync(string sessionId, CancellationToken ct = default);
    /// <summary>A follow-up message on the session: a new task on the same session and codebase.</summary>
    Task<TaskDto> ContinueAsync(string sessionId, string message, CancellationToken ct = default);
}

/// <summary>
/// Committed changes of the signed-in user's tenant, pushed to a component. The circuit already is a live connection,
/// so components subscribe here rather than opening a SignalR client to their own host.
/// </summary>
public interface ILiveFeed
{
    /// <summary>Calls <paramref name="onEvent"/> for every event passing <paramref name="filter"/>; dispose to stop.</summary>
    IDisposable Subscribe(Func<LiveEvent, Task> onEvent, Func<LiveEvent, bool>? filter = null);

    /// <summary>False while the feed is re-attaching after it fell behind; views reload when it comes back.</summary>
    bool IsLive { get; }

    event Action? LiveChanged;
}

/// <summary>A refused or invalid dashboard action, with the ProblemDetails-style title and per-field errors.</summary>
public sealed class DashboardException(string title, IReadOnlyDictionary<string, string[]>? errors = null, int status = 400)
    : Exception(title)
{
    public string Title { get; } = title;
    public IReadOnlyDictionary<string, string[]> Errors { get; } = errors ?? new Dictionary<string, string[]>();
    public int Status { get; } = status;
}
