using System.Collections.Concurrent;
using CodeTether.Shared.Contracts;
using CodeTether.Shared.Events;
using CodeTether.Worker.Agent;
using CodeTether.Worker.Tests.Fakes;

namespace CodeTether.Worker.Tests.Agent;

public sealed class ShellExecutorTests : IDisposable
{
    private readonly TempDirectory _codebase = new();
    private readonly CancellationTokenSource _timeout = TestTimeout.Create();
    private readonly ConcurrentQueue<TaskStep> _steps = new();

    public void Dispose()
    {
        _codebase.Dispose();
        _timeout.Dispose();
    }

    private Task<TaskOutcome> RunAsync(string command, TimeSpan? timeout = null, CancellationToken? ct = null,
        IReadOnlyList<string>? codebases = null)
    {
        var ctx = TaskContexts.Create(FakeCodeTetherServer.NewTask("t-sh", command), codebases ?? [_codebase.Path], _steps);
        return new ShellExecutor(timeout ?? TimeSpan.FromMinutes(1)).ExecuteAsync(ctx, ct ?? _timeout.Token);
    }

    private IEnumerable<(string Stream, string Text)> Output =>
        _steps.Where(s => s.Type == TaskEventTypes.Output)
            .Select(s => (s.Data!.Value.GetProperty("stream").GetString()!, s.Data!.Value.GetProperty("text").GetString()!));

    [Fact]
    public async Task Execute_WhenTheCommandSucceeds_CompletesWithTheOutputTail_AndStreamsEveryLine()
    {
        var outcome = await RunAsync("echo hello; echo warning >&2; echo \"task=$CODETETHER_TASK_ID\"");

        Assert.Equal(TaskStatuses.Completed, outcome.Status);
        Assert.Null(outcome.Error);
        Assert.Contains("hello", outcome.Result, StringComparison.Ordinal);
        Assert.Contains("task=t-sh", outcome.Result, StringComparison.Ordinal);
        Assert.Contains(("stdout", "hello"), Output);
        Assert.Contains(("stderr", "warning"), Output);
    }

    [Fact]
    public async Task Execute_RunsInTheCodebaseDirectory()
    {
        var outcome = await RunAsync("pwd");

        Assert.Equal(TaskStatuses.Completed, outcome.Status);
        Assert.Equal(Path.GetFullPath(_codebase.Path), outcome.Result?.Trim());
    }

    [Fact]
    public async Task Execute_WhenTheCommandFails_FailsWithTheExitCode()
    {
        var outcome = await RunAsync("echo boom; exit 3");

        Assert.Equal(TaskStatuses.Failed, outcome.Status);
        Assert.Equal("command exited with code 3", outcome.Error);
        Assert.Equal("boom", outcome.Result);
    }

    [Fact]
    public async Task Execute_WhenTheCommandOutlivesTheTimeout_KillsItAndFails()
    {
        var outcome = await RunAsync("echo started; sleep 60; echo never", TimeSpan.FromMilliseconds(300));

        Assert.Equal(TaskStatuses.Failed, outcome.Status);
        Assert.StartsWith("timed out after", outcome.Error, StringComparison.Ordinal);
        Assert.Contains(("stdout", "started"), Output);
        Assert.DoesNotContain(("stdout", "never"), Output);
    }

    [Fact]
    public async Task Execute_WhenCancelled_KillsTheProcessAndThrows()
    {
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(_timeout.Token);
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var ctx = new TaskContext(FakeCodeTetherServer.NewTask("t-sh", "echo ready; sleep 60"), 1, [_codebase.Path],
            (step, _) =>
            {
                if (step.Data?.GetProperty("text").GetString() == "ready") ready.TrySetResult();
                return ValueTask.CompletedTask;
            },
            (_, _, _) => Task.CompletedTask);
        var run = new ShellExecutor(TimeSpan.FromMinutes(1)).ExecuteAsync(ctx, cancel.Token);

        await ready.Task.WaitAsync(_timeout.Token);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
    }

    [Fact]
    public async Task Execute_WithoutACodebaseDirectory_Fails()
    {
        var outcome = await RunAsync("true", codebases: [CodebaseIds.Global]);

        Assert.Equal(TaskStatuses.Failed, outcome.Status);
        Assert.Contains("no codebase directory", outcome.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Execute_PrefersTheCodebaseTheTaskNames()
    {
        using var other = new TempDirectory();
        var ctx = TaskContexts.Create(FakeCodeTetherServer.NewTask("t-sh", "pwd", codebaseId: other.Path),
            [_codebase.Path, other.Path], _steps);

        var outcome = await new ShellExecutor(TimeSpan.FromMinutes(1)).ExecuteAsync(ctx, _timeout.Token);

        Assert.Equal(other.Path, outcome.Result?.Trim());
    }
}
