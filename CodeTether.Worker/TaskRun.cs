using System.Threading.Channels;
using CodeTether.Shared.Client;
using CodeTether.Shared.Contracts;
using CodeTether.Worker.Agent;
using Microsoft.Extensions.Logging;

namespace CodeTether.Worker;

/// <summary>Why a run was stopped before its executor finished on its own.</summary>
internal enum StopReason
{
    None,
    /// <summary>The server sent <c>task_cancelled</c>: release as <c>cancelled</c>.</summary>
    Server,
    /// <summary>The worker is shutting down and the grace is over: release as <c>failed</c> so the server requeues.</summary>
    Shutdown,
    /// <summary>The server refused our lease (404/409): the task is not ours any more, do not release.</summary>
    LeaseLost,
}

/// <summary>
/// One task on this worker, from claim to release: claims it, runs the executor with a renewed lease, forwards its steps
/// in batches, and releases it exactly once — whatever happens, a claimed task is never left behind by a live worker.
/// </summary>
internal sealed partial class TaskRun : IDisposable
{
    public const string ShutdownError = "worker shutting down";
    private const int MaxStepsPerBatch = 100;
    private static readonly TimeSpan ReleaseTimeout = TimeSpan.FromSeconds(30);

    private readonly CodeTetherClient _client;
    private readonly ITaskExecutor _executor;
    private readonly WorkerOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _cancel = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly Channel<TaskStep> _steps = Channel.CreateBounded<TaskStep>(
        new BoundedChannelOptions(1000) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    private readonly Lock _gate = new();
    private StopReason _reason;
    private string? _cancelMessage;
    private long _fencingToken;
    private int _released;
    private int _working = 1;
    private TaskContext? _context;

    public TaskRun(TaskDto offered, CodeTetherClient client, ITaskExecutor executor, WorkerOptions options, ILogger logger,
        TimeProvider time)
    {
        Offered = offered;
        _client = client;
        _executor = executor;
        _options = options;
        _logger = logger;
        _time = time;
    }

    public TaskDto Offered { get; }
    public string TaskId => Offered.Id;

    /// <summary>Set once the claim succeeded.</summary>
    public bool Claimed { get; private set; }

    /// <summary>
    /// True while the run occupies a slot: claiming or executing. It turns false before the release call, so the worker can
    /// take the next offer while the release is still in flight.
    /// </summary>
    public bool IsWorking => Volatile.Read(ref _working) == 1;

    /// <summary>Completes when the run is over (lost race, or released).</summary>
    public Task Completion { get; private set; } = Task.CompletedTask;

    public void Start() => Completion = RunAsync();

    /// <summary>Shutdown stage one: no new work, tell the executor through <see cref="TaskContext.WorkerStopping"/>.</summary>
    public void SignalStopping()
    {
        try { _stopping.Cancel(); } catch (ObjectDisposedException) { }
    }

    /// <summary>Cancels the executor; the first reason wins.</summary>
    public void Stop(StopReason reason, string? message = null)
    {
        lock (_gate)
        {
            if (_reason != StopReason.None) return;
            _reason = reason;
            _cancelMessage = message;
        }
        Log.Stopping(_logger, TaskId, reason.ToString(), message);
        try { _cancel.Cancel(); } catch (ObjectDisposedException) { }
    }

    private StopReason Reason
    {
        get { lock (_gate) return _reason; }
    }

    private async Task RunAsync()
    {
        try
        {
            await ClaimAndRunAsync().ConfigureAwait(false);
        }
        finally
        {
            Volatile.Write(ref _working, 0);
        }
    }

    private async Task ClaimAndRunAsync()
    {
        // Not tied to shutdown: a claim that succeeded server-side must be known here, so that it gets released.
        ClaimTaskResponse? claim;
        try
        {
            claim = await _client.ClaimAsync(TaskId, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Log.ClaimFailed(_logger, TaskId, ex.Message);
            return;
        }
        if (claim is null)
        {
            Log.LostRace(_logger, TaskId);
            return;
        }

        Claimed = true;
        Interlocked.Exchange(ref _fencingToken, claim.FencingToken);
        var task = claim.Task;
        using var scope = _logger.BeginScope(new Dictionary<string, object> { ["TaskId"] = task.Id });
        Log.Claimed(_logger, task.Id, claim.FencingToken, task.Attempt);

        if (Reason != StopReason.None)
        {
            await ReleaseOnceAsync(ReleaseFor(TaskOutcome.Failed(ShutdownError))).ConfigureAwait(false);
            return;
        }

        _context = new TaskContext(task, claim.FencingToken, _options.Codebases, ReportAsync, ProgressAsync, _stopping.Token);
        var flusher = FlushStepsAsync();
        using var leaseLoop = new CancellationTokenSource();
        var renewer = RenewLeaseLoopAsync(leaseLoop.Token);

        TaskOutcome outcome;
        try
        {
            outcome = await _executor.ExecuteAsync(_context, _cancel.Token).ConfigureAwait(false)
                ?? TaskOutcome.Failed("executor returned no outcome");
        }
        catch (OperationCanceledException) when (_cancel.IsCancellationRequested)
        {
            outcome = TaskOutcome.Failed("cancelled");
        }
        catch (Exception ex)
        {
            Log.ExecutorFailed(_logger, task.Id, ex);
            outcome = TaskOutcome.Failed($"{ex.GetType().Name}: {ex.Message}");
        }

        _steps.Writer.TryComplete();
        await flusher.ConfigureAwait(false);
        await leaseLoop.CancelAsync().ConfigureAwait(false);
        await renewer.ConfigureAwait(false);

        if (Reason == StopReason.LeaseLost)
        {
            Log.NotReleasingLostLease(_logger, task.Id);
            return;
        }
        if (outcome.IsInputRequired && Reason is StopReason.None or StopReason.Shutdown)
        {
            await RequestInputOnceAsync(outcome).ConfigureAwait(false);
            return;
        }
        await ReleaseOnceAsync(ReleaseFor(outcome)).ConfigureAwait(false);
    }

    /// <summary>
    /// The executor waits for the user: <c>input-required</c> with the question (the server frees the lease; the answer
    /// resumes the task). A server that cannot take it gets the task released as failed with the question, never left claimed.
    /// </summary>
    private async Task RequestInputOnceAsync(TaskOutcome outcome)
    {
        var question = string.IsNullOrWhiteSpace(outcome.Question) ? "the agent needs input" : outcome.Question;
        if (Interlocked.Exchange(ref _released, 1) == 1) return;
        Volatile.Write(ref _working, 0);
        using var timeout = new CancellationTokenSource(ReleaseTimeout, _time);
        try
        {
            await _client.RequestInputAsync(TaskId, Interlocked.Read(ref _fencingToken), question, timeout.Token).ConfigureAwait(false);
            Log.InputRequested(_logger, TaskId, question.Length > 200 ? question[..200] + "…" : question);
            return;
        }
        catch (LeaseLostException)
        {
            Log.ReleaseRefused(_logger, TaskId, TaskStatuses.InputRequired);
            return;
        }
        catch (Exception ex)
        {
            Log.RequestInputFailed(_logger, TaskId, ex.Message);
        }
        Interlocked.Exchange(ref _released, 0);
        await ReleaseOnceAsync((TaskStatuses.Failed, outcome.Result, $"input required: {question} (asking the server failed)")).ConfigureAwait(false);
    }

    private (string Status, string? Result, string? Error) ReleaseFor(TaskOutcome outcome)
    {
        string? message;
        StopReason reason;
        lock (_gate)
        {
            reason = _reason;
            message = _cancelMessage;
        }
        return reason switch
        {
            StopReason.Server => (TaskStatuses.Cancelled, outcome.Result, message ?? "cancelled"),
            StopReason.Shutdown when !outcome.IsCompleted => (TaskStatuses.Failed, outcome.Result, ShutdownError),
            _ => (outcome.Status, outcome.Result, outcome.Error),
        };
    }

    /// <summary>Used by shutdown when the executor ignores cancellation: releases without waiting for it.</summary>
    public Task ForceReleaseAsync() =>
        Claimed && Reason != StopReason.LeaseLost
            ? ReleaseOnceAsync((TaskStatuses.Failed, null, ShutdownError))
            : Task.CompletedTask;

    private async Task ReleaseOnceAsync((string Status, string? Result, string? Error) release)
    {
        if (Interlocked.Exchange(ref _released, 1) == 1) return;
        Volatile.Write(ref _working, 0);
        using var timeout = new CancellationTokenSource(ReleaseTimeout, _time);
        try
        {
            await _client.ReleaseAsync(TaskId, Interlocked.Read(ref _fencingToken), release.Status, release.Result,
                release.Error, timeout.Token, requeue: release.Error == ShutdownError).ConfigureAwait(false);
            Log.Released(_logger, TaskId, release.Status, release.Error);
        }
        catch (LeaseLostException)
        {
            Log.ReleaseRefused(_logger, TaskId, release.Status);
        }
        catch (Exception ex)
        {
            // The lease will expire and the server requeues the task: nothing is lost.
            Log.ReleaseFailed(_logger, TaskId, release.Status, ex.Message);
        }
    }

    private async ValueTask ReportAsync(TaskStep step, CancellationToken ct)
    {
        if (_steps.Writer.TryWrite(step)) return;
        try
        {
            await _steps.Writer.WriteAsync(step, ct).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            // the run is over; late steps are dropped
        }
    }

    private async Task ProgressAsync(int? pct, string? message, CancellationToken ct)
    {
        try
        {
            await RenewAsync(pct, message, ct).ConfigureAwait(false);
        }
        catch (LeaseLostException ex)
        {
            Stop(StopReason.LeaseLost, ex.Message);
        }
    }

    private async Task RenewAsync(int? pct, string? message, CancellationToken ct)
    {
        var lease = await _client.RenewLeaseAsync(TaskId, Interlocked.Read(ref _fencingToken), pct, message, ct: ct)
            .ConfigureAwait(false);
        if (lease.FencingToken != 0)
        {
            Interlocked.Exchange(ref _fencingToken, lease.FencingToken);
            if (_context is not null) _context.FencingToken = lease.FencingToken;
        }
    }

    private async Task RenewLeaseLoopAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(_options.LeaseRenewInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                try
                {
                    await RenewAsync(null, null, ct).ConfigureAwait(false);
                }
                catch (LeaseLostException ex)
                {
                    Stop(StopReason.LeaseLost, ex.Message);
                    return;
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    Log.RenewFailed(_logger, TaskId, ex.Message);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // run finished
        }
    }

    private async Task FlushStepsAsync()
    {
        var reader = _steps.Reader;
        var batch = new List<TaskStep>(MaxStepsPerBatch);
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            while (batch.Count < MaxStepsPerBatch && reader.TryRead(out var step)) batch.Add(step);
            if (batch.Count == 0 || Reason == StopReason.LeaseLost) continue;
            try
            {
                await _client.PostStepsAsync(TaskId, Interlocked.Read(ref _fencingToken), batch.ToArray(), CancellationToken.None)
                    .ConfigureAwait(false);
            }
            catch (LeaseLostException ex)
            {
                Stop(StopReason.LeaseLost, ex.Message);
            }
            catch (Exception ex)
            {
                Log.StepsFailed(_logger, TaskId, batch.Count, ex.Message);
            }
        }
    }

    public void Dispose()
    {
        _cancel.Dispose();
        _stopping.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(200, LogLevel.Information, "Claimed task {TaskId} (fencing token {FencingToken}, attempt {Attempt})")]
        public static partial void Claimed(ILogger logger, string taskId, long fencingToken, int attempt);

        [LoggerMessage(201, LogLevel.Information, "Task {TaskId} was claimed by another worker")]
        public static partial void LostRace(ILogger logger, string taskId);

        [LoggerMessage(202, LogLevel.Warning, "Claiming task {TaskId} failed: {Reason}")]
        public static partial void ClaimFailed(ILogger logger, string taskId, string reason);

        [LoggerMessage(203, LogLevel.Error, "Executor failed on task {TaskId}")]
        public static partial void ExecutorFailed(ILogger logger, string taskId, Exception exception);

        [LoggerMessage(204, LogLevel.Information, "Released task {TaskId} as {Status} {Error}")]
        public static partial void Released(ILogger logger, string taskId, string status, string? error);

        [LoggerMessage(205, LogLevel.Information, "Server refused releasing task {TaskId} as {Status}: it is no longer ours")]
        public static partial void ReleaseRefused(ILogger logger, string taskId, string status);

        [LoggerMessage(206, LogLevel.Warning, "Releasing task {TaskId} as {Status} failed (the lease will expire): {Reason}")]
        public static partial void ReleaseFailed(ILogger logger, string taskId, string status, string reason);

        [LoggerMessage(207, LogLevel.Warning, "Renewing the lease of task {TaskId} failed: {Reason}")]
        public static partial void RenewFailed(ILogger logger, string taskId, string reason);

        [LoggerMessage(208, LogLevel.Warning, "Posting {Count} steps of task {TaskId} failed: {Reason}")]
        public static partial void StepsFailed(ILogger logger, string taskId, int count, string reason);

        [LoggerMessage(209, LogLevel.Information, "Stopping task {TaskId} ({Reason}): {Message}")]
        public static partial void Stopping(ILogger logger, string taskId, string reason, string? message);

        [LoggerMessage(210, LogLevel.Warning, "Lease of task {TaskId} lost; not releasing it")]
        public static partial void NotReleasingLostLease(ILogger logger, string taskId);

        [LoggerMessage(211, LogLevel.Information, "Task {TaskId} waits for input: {Question}")]
        public static partial void InputRequested(ILogger logger, string taskId, string question);

        [LoggerMessage(212, LogLevel.Warning, "Moving task {TaskId} to input-required failed ({Reason}); releasing it as failed")]
        public static partial void RequestInputFailed(ILogger logger, string taskId, string reason);
    }
}
