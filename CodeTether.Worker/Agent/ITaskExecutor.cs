using System.Text.Json;
using CodeTether.Shared.Contracts;
using CodeTether.Shared.Events;

namespace CodeTether.Worker.Agent;

/// <summary>
/// Runs one claimed task. The worker owns the lease (renewal, release); the executor only does the work and reports.
/// <paramref name="ct"/> fires when the task is cancelled by the server, its lease is lost, or the worker's shutdown grace
/// is over — stop promptly and return or throw <see cref="OperationCanceledException"/>.
/// An exception escaping <see cref="ExecuteAsync"/> is caught by the worker and fails the task.
/// </summary>
public interface ITaskExecutor
{
    Task<TaskOutcome> ExecuteAsync(TaskContext ctx, CancellationToken ct);
}

/// <summary>
/// How a run ended: <see cref="TaskStatuses.Completed"/>, <see cref="TaskStatuses.Failed"/>, or
/// <see cref="TaskStatuses.InputRequired"/> — the agent waits for the user (<see cref="Question"/>): the worker hands the
/// task to the server as <c>input-required</c> instead of releasing it, and the answer comes back as a resumed task.
/// </summary>
public sealed record TaskOutcome(string Status, string? Result, string? Error)
{
    public static TaskOutcome Completed(string? result) => new(TaskStatuses.Completed, result, null);
    public static TaskOutcome Failed(string error, string? result = null) => new(TaskStatuses.Failed, result, error);
    public static TaskOutcome InputRequired(string question, string? result = null) =>
        new(TaskStatuses.InputRequired, result, null) { Question = question };

    /// <summary>The question for the user when <see cref="Status"/> is <c>input-required</c>.</summary>
    public string? Question { get; init; }

    public bool IsCompleted => Status == TaskStatuses.Completed;
    public bool IsInputRequired => Status == TaskStatuses.InputRequired;
}

/// <summary>What an executor gets for one task: the task, its lease, and the ways to report back.</summary>
public sealed class TaskContext(
    TaskDto task,
    long fencingToken,
    IReadOnlyList<string> codebases,
    Func<TaskStep, CancellationToken, ValueTask> report,
    Func<int?, string?, CancellationToken, Task> progress,
    CancellationToken workerStopping = default)
{
    public TaskDto Task { get; } = task;

    /// <summary>The fencing token of the current lease (renewals may change it).</summary>
    public long FencingToken { get; internal set; } = fencingToken;

    /// <summary>The codebase roots this worker registered (absolute paths, or <c>global</c>).</summary>
    public IReadOnlyList<string> Codebases { get; } = codebases;

    /// <summary>
    /// Fires when the worker starts shutting down (first stage): finish or checkpoint soon. The executor's own token is
    /// cancelled only when the grace period is over.
    /// </summary>
    public CancellationToken WorkerStopping { get; } = workerStopping;

    /// <summary>Queues one step (<see cref="TaskEventTypes.WorkerSteps"/>) for the server; steps are sent in batches.</summary>
    public ValueTask ReportAsync(TaskStep step, CancellationToken ct = default) => report(step, ct);

    /// <summary>Reports an <c>output</c> step: <c>{"stream": ..., "text": ...}</c>.</summary>
    public ValueTask ReportOutputAsync(string text, string stream = "stdout", CancellationToken ct = default) =>
        report(new TaskStep
        {
            Type = TaskEventTypes.Output,
            Data = JsonSerializer.SerializeToElement(new OutputData(stream, text), OutputJson),
        }, ct);

    /// <summary>Reports progress; renews the lease at once (do not call it more than a few times per second).</summary>
    public Task ProgressAsync(int? pct, string? message, CancellationToken ct = default) => progress(pct, message, ct);

    /// <summary>
    /// The directory to work in: the registered codebase the task names (by path), else the first registered codebase
    /// that is a directory; null when the worker has none.
    /// </summary>
    public string? ResolveWorkingDirectory()
    {
        var dirs = Codebases.Where(c => c != Shared.Contracts.CodebaseIds.Global && Path.IsPathFullyQualified(c) && Directory.Exists(c)).ToList();
        var named = dirs.FirstOrDefault(d => string.Equals(
            Path.TrimEndingDirectorySeparator(d), Path.TrimEndingDirectorySeparator(Task.CodebaseId), StringComparison.Ordinal));
        return named ?? dirs.FirstOrDefault();
    }

    private sealed record OutputData(string Stream, string Text);

    private static readonly JsonSerializerOptions OutputJson = Shared.Json.CodeTetherJson.Options;
}
