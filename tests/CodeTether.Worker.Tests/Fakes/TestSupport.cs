using System.Threading.Channels;
using System.Collections.Concurrent;
using CodeTether.Shared.Contracts;
using CodeTether.Worker.Agent;
using Microsoft.Extensions.Logging;

namespace CodeTether.Worker.Tests.Fakes;

/// <summary>A hang guard, not a timing assertion: every wait in these tests is for an event, bounded by this.</summary>
public static class TestTimeout
{
    public static CancellationTokenSource Create(int seconds = 30)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(TimeSpan.FromSeconds(seconds));
        return cts;
    }
}

/// <summary>A throw-away directory standing in for a codebase.</summary>
public sealed class TempDirectory : IDisposable
{
    public string Path { get; } = Directory.CreateDirectory(
        System.IO.Path.Combine(System.IO.Path.GetTempPath(), "ct-worker-" + Guid.NewGuid().ToString("N")[..8])).FullName;

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}

/// <summary>Collects formatted log lines; tests can await one that matches.</summary>
public sealed class CapturingLoggerProvider : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly List<(Func<string, bool> Match, TaskCompletionSource<string> Tcs)> _waiters = [];
    private readonly Lock _gate = new();

    public IReadOnlyCollection<string> Lines => _lines;

    public ILogger<T> CreateLogger<T>() => new Logger<T>(new LoggerFactory([this]));

    public ILogger CreateLogger(string categoryName) => new CapturingLogger(this);

    public Task<string> WaitForAsync(Func<string, bool> match, CancellationToken ct)
    {
        var tcs = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            var existing = _lines.FirstOrDefault(match);
            if (existing is not null) return Task.FromResult(existing);
            _waiters.Add((match, tcs));
        }
        return tcs.Task.WaitAsync(ct);
    }

    private void Add(string line)
    {
        lock (_gate)
        {
            _lines.Enqueue(line);
            foreach (var w in _waiters.Where(w => w.Match(line)).ToList())
            {
                _waiters.Remove(w);
                w.Tcs.TrySetResult(line);
            }
        }
    }

    public void Dispose()
    {
    }

    private sealed class CapturingLogger(CapturingLoggerProvider owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception,
            Func<TState, Exception?, string> formatter) =>
            owner.Add($"{logLevel}: {formatter(state, exception)}");
    }
}

/// <summary>An executor the test drives: it reports when it starts and runs until told to finish or cancelled.</summary>
public sealed class ControlledExecutor : ITaskExecutor
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource<TaskOutcome>> _finish = new();

    public Channel<TaskContext> Started { get; } = Channel.CreateUnbounded<TaskContext>();
    public Channel<string> Cancelled { get; } = Channel.CreateUnbounded<string>();

    /// <summary>When set, the executor completes on its own once the worker signals shutdown (stage one).</summary>
    public bool FinishOnWorkerStopping { get; init; }

    public void Finish(string taskId, TaskOutcome outcome) => Completion(taskId).TrySetResult(outcome);

    public async Task<TaskOutcome> ExecuteAsync(TaskContext ctx, CancellationToken ct)
    {
        var completion = Completion(ctx.Task.Id);
        await using var onStopping = FinishOnWorkerStopping
            ? ctx.WorkerStopping.Register(() => completion.TrySetResult(TaskOutcome.Completed("finished during grace")))
            : default(CancellationTokenRegistration);
        Started.Writer.TryWrite(ctx);
        try
        {
            return await completion.Task.WaitAsync(ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            Cancelled.Writer.TryWrite(ctx.Task.Id);
            throw;
        }
    }

    private TaskCompletionSource<TaskOutcome> Completion(string taskId) =>
        _finish.GetOrAdd(taskId, _ => new TaskCompletionSource<TaskOutcome>(TaskCreationOptions.RunContinuationsAsynchronously));
}

/// <summary>An executor that throws, to prove exceptions never escape a run.</summary>
public sealed class ThrowingExecutor : ITaskExecutor
{
    public Task<TaskOutcome> ExecuteAsync(TaskContext ctx, CancellationToken ct) =>
        throw new InvalidOperationException("executor exploded");
}

public static class TaskContexts
{
    /// <summary>A context outside a worker: steps go to <paramref name="steps"/>.</summary>
    public static TaskContext Create(TaskDto task, IReadOnlyList<string> codebases, ConcurrentQueue<TaskStep> steps) =>
        new(task, 1, codebases, (step, _) => { steps.Enqueue(step); return ValueTask.CompletedTask; },
            (_, _, _) => Task.CompletedTask);
}
