using System.Text.Json.Nodes;
using CodeTether.Api.Codebases;
using CodeTether.Api.Persistence;
using CodeTether.Api.Workers;
using CodeTether.Shared.Contracts;
using CodeTether.Shared.Events;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace CodeTether.Api.Tasks;

/// <summary>Creating, cancelling and retrying tasks: the rules every entry point (REST, A2A, MCP, dashboard) shares.</summary>
public sealed class TaskLifecycle(CodeTetherDb db, Transactions tx, GroupCommit commits, IOptions<TaskOptions> options)
{
    public sealed record NewTask(
        string CodebaseId, string Prompt, string? Title, string? Agent, string? Model, int? Priority,
        JsonObject? Metadata, string? TargetWorkerId, string? SessionId, string? ParentTaskId = null, string? Id = null);

    /// <summary>A created task and the events recorded with it (ids set: they are committed).</summary>
    public sealed record Created(AgentTask Task, IReadOnlyList<TaskEvent> Events);

    /// <param name="alsoRecord">Events an entry point records with the creation, in the same transaction (A2A: the user's message).</param>
    public async Task<AgentTask> CreateAsync(NewTask n, CancellationToken ct, Action<AgentTask, Changes>? alsoRecord = null) =>
        (await CreateWithEventsAsync(n, ct, alsoRecord)).Task;

    /// <summary>
    /// Creates the task through <see cref="GroupCommit"/>: creations arriving together share one transaction, and the
    /// routing decision reads the tenant's online workers once per batch.
    /// </summary>
    public Task<Created> CreateWithEventsAsync(NewTask n, CancellationToken ct, Action<AgentTask, Changes>? alsoRecord = null)
    {
        // Built here, on the caller's thread: the batch's writer loop only adds and routes.
        var tenant = db.TenantId;
        var metadata = n.Metadata?.ToJsonString();
        return commits.RunAsync(tenant, async (b, c, stopping) =>
        {
            var task = new AgentTask
            {
                Id = n.Id ?? NewId(),
                TenantId = tenant,
                CodebaseId = n.CodebaseId,
                Title = string.IsNullOrWhiteSpace(n.Title) ? TitleFrom(n.Prompt) : n.Title.Trim(),
                Prompt = n.Prompt,
                Agent = string.IsNullOrWhiteSpace(n.Agent) ? AgentNames.Default : n.Agent.Trim(),
                Model = string.IsNullOrWhiteSpace(n.Model) ? null : n.Model.Trim(),
                Priority = n.Priority ?? 0,
                Status = TaskStatuses.Submitted,
                MaxAttempts = options.Value.MaxAttempts,
                TargetWorkerId = n.TargetWorkerId,
                SessionId = n.SessionId,
                ParentTaskId = n.ParentTaskId,
                Metadata = metadata,
                CreatedAt = c.Now,
                UpdatedAt = c.Now,
            };
            b.Db.Tasks.Add(task);
            alsoRecord?.Invoke(task, c);
            c.AddTaskEvent(task, TaskEventTypes.Status, new { from = (string?)null, to = TaskStatuses.Submitted });
            if ((await b.OnlineWorkersAsync(stopping)).Any(w => TaskRouting.IsEligible(w, task))) MarkRouted(task, c, null);
            return new Created(task, c.TaskEvents);
        }, ct);
    }

    /// <summary>
    /// The user answered a task waiting in <c>input-required</c>: it goes back to the queue (same attempt) with the answer
    /// as its prompt; the session keeps the conversation. Only <c>input-required</c> tasks can be resumed.
    /// </summary>
    public Task<(Outcome, AgentTask?)> ResumeAsync(string id, string prompt, CancellationToken ct, Action<AgentTask, Changes>? alsoRecord = null) =>
        tx.RunAsync(async c =>
        {
            var task = await db.Tasks.FirstOrDefaultAsync(t => t.Id == id, ct);
            if (task is null) return (Outcome.NotFound, (AgentTask?)null);
            if (task.Status != TaskStatuses.InputRequired) return (Outcome.InvalidState, task);
            alsoRecord?.Invoke(task, c);
            task.Status = TaskStatuses.Submitted;
            task.Prompt = prompt;
            task.StatusMessage = null;
            task.ClaimedAt = task.StartedAt = null;
            task.UpdatedAt = c.Now;
            c.AddTaskEvent(task, TaskEventTypes.Status, new { from = TaskStatuses.InputRequired, to = TaskStatuses.Submitted, reason = "input received" }, workerId: null);
            await RouteIfAnyoneOnlineAsync(task, c, ct);
            return (Outcome.Done, task);
        }, ct);

    /// <summary>
    /// <c>submitted → routed</c> when an eligible worker is online; otherwise the task waits visibly in
    /// <c>submitted</c> until one connects (<see cref="PromoteForWorkerAsync"/>).
    /// </summary>
    Task RouteIfAnyoneOnlineAsync(AgentTask task, Changes c, CancellationToken ct) => RouteIfAnyoneOnlineAsync(db, task, c, null, ct);

    /// <summary>Also for units of work that span tenants (the reaper): it looks at the task's own tenant.</summary>
    internal static async Task RouteIfAnyoneOnlineAsync(CodeTetherDb db, AgentTask task, Changes c, string? reason, CancellationToken ct)
    {
        if ((await OnlineWorkersAsync(db, task.TenantId, ct)).Any(w => TaskRouting.IsEligible(w, task)))
            MarkRouted(task, c, reason);
    }

    /// <summary>The profiles of a tenant's workers that are not offline (any tenant: the filter names it).</summary>
    internal static async Task<List<WorkerProfile>> OnlineWorkersAsync(CodeTetherDb db, string tenantId, CancellationToken ct) =>
        (await db.Workers.IgnoreQueryFilters().AsNoTracking()
            .Where(w => w.TenantId == tenantId && w.Status != WorkerStatuses.Offline).ToListAsync(ct))
        .Select(WorkerProfile.Of).ToList();

    internal static void MarkRouted(AgentTask task, Changes c, string? reason)
    {
        var from = task.Status;
        task.Status = TaskStatuses.Routed;
        task.RoutedAt = c.Now;
        task.UpdatedAt = c.Now;
        c.AddTaskEvent(task, TaskEventTypes.Status, new { from, to = TaskStatuses.Routed, reason });
    }

    /// <summary>A worker came online: the tasks waiting for someone like it are now routed.</summary>
    public Task<int> PromoteForWorkerAsync(WorkerProfile worker, CancellationToken ct) => tx.RunAsync(async c =>
    {
        var waiting = await db.Tasks.Where(t => t.Status == TaskStatuses.Submitted)
            .OrderByDescending(t => t.Priority).ThenBy(t => t.CreatedAt).Take(500).ToListAsync(ct);
        var promoted = 0;
        foreach (var t in waiting.Where(t => TaskRouting.IsEligible(worker, t)))
        {
            MarkRouted(t, c, reason: $"worker {worker.WorkerId} online");
            promoted++;
        }
        return promoted;
    }, ct);

    public enum Outcome { Done, NotFound, InvalidState }

    public async Task<(Outcome, AgentTask?)> CancelAsync(string id, string? reason, CancellationToken ct)
    {
        try
        {
            return await tx.RunAsync(async c =>
            {
                var task = await db.Tasks.FirstOrDefaultAsync(t => t.Id == id, ct);
                if (task is null) return (Outcome.NotFound, (AgentTask?)null);
                if (TaskStatuses.IsTerminal(task.Status)) return (Outcome.InvalidState, (AgentTask?)task);
                var from = task.Status;
                var holder = task.LeaseOwner;
                task.Status = TaskStatuses.Cancelled;
                task.Error = reason ?? "cancelled by user";
                task.CompletedAt = task.UpdatedAt = c.Now;
                task.LeaseOwner = null;
                task.LeaseExpiresAt = null;
                c.AddTaskEvent(task, TaskEventTypes.Status, new { from, to = TaskStatuses.Cancelled, reason = task.Error }, holder);
                return (Outcome.Done, (AgentTask?)task);
            }, ct);
        }
        catch (DbUpdateConcurrencyException)
        {
            // It changed under us (claimed, released): try once more on the new state.
            db.ChangeTracker.Clear();
            return await CancelAsync(id, reason, ct);
        }
    }

    /// <summary>A finished task runs again: a new attempt with a fresh retry budget.</summary>
    public Task<(Outcome, AgentTask?)> RetryAsync(string id, CancellationToken ct) => tx.RunAsync(async c =>
    {
        var task = await db.Tasks.FirstOrDefaultAsync(t => t.Id == id, ct);
        if (task is null) return (Outcome.NotFound, (AgentTask?)null);
        if (task.Status is not (TaskStatuses.Failed or TaskStatuses.Cancelled)) return (Outcome.InvalidState, task);
        var from = task.Status;
        task.Status = TaskStatuses.Submitted;
        task.Attempt += 1;
        task.MaxAttempts = task.Attempt + options.Value.MaxAttempts - 1;
        task.Result = task.Error = null;
        task.ProgressPct = null;
        task.StatusMessage = null;
        task.CompletedAt = task.ClaimedAt = task.StartedAt = null;
        task.UpdatedAt = c.Now;
        c.AddTaskEvent(task, TaskEventTypes.Status, new { from, to = TaskStatuses.Submitted, reason = "retry requested" }, workerId: null);
        await RouteIfAnyoneOnlineAsync(task, c, ct);
        return (Outcome.Done, task);
    }, ct);

    public static string NewId() => Guid.CreateVersion7().ToString("N");

    static string TitleFrom(string prompt)
    {
        var line = prompt.AsSpan().Trim();
        var nl = line.IndexOfAny('\r', '\n');
        if (nl >= 0) line = line[..nl];
        return line.Length <= 120 ? line.ToString() : string.Concat(line[..117], "...");
    }
}
