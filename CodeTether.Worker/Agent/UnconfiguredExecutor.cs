namespace CodeTether.Worker.Agent;

/// <summary>
/// The default until the LLM agent lands: fails every task with a clear reason instead of leaving it claimed.
/// </summary>
public sealed class UnconfiguredExecutor : ITaskExecutor
{
    public const string Error = "no LLM provider configured on this worker (see the worker issue)";

    public Task<TaskOutcome> ExecuteAsync(TaskContext ctx, CancellationToken ct) =>
        Task.FromResult(TaskOutcome.Failed(Error));
}
