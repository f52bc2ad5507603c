using System.Collections.Concurrent;
using CodeTether.Api.Auth;
using CodeTether.Api.Persistence;
using CodeTether.Api.Realtime;
using CodeTether.Api.Tasks;
using CodeTether.Shared.Contracts;
using CodeTether.Shared.Events;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace CodeTether.Api.Workers;

/// <summary>
/// Push, not poll: offers claimable tasks to the eligible workers connected to this host. An offer goes to one
/// idle worker first; if nobody claims it within <see cref="TaskOptions.OfferWindow"/>, every eligible worker gets
/// it. Claims settle who wins, so several hosts offering the same task is harmless.
/// </summary>
public sealed partial class Dispatcher(
    IEventBus bus, WorkerConnections connections, IServiceScopeFactory scopes, TimeProvider clock,
    IOptions<TaskOptions> options, ILogger<Dispatcher> log) : BackgroundService
{
    /// <summary>task id → when it was last offered; one change often publishes several events (submitted + routed).</summary>
    readonly ConcurrentDictionary<string, long> _offered = new();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var sub = bus.Subscribe(e => e.Task is { Type: TaskEventTypes.Status });
        using var sweep = new PeriodicTimer(options.Value.ReofferAfter / 2, clock);
        var sweeping = SweepLoopAsync(sweep, stoppingToken);
        try
        {
            await foreach (var e in sub.Reader.ReadAllAsync(stoppingToken))
            {
                try { await OnStatusAsync(e.TenantId, e.Task!, stoppingToken); }
                catch (Exception ex) when (ex is not OperationCanceledException) { Log.DispatchFailed(log, e.Task!.TaskId, ex); }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
        await sweeping;
    }

    async Task OnStatusAsync(string tenant, TaskEventDto e, CancellationToken ct)
    {
        switch (e.Status)
        {
            case TaskStatuses.Submitted or TaskStatuses.Routed:
                if (connections.Of(tenant).Any()) await OfferAsync(tenant, e.TaskId, ct);
                break;
            case TaskStatuses.Claimed:
                foreach (var c in connections.Of(tenant, e.WorkerId ?? "")) c.CurrentTaskId = e.TaskId;
                break;
            case TaskStatuses.Cancelled or TaskStatuses.Completed or TaskStatuses.Failed or TaskStatuses.InputRequired:
                if (e.WorkerId is null) break;
                foreach (var c in connections.Of(tenant, e.WorkerId))
                {
                    // The event names the worker that held the task (none when it was not claimed). Tell it whatever it
                    // holds besides: the connection's current task is only the one it claimed last.
                    if (e.Status == TaskStatuses.Cancelled)
                        c.Send(SseItems.Json(WorkerStreamEvents.TaskCancelled, new { task_id = e.TaskId, reason = ReasonOf(e) ?? "cancelled" }));
                    if (c.CurrentTaskId == e.TaskId) c.CurrentTaskId = null;
                    await OfferNextAsync(c, ct);
                }
                break;
        }
    }

    static string? ReasonOf(TaskEventDto e) =>
        e.Data is { ValueKind: System.Text.Json.JsonValueKind.Object } d && d.TryGetProperty("reason", out var r) &&
        r.ValueKind == System.Text.Json.JsonValueKind.String ? r.GetString() : null;

    /// <summary>A worker connected: route what waited for it, then offer it work.</summary>
    public async Task WorkerConnectedAsync(WorkerConnection c, CancellationToken ct)
    {
        await using var scope = scopes.CreateTenantScope(c.TenantId);
        await scope.ServiceProvider.GetRequiredService<TaskLifecycle>().PromoteForWorkerAsync(c.Profile, ct);
        await OfferNextAsync(c, ct);
    }

    async Task OfferAsync(string tenant, string taskId, CancellationToken ct)
    {
        await using var scope = scopes.CreateTenantScope(tenant);
        var db = scope.ServiceProvider.GetRequiredService<CodeTetherDb>();
        var task = await db.Tasks.AsNoTracking().FirstOrDefaultAsync(t => t.Id == taskId, ct);
        if (task is null || !TaskStatuses.Claimable.Contains(task.Status)) return;
        if (_offered.TryGetValue(taskId, out var at) && clock.GetElapsedTime(at) < options.Value.OfferWindow) return;

        var eligible = connections.Of(tenant).Where(c => TaskRouting.IsEligible(c.Profile, task)).ToList();
        if (eligible.Count == 0) return;
        var offer = SseItems.Json(WorkerStreamEvents.TaskAvailable, task.ToDto());
        _offered[taskId] = clock.GetTimestamp();
        var idle = eligible.Where(c => c.CurrentTaskId is null).MinBy(c => Interlocked.Read(ref c.LastOfferTicks));
        if (idle is null)
        {
            foreach (var c in eligible) c.Send(offer);
            return;
        }
        Interlocked.Exchange(ref idle.LastOfferTicks, clock.GetTimestamp());
        idle.Send(offer);
        if (eligible.Count > 1) _ = WidenAfterWindowAsync(tenant, taskId, idle, ct);
    }

    async Task WidenAfterWindowAsync(string tenant, string taskId, WorkerConnection first, CancellationToken ct)
    {
        try
        {
            await Task.Delay(options.Value.OfferWindow, clock, ct);
            await using var scope = scopes.CreateTenantScope(tenant);
            var db = scope.ServiceProvider.GetRequiredService<CodeTetherDb>();
            var task = await db.Tasks.AsNoTracking().FirstOrDefaultAsync(t => t.Id == taskId, ct);
            if (task is null || !TaskStatuses.Claimable.Contains(task.Status)) return;
            var offer = SseItems.Json(WorkerStreamEvents.TaskAvailable, task.ToDto());
            foreach (var c in connections.Of(tenant).Where(c => c != first && TaskRouting.IsEligible(c.Profile, task)))
                c.Send(offer);
        }
        catch (OperationCanceledException) { }
        catch (Exception ex) { Log.DispatchFailed(log, taskId, ex); }
    }

    /// <summary>Offers the best few claimable tasks this worker may take (it claims the first it can).</summary>
    async Task OfferNextAsync(WorkerConnection c, CancellationToken ct, DateTimeOffset? waitingSince = null)
    {
        if (c.CurrentTaskId is not null) return;
        await using var scope = scopes.CreateTenantScope(c.TenantId);
        var db = scope.ServiceProvider.GetRequiredService<CodeTetherDb>();
        var before = waitingSince ?? DateTimeOffset.MaxValue;
        var candidates = await db.Tasks.AsNoTracking()
            .Where(t => (t.Status == TaskStatuses.Submitted || t.Status == TaskStatuses.Routed) && t.UpdatedAt < before)
            .OrderByDescending(t => t.Priority).ThenBy(t => t.CreatedAt).Take(200).ToListAsync(ct);
        foreach (var t in candidates.Where(t => TaskRouting.IsEligible(c.Profile, t)).Take(3))
        {
            _offered[t.Id] = clock.GetTimestamp();
            c.Send(SseItems.Json(WorkerStreamEvents.TaskAvailable, t.ToDto()));
        }
        Interlocked.Exchange(ref c.LastOfferTicks, clock.GetTimestamp());
    }

    /// <summary>The safety net: idle connected workers are offered work that has waited a while.</summary>
    async Task SweepLoopAsync(PeriodicTimer timer, CancellationToken ct)
    {
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
            {
                foreach (var (id, at) in _offered)
                    if (clock.GetElapsedTime(at) > options.Value.ReofferAfter) _offered.TryRemove(id, out _);
                foreach (var c in AllIdle())
                {
                    try { await OfferNextAsync(c, ct, clock.GetUtcNow() - options.Value.ReofferAfter); }
                    catch (Exception ex) when (ex is not OperationCanceledException) { Log.DispatchFailed(log, "(sweep)", ex); }
                }
            }
        }
        catch (OperationCanceledException) { }
    }

    IEnumerable<WorkerConnection> AllIdle() => connections.All().Where(c => c.CurrentTaskId is null).ToList();

    static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Dispatching task {TaskId} failed")]
        public static partial void DispatchFailed(ILogger logger, string taskId, Exception ex);
    }
}
