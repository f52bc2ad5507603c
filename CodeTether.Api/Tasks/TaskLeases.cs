using System.Text.Json;
using CodeTether.Api.Persistence;
using CodeTether.Api.Workers;
using CodeTether.Shared.Contracts;
using CodeTether.Shared.Events;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace CodeTether.Api.Tasks;

/// <summary>
/// Claims, lease renewal, completion and lease expiry. Races are settled by one conditional UPDATE: <c>status</c>
/// and <c>fencing_token</c> are concurrency tokens, so a write based on a stale read affects no row and loses.
/// </summary>
public sealed class TaskLeases(CodeTetherDb db, Transactions tx, Auth.TenantContext tenant, IOptions<TaskOptions> options)
{
    public enum ClaimOutcome { Claimed, AlreadyHeld, NotFound, Taken, NotEligible }

    public sealed record ClaimResult(ClaimOutcome Outcome, AgentTask? Task);

    public async Task<ClaimResult> ClaimAsync(string taskId, string workerId, CancellationToken ct)
    {
        // Most losers of a race arrive after the winner committed: answer them from a plain read, without
        // queueing for the write lock. A task that is not claimable now was taken before this claim; the
        // conditional update below still settles every claim that does get through.
        var seen = await db.Tasks.AsNoTracking().Where(t => t.Id == taskId)
            .Select(t => new { t.Status, t.LeaseOwner }).FirstOrDefaultAsync(ct);
        if (seen is null) return new ClaimResult(ClaimOutcome.NotFound, null);
        if (!TaskStatuses.Claimable.Contains(seen.Status) && !(seen.LeaseOwner == workerId && TaskStatuses.Leased.Contains(seen.Status)))
            return new ClaimResult(ClaimOutcome.Taken, null);
        try
        {
            return await tx.RunAsync(async c =>
            {
                var task = await db.Tasks.FirstOrDefaultAsync(t => t.Id == taskId, ct);
                if (task is null) return new ClaimResult(ClaimOutcome.NotFound, null);
                if (task.LeaseOwner == workerId && TaskStatuses.Leased.Contains(task.Status))
                    return new ClaimResult(ClaimOutcome.AlreadyHeld, task);
                if (!TaskStatuses.Claimable.Contains(task.Status)) return new ClaimResult(ClaimOutcome.Taken, task);
                var worker = await db.Workers.AsNoTracking().FirstOrDefaultAsync(w => w.Id == workerId, ct);
                if (worker is null || !TaskRouting.IsEligible(WorkerProfile.Of(worker), task))
                    return new ClaimResult(ClaimOutcome.NotEligible, task);

                var from = task.Status;
                task.Status = TaskStatuses.Claimed;
                task.LeaseOwner = task.WorkerId = workerId;
                task.LeaseExpiresAt = c.Now + options.Value.LeaseDuration;
                task.FencingToken += 1;
                task.ClaimedAt = task.UpdatedAt = c.Now;
                c.AddTaskEvent(task, TaskEventTypes.Status, new { from, to = TaskStatuses.Claimed, fencing_token = task.FencingToken });
                return new ClaimResult(ClaimOutcome.Claimed, task);
            }, ct);
        }
        catch (DbUpdateConcurrencyException)
        {
            // Another claim committed first. If it was this worker's own (a retried request), that is success.
            db.ChangeTracker.Clear();
            var now = await db.Tasks.AsNoTracking().FirstOrDefaultAsync(t => t.Id == taskId, ct);
            return now is not null && now.LeaseOwner == workerId && TaskStatuses.Leased.Contains(now.Status)
                ? new ClaimResult(ClaimOutcome.AlreadyHeld, now)
                : new ClaimResult(ClaimOutcome.Taken, now);
        }
    }

    public enum LeaseOutcome { Ok, NotFound, NotHolder, Stale, CancelledMeanwhile }

    public sealed record LeaseResult(LeaseOutcome Outcome, AgentTask? Task);

    /// <summary>Renews the lease; the first renewal or step moves <c>claimed → running</c>.</summary>
    public Task<LeaseResult> HeartbeatAsync(string taskId, string workerId, long? fencingToken,
        int? progressPct, string? statusMessage, JsonElement? checkpoint, CancellationToken ct) =>
        WithLeaseAsync(taskId, workerId, fencingToken, (task, c) =>
        {
            if (progressPct is not null || statusMessage is not null || checkpoint is not null)
            {
                task.ProgressPct = progressPct ?? task.ProgressPct;
                task.StatusMessage = statusMessage ?? task.StatusMessage;
                if (checkpoint is { } cp) task.Checkpoint = cp.GetRawText();
                c.AddTaskEvent(task, TaskEventTypes.Progress, new { progress_pct = progressPct, status_message = statusMessage, checkpoint });
            }
            return Task.CompletedTask;
        }, ct);

    /// <summary>Records the agent's steps (output, tool calls, diffs...) and renews the lease.</summary>
    public Task<LeaseResult> AppendStepsAsync(string taskId, string workerId, long? fencingToken,
        IReadOnlyList<TaskStep> steps, CancellationToken ct) =>
        WithLeaseAsync(taskId, workerId, fencingToken, (task, c) =>
        {
            foreach (var s in steps)
            {
                c.AddTaskEvent(task, s.Type!, s.Data?.GetRawText());
                if (s.Type == TaskEventTypes.Progress && s.Data is { ValueKind: JsonValueKind.Object } d &&
                    d.TryGetProperty("progress_pct", out var p) && p.TryGetInt32(out var pct))
                    task.ProgressPct = pct;
            }
            return Task.CompletedTask;
        }, ct);

    async Task<LeaseResult> WithLeaseAsync(string taskId, string workerId, long? fencingToken,
        Func<AgentTask, Changes, Task> change, CancellationToken ct)
    {
        try
        {
            return await tx.RunAsync(async c =>
            {
                var task = await db.Tasks.FirstOrDefaultAsync(t => t.Id == taskId, ct);
                if (task is null) return new LeaseResult(LeaseOutcome.NotFound, null);
                if (task.LeaseOwner != workerId || !TaskStatuses.Leased.Contains(task.Status))
                    return new LeaseResult(LeaseOutcome.NotHolder, task);
                if (fencingToken is { } f && f != task.FencingToken) return new LeaseResult(LeaseOutcome.Stale, task);
                task.LeaseExpiresAt = c.Now + options.Value.LeaseDuration;
                task.UpdatedAt = c.Now;
                if (task.Status == TaskStatuses.Claimed)
                {
                    task.Status = TaskStatuses.Running;
                    task.StartedAt = c.Now;
                    c.AddTaskEvent(task, TaskEventTypes.Status, new { from = TaskStatuses.Claimed, to = TaskStatuses.Running });
                }
                await change(task, c);
                return new LeaseResult(LeaseOutcome.Ok, task);
            }, ct);
        }
        catch (DbUpdateConcurrencyException)
        {
            db.ChangeTracker.Clear();
            return new LeaseResult(LeaseOutcome.NotHolder, null);
        }
    }

    /// <summary>
    /// The agent needs the user: <c>claimed|running → input-required</c>. The worker gives the lease up (the task waits for a
    /// person, not for it); the answer resumes the task through <see cref="TaskLifecycle.ResumeAsync"/>.
    /// </summary>
    public async Task<LeaseResult> RequestInputAsync(string taskId, string workerId, long? fencingToken, string question, CancellationToken ct)
    {
        try
        {
            return await tx.RunAsync(async c =>
            {
                var task = await db.Tasks.FirstOrDefaultAsync(t => t.Id == taskId, ct);
                if (task is null) return new LeaseResult(LeaseOutcome.NotFound, null);
                if (task.LeaseOwner != workerId || task.Status is not (TaskStatuses.Claimed or TaskStatuses.Running))
                    return new LeaseResult(LeaseOutcome.NotHolder, task);
                if (fencingToken is { } f && f != task.FencingToken) return new LeaseResult(LeaseOutcome.Stale, task);
                var from = task.Status;
                task.Status = TaskStatuses.InputRequired;
                task.StatusMessage = question.Length > 2000 ? question[..2000] : question;
                task.LeaseOwner = null;
                task.LeaseExpiresAt = null;
                task.UpdatedAt = c.Now;
                c.AddTaskEvent(task, TaskEventTypes.Status, new { from, to = TaskStatuses.InputRequired, message = question }, workerId);
                return new LeaseResult(LeaseOutcome.Ok, task);
            }, ct);
        }
        catch (DbUpdateConcurrencyException)
        {
            db.ChangeTracker.Clear();
            return new LeaseResult(LeaseOutcome.NotHolder, null);
        }
    }

    /// <summary>
    /// The worker is done: completed, failed or cancelled. Only the lease holder may say so, with one exception:
    /// the worker that held a task when it was cancelled is told so on its stream and answers with a release as
    /// <c>cancelled</c>; that acknowledgement is accepted (<see cref="LeaseOutcome.Ok"/>) and changes nothing. Any
    /// other result it reports is refused with <see cref="LeaseOutcome.CancelledMeanwhile"/>.
    /// </summary>
    public async Task<LeaseResult> ReleaseAsync(string taskId, string workerId, long? fencingToken,
        string status, string? result, string? error, CancellationToken ct, bool requeue = false)
    {
        try
        {
            return await tx.RunAsync(async c =>
            {
                var task = await db.Tasks.FirstOrDefaultAsync(t => t.Id == taskId, ct);
                if (task is null) return new LeaseResult(LeaseOutcome.NotFound, null);
                if (task.Status == TaskStatuses.Cancelled && task.LeaseOwner is null && task.WorkerId == workerId)
                {
                    if (fencingToken is { } token && token != task.FencingToken) return new LeaseResult(LeaseOutcome.Stale, task);
                    return new LeaseResult(status == TaskStatuses.Cancelled ? LeaseOutcome.Ok : LeaseOutcome.CancelledMeanwhile, task);
                }
                if (task.LeaseOwner != workerId || !TaskStatuses.Leased.Contains(task.Status))
                    return new LeaseResult(LeaseOutcome.NotHolder, task);
                if (fencingToken is { } f && f != task.FencingToken) return new LeaseResult(LeaseOutcome.Stale, task);
                if (requeue && status == TaskStatuses.Failed)
                {
                    await RequeueAsync(task, c, $"worker {workerId} handed the task back: {error ?? "no reason given"}", "handed_back", ct);
                    return new LeaseResult(LeaseOutcome.Ok, task);
                }
                var from = task.Status;
                task.Status = status;
                task.Result = result;
                task.Error = status == TaskStatuses.Completed ? null : error ?? (status == TaskStatuses.Cancelled ? "cancelled by worker" : "failed without a reason");
                if (status == TaskStatuses.Completed) task.ProgressPct = 100;
                task.LeaseOwner = null;
                task.LeaseExpiresAt = null;
                task.CompletedAt = task.UpdatedAt = c.Now;
                c.AddTaskEvent(task, TaskEventTypes.Status, new { from, to = status, error = task.Error }, workerId);
                return new LeaseResult(LeaseOutcome.Ok, task);
            }, ct);
        }
        catch (DbUpdateConcurrencyException)
        {
            db.ChangeTracker.Clear();
            return new LeaseResult(LeaseOutcome.NotHolder, null);
        }
    }

    /// <summary>
    /// Back to the queue as a new attempt (routed if an eligible worker is online), or failed once the attempts are
    /// spent. The caller has checked the lease; the event names the holder and the reason.
    /// </summary>
    async Task RequeueAsync(AgentTask task, Changes c, string reason, string code, CancellationToken ct)
    {
        var from = task.Status;
        var holder = task.LeaseOwner;
        task.LeaseOwner = null;
        task.LeaseExpiresAt = null;
        task.UpdatedAt = c.Now;
        if (task.Attempt >= task.MaxAttempts)
        {
            task.Status = TaskStatuses.Failed;
            task.Error = $"{reason}; giving up after {task.Attempt} attempt(s)";
            task.CompletedAt = c.Now;
            c.AddTaskEvent(task, TaskEventTypes.Status, new { from, to = task.Status, reason = task.Error, code = "attempts_exhausted" }, holder);
            return;
        }
        task.Status = TaskStatuses.Submitted;
        task.Attempt += 1;
        task.ClaimedAt = task.StartedAt = null;
        c.AddTaskEvent(task, TaskEventTypes.Status, new { from, to = task.Status, reason, code }, holder);
        await TaskLifecycle.RouteIfAnyoneOnlineAsync(db, task, c, "requeued", ct);
    }

    /// <summary>
    /// Expired leases across all tenants: back to the queue with <c>attempt+1</c>, or failed once the
    /// attempts are spent. Returns how many tasks were touched.
    /// </summary>
    public async Task<int> ReapExpiredAsync(DateTimeOffset now, CancellationToken ct)
    {
        var expired = await db.Tasks.IgnoreQueryFilters().AsNoTracking()
            .Where(t => (t.Status == TaskStatuses.Claimed || t.Status == TaskStatuses.Running) && t.LeaseExpiresAt < now)
            .OrderBy(t => t.LeaseExpiresAt).Select(t => new { t.Id, t.TenantId }).Take(500).ToListAsync(ct);
        var touched = 0;
        var scopeTenant = tenant.TenantId;
        foreach (var e in expired)
        {
            db.ChangeTracker.Clear();
            tenant.TenantId = e.TenantId; // the unit of work is that tenant's: its write lock, its rows
            try
            {
                touched += await tx.RunAsync(async c =>
                {
                    var task = await db.Tasks.IgnoreQueryFilters().FirstOrDefaultAsync(t => t.Id == e.Id, ct);
                    if (task is null || task.LeaseExpiresAt >= c.Now || !(task.Status is TaskStatuses.Claimed or TaskStatuses.Running))
                        return 0;
                    var holder = task.LeaseOwner!;
                    await RequeueAsync(task, c, $"lease of worker {holder} expired during attempt {task.Attempt}", "lease_expired", ct);
                    return 1;
                }, ct);
            }
            catch (DbUpdateConcurrencyException)
            {
                // The worker renewed or released at the same moment: its write wins.
            }
        }
        db.ChangeTracker.Clear();
        tenant.TenantId = scopeTenant;
        return touched;
    }
}
