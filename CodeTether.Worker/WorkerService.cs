using System.Net;
using CodeTether.Shared.Client;
using CodeTether.Shared.Contracts;
using CodeTether.Worker.Agent;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CodeTether.Worker;

/// <summary>
/// The worker loop (STYLE.md B11): register → open the task stream → on <c>task_available</c> claim when there is
/// capacity (409 = lost race, move on) → run the <see cref="ITaskExecutor"/> with a renewed lease → release.
/// Shutdown has two stages: stop claiming and signal <see cref="TaskContext.WorkerStopping"/>; after
/// <see cref="WorkerOptions.Grace"/> cancel the executor and release the task as failed ("worker shutting down") so the
/// server requeues it.
/// </summary>
public sealed partial class WorkerService(
    CodeTetherClient client,
    ITaskExecutor executor,
    IOptions<WorkerOptions> options,
    ILogger<WorkerService> logger,
    IHostApplicationLifetime? lifetime = null,
    TimeProvider? time = null) : BackgroundService
{
    private readonly WorkerOptions _options = options.Value;
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly Dictionary<string, TaskRun> _runs = [];
    private readonly Lock _gate = new();
    private volatile bool _stopping;

    /// <summary>Ids of the tasks this worker is claiming or running.</summary>
    public IReadOnlyList<string> RunningTaskIds
    {
        get { lock (_gate) return [.. _runs.Keys]; }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        Log.Starting(logger, _options.WorkerId, _options.ServerUrl, _options.Executor, _options.Codebases.Count);
        using var loops = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        Task heartbeat = Task.CompletedTask;
        try
        {
            if (!await RegisterAsync(stoppingToken).ConfigureAwait(false)) return;
            heartbeat = HeartbeatLoopAsync(loops.Token);
            await foreach (var evt in client.StreamTasksAsync(stoppingToken).ConfigureAwait(false))
            {
                switch (evt)
                {
                    case TaskAvailableEvent available:
                        TryStart(available.Task);
                        break;
                    case TaskCancelledEvent cancelled:
                        CancelRun(cancelled.TaskId, cancelled.Reason);
                        break;
                    case WorkerConnectedEvent:
                        Log.Connected(logger, _options.WorkerId);
                        break;
                }
            }
        }
        catch (CodeTetherApiException ex) when (ex.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
        {
            Log.Unauthorized(logger, _options.WorkerId, (int)ex.StatusCode, ex.Title);
            Environment.ExitCode = 2;
            lifetime?.StopApplication();
        }
        finally
        {
            _stopping = true;
            await DrainAsync().ConfigureAwait(false);
            await loops.CancelAsync().ConfigureAwait(false);
            await heartbeat.ConfigureAwait(false);
            Log.Stopped(logger, _options.WorkerId);
        }
    }

    private async Task<bool> RegisterAsync(CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                var worker = await client.RegisterAsync(ct).ConfigureAwait(false);
                Log.Registered(logger, worker.WorkerId, worker.Codebases.Count);
                return true;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return false;
            }
            catch (CodeTetherApiException ex) when (ex.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            {
                throw;
            }
            catch (Exception ex)
            {
                var delay = TimeSpan.FromMilliseconds(Math.Min(_options.ReconnectMaxDelay.TotalMilliseconds,
                    _options.ReconnectBaseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt, 16))));
                Log.RegisterFailed(logger, _options.WorkerId, ex.Message, (long)delay.TotalMilliseconds);
                try
                {
                    await Task.Delay(delay, _time, ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return false;
                }
            }
        }
    }

    private void TryStart(TaskDto task)
    {
        TaskRun run;
        lock (_gate)
        {
            if (_stopping || _runs.ContainsKey(task.Id)) return;
            var working = WorkingCount();
            if (working >= _options.MaxConcurrent)
            {
                Log.AtCapacity(logger, task.Id, working);
                return;
            }
            run = new TaskRun(task, client, executor, _options, logger, _time);
            _runs.Add(task.Id, run);
        }
        run.Start();
        _ = ForgetWhenDoneAsync(run);
    }

    private async Task ForgetWhenDoneAsync(TaskRun run)
    {
        try
        {
            await run.Completion.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // TaskRun catches everything itself; this is a last line of defence for the process.
            Log.RunCrashed(logger, run.TaskId, ex);
        }
        bool idle;
        lock (_gate)
        {
            if (!_stopping) _runs.Remove(run.TaskId);
            idle = !_stopping && WorkingCount() < _options.MaxConcurrent;
        }
        if (!_stopping) run.Dispose();
        if (idle && run.Claimed) await PollPendingAsync(CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>Runs that occupy a slot (claiming or executing; not those only finishing their release). Under _gate.</summary>
    private int WorkingCount() => _runs.Values.Count(r => r.IsWorking);

    private void CancelRun(string taskId, string? reason)
    {
        TaskRun? run;
        lock (_gate) _runs.TryGetValue(taskId, out run);
        run?.Stop(StopReason.Server, reason ?? "cancelled by the server");
    }

    /// <summary>
    /// Polling fallback (DESIGN.md): when a slot frees up or on a heartbeat tick with capacity, ask for claimable tasks,
    /// in case an offer was made while this worker was busy or its stream was down.
    /// </summary>
    private async Task PollPendingAsync(CancellationToken ct)
    {
        int free;
        lock (_gate) free = _stopping ? 0 : _options.MaxConcurrent - WorkingCount();
        if (free <= 0) return;
        try
        {
            var page = await client.ListTasksAsync(TaskStatuses.Pending, limit: free, ct: ct).ConfigureAwait(false);
            foreach (var task in page.Tasks) TryStart(task);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            Log.PollFailed(logger, ex.Message);
        }
    }

    private async Task HeartbeatLoopAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(_options.HeartbeatInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                int running;
                lock (_gate) running = WorkingCount();
                try
                {
                    await client.HeartbeatAsync(running > 0 ? WorkerStatuses.Busy : WorkerStatuses.Online, ct)
                        .ConfigureAwait(false);
                }
                catch (CodeTetherApiException ex) when (ex.StatusCode == HttpStatusCode.NotFound)
                {
                    Log.Forgotten(logger, _options.WorkerId);
                    await TryReRegisterAsync(ct).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    Log.HeartbeatFailed(logger, _options.WorkerId, ex.Message);
                }
                await PollPendingAsync(ct).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // stopping
        }
    }

    private async Task TryReRegisterAsync(CancellationToken ct)
    {
        try
        {
            await client.RegisterAsync(ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.HeartbeatFailed(logger, _options.WorkerId, ex.Message);
        }
    }

    /// <summary>Shutdown: grace for running tasks, then cancel them, then release whatever still holds a lease.</summary>
    private async Task DrainAsync()
    {
        TaskRun[] runs;
        lock (_gate) runs = [.. _runs.Values];
        if (runs.Length == 0) return;

        Log.Draining(logger, runs.Length, _options.Grace.TotalSeconds);
        foreach (var run in runs) run.SignalStopping();
        var all = Task.WhenAll(runs.Select(r => r.Completion));
        if (!await CompletesWithinAsync(all, _options.Grace).ConfigureAwait(false))
        {
            foreach (var run in runs) run.Stop(StopReason.Shutdown, TaskRun.ShutdownError);
            if (!await CompletesWithinAsync(all, _options.CancelGrace).ConfigureAwait(false))
            {
                Log.ExecutorIgnoresCancellation(logger, runs.Length);
                await Task.WhenAll(runs.Select(r => r.ForceReleaseAsync())).ConfigureAwait(false);
            }
        }
        foreach (var run in runs.Where(r => r.Completion.IsCompleted)) run.Dispose();
    }

    private async Task<bool> CompletesWithinAsync(Task task, TimeSpan timeout)
    {
        try
        {
            await task.WaitAsync(timeout, _time).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
        catch (Exception)
        {
            return true; // completed (faulted); TaskRun logged it
        }
    }

    private static partial class Log
    {
        [LoggerMessage(300, LogLevel.Information,
            "Worker {WorkerId} starting against {ServerUrl} (executor {Executor}, {CodebaseCount} codebases)")]
        public static partial void Starting(ILogger logger, string workerId, Uri serverUrl, string executor, int codebaseCount);

        [LoggerMessage(301, LogLevel.Information, "Worker {WorkerId} registered ({CodebaseCount} codebases)")]
        public static partial void Registered(ILogger logger, string workerId, int codebaseCount);

        [LoggerMessage(302, LogLevel.Warning, "Registering worker {WorkerId} failed: {Reason}; retrying in {DelayMs} ms")]
        public static partial void RegisterFailed(ILogger logger, string workerId, string reason, long delayMs);

        [LoggerMessage(303, LogLevel.Debug, "Worker {WorkerId} connected to the task stream")]
        public static partial void Connected(ILogger logger, string workerId);

        [LoggerMessage(304, LogLevel.Information, "Skipping task {TaskId}: already running {Running} task(s)")]
        public static partial void AtCapacity(ILogger logger, string taskId, int running);

        [LoggerMessage(305, LogLevel.Critical,
            "Worker {WorkerId} was refused by the server (HTTP {StatusCode} {Title}); check the worker token. Stopping.")]
        public static partial void Unauthorized(ILogger logger, string workerId, int statusCode, string? title);

        [LoggerMessage(306, LogLevel.Warning, "Heartbeat of worker {WorkerId} failed: {Reason}")]
        public static partial void HeartbeatFailed(ILogger logger, string workerId, string reason);

        [LoggerMessage(307, LogLevel.Warning, "Server does not know worker {WorkerId} any more; registering again")]
        public static partial void Forgotten(ILogger logger, string workerId);

        [LoggerMessage(308, LogLevel.Information, "Shutting down: {Count} task(s) running, grace {GraceSeconds} s")]
        public static partial void Draining(ILogger logger, int count, double graceSeconds);

        [LoggerMessage(309, LogLevel.Warning, "{Count} executor(s) ignored cancellation; releasing their tasks anyway")]
        public static partial void ExecutorIgnoresCancellation(ILogger logger, int count);

        [LoggerMessage(310, LogLevel.Information, "Worker {WorkerId} stopped")]
        public static partial void Stopped(ILogger logger, string workerId);

        [LoggerMessage(311, LogLevel.Error, "Run of task {TaskId} crashed")]
        public static partial void RunCrashed(ILogger logger, string taskId, Exception exception);

        [LoggerMessage(312, LogLevel.Debug, "Polling for pending tasks failed: {Reason}")]
        public static partial void PollFailed(ILogger logger, string reason);
    }
}
