using CodeTether.Api.Auth;
using CodeTether.Api.Codebases;
using CodeTether.Api.Hosting;
using CodeTether.Api.Persistence;
using CodeTether.Api.Realtime;
using CodeTether.Api.Workers;
using CodeTether.Shared.Contracts;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace CodeTether.Api.Tasks;

public static class TasksEndpoints
{
    public static IEndpointRouteBuilder MapTasks(this IEndpointRouteBuilder app)
    {
        var tasks = app.MapGroup("/v1/agent/tasks").WithTags("Tasks");
        tasks.MapPost("", Create).RequirePermission(Permission.TasksWrite).WithName("CreateTask");
        tasks.MapGet("", List).RequirePermission(Permission.TasksRead).WithName("ListTasks");
        tasks.MapGet("/{taskId}", Get).RequirePermission(Permission.TasksRead).WithName("GetTask");
        tasks.MapPost("/{taskId}/cancel", Cancel).RequirePermission(Permission.TasksWrite).WithName("CancelTask");
        tasks.MapPost("/{taskId}/resume", Resume).RequirePermission(Permission.TasksWrite).WithName("ResumeTask");
        tasks.MapPost("/{taskId}/retry", Retry).RequirePermission(Permission.TasksWrite).WithName("RetryTask");
        tasks.MapGet("/{taskId}/events", Events).RequirePermission(Permission.TasksRead).WithName("TaskEvents");
        return app;
    }

    /// <summary>Shared by <c>POST /v1/agent/tasks</c> and <c>POST /v1/agent/codebases/{id}/trigger</c>.</summary>
    internal static async Task<Results<Accepted<TaskDto>, ProblemHttpResult, ValidationProblem>> Submit(
        string codebaseId, TriggerTaskRequest r, TaskLifecycle lifecycle, TaskOptions options, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(r.Prompt)) errors["prompt"] = ["prompt is required."];
        else if (r.Prompt.Length > options.MaxPromptLength) errors["prompt"] = [$"prompt must be at most {options.MaxPromptLength} characters."];
        if (r.Title is { Length: > 500 }) errors["title"] = ["title must be at most 500 characters."];
        if (r.Agent is { Length: > 64 }) errors["agent"] = ["agent must be at most 64 characters."];
        if (r.Model is { Length: > 200 }) errors["model"] = ["model must be at most 200 characters."];
        if (r.Priority is < -1000 or > 1000) errors["priority"] = ["priority must be between -1000 and 1000."];
        if (r.TargetWorkerId is { Length: > 200 }) errors["target_worker_id"] = ["target_worker_id must be at most 200 characters."];
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors, title: "Invalid task");

        var task = await lifecycle.CreateAsync(new(codebaseId, r.Prompt!, r.Title, r.Agent, r.Model, r.Priority,
            r.Metadata, r.TargetWorkerId, r.SessionId), ct);
        return TypedResults.Accepted($"/v1/agent/tasks/{task.Id}", task.ToDto());
    }

    static async Task<Results<Accepted<TaskDto>, ProblemHttpResult, ValidationProblem>> Create(
        CreateTaskRequest body, CodeTetherDb db, TaskLifecycle lifecycle, IOptions<TaskOptions> options, CancellationToken ct)
    {
        var id = body.CodebaseId ?? body.WorkspaceId;
        if (id is null or CodebaseIds.Global && body.CodebasePath is { } path)
        {
            if (CodebasePaths.Validate(path) is { } why) return Problems.Invalid("codebase_path: " + why);
            var normalized = CodebasePaths.Normalize(path);
            var found = await db.Codebases.AsNoTracking().Where(c => c.Path == normalized).Select(c => c.Id).FirstOrDefaultAsync(ct);
            if (found is null) return Problems.NotFound("Codebase", normalized);
            id = found;
        }
        id ??= CodebaseIds.Global;
        if (id != CodebaseIds.Global && !await db.Codebases.AnyAsync(c => c.Id == id, ct)) return Problems.NotFound("Codebase", id);
        return await Submit(id, body.ToTrigger(), lifecycle, options.Value, ct);
    }

    static async Task<Results<Ok<TaskPage>, ProblemHttpResult>> List(
        HttpRequest req, CodeTetherDb db, string? status, string? codebase_id, string? workspace_id, string? worker_id,
        int? limit, string? cursor, CancellationToken ct)
    {
        var take = limit ?? 50;
        if (take is < 1 or > 500) return Problems.Invalid("limit must be between 1 and 500.");
        if (status is not null && !TaskStatuses.IsKnown(status))
            return Problems.Invalid($"status must be one of: {string.Join(", ", TaskStatuses.All)}, pending.");

        var q = db.Tasks.AsNoTracking();
        var codebase = codebase_id ?? workspace_id;
        if (codebase is not null) q = q.Where(t => t.CodebaseId == codebase);
        // For the polling fallback (status=pending) worker_id names the asker (WorkerIdentity), not a holder to filter on:
        // pending tasks have no holder, so filtering would hide every task from a seed worker that polls with ?worker_id=.
        if (worker_id is not null && status != TaskStatuses.Pending) q = q.Where(t => t.WorkerId == worker_id);
        if (status == TaskStatuses.Pending) q = q.Where(t => t.Status == TaskStatuses.Submitted || t.Status == TaskStatuses.Routed);
        else if (status is not null) q = q.Where(t => t.Status == status);
        if (cursor is not null)
        {
            // Keyset paging, newest first: (created_at, id) of the last task of the previous page.
            if (!TryParseCursor(cursor, out var at, out var afterId)) return Problems.Invalid("cursor is not one this API returned.");
            q = q.Where(t => t.CreatedAt < at || (t.CreatedAt == at && string.Compare(t.Id, afterId) < 0));
        }
        var rows = await q.OrderByDescending(t => t.CreatedAt).ThenByDescending(t => t.Id).Take(take + 1).ToListAsync(ct);
        var next = rows.Count > take ? Cursor(rows[take - 1]) : null;
        rows = rows.Take(take).ToList();

        // The polling fallback: a worker asking for pending work sees only what it may claim.
        if (status == TaskStatuses.Pending && WorkerIdentity.Resolve(req, null) is { } asker &&
            await db.Workers.AsNoTracking().FirstOrDefaultAsync(w => w.Id == asker, ct) is { } worker)
            rows = rows.Where(t => TaskRouting.IsEligible(WorkerProfile.Of(worker), t)).ToList();

        return TypedResults.Ok(new TaskPage(rows.Select(t => t.ToDto()).ToList(), next));
    }

    static string Cursor(AgentTask t) => $"{t.CreatedAt.UtcTicks}.{t.Id}";

    static bool TryParseCursor(string cursor, out DateTimeOffset at, out string id)
    {
        at = default;
        id = "";
        var dot = cursor.IndexOf('.');
        if (dot <= 0 || !long.TryParse(cursor.AsSpan(0, dot), out var ticks) || ticks < 0 || ticks > DateTimeOffset.MaxValue.UtcTicks) return false;
        at = new DateTimeOffset(ticks, TimeSpan.Zero);
        id = cursor[(dot + 1)..];
        return id.Length is > 0 and <= 64;
    }

    static async Task<Results<Ok<TaskDetailDto>, ProblemHttpResult>> Get(string taskId, CodeTetherDb db, CancellationToken ct)
    {
        var task = await db.Tasks.AsNoTracking().FirstOrDefaultAsync(t => t.Id == taskId, ct);
        if (task is null) return Problems.NotFound("Task", taskId);
        var timeline = await db.TaskEvents.AsNoTracking()
            .Where(e => e.TaskId == taskId && e.Type == Shared.Events.TaskEventTypes.Status)
            .OrderBy(e => e.Position).ToListAsync(ct);
        return TypedResults.Ok(new TaskDetailDto { Task = task.ToDto(), Timeline = timeline.Select(e => e.ToDto()).ToList() });
    }

    static async Task<Results<Ok<TaskDto>, ProblemHttpResult>> Cancel(
        string taskId, [FromBody] CancelTaskRequest? body, TaskLifecycle lifecycle, CancellationToken ct)
    {
        // The body is optional; binding it (rather than reading it by hand) gives malformed JSON a 400 and a
        // non-JSON content type a 415 instead of an unhandled exception.
        var reason = body?.Reason;
        if (reason is { Length: > 2000 }) return Problems.Invalid("reason must be at most 2000 characters.");
        var (outcome, task) = await lifecycle.CancelAsync(taskId, reason, ct);
        return outcome switch
        {
            TaskLifecycle.Outcome.Done => TypedResults.Ok(task!.ToDto()),
            TaskLifecycle.Outcome.NotFound => Problems.NotFound("Task", taskId),
            _ => Problems.InvalidState(taskId, task!.Status, "cancelled"),
        };
    }

    static async Task<Results<Ok<TaskDto>, ProblemHttpResult>> Resume(
        string taskId, ResumeTaskRequest body, TaskLifecycle lifecycle, IOptions<TaskOptions> options, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(body.Prompt)) return Problems.Invalid("prompt (the answer) is required.");
        if (body.Prompt.Length > options.Value.MaxPromptLength) return Problems.Invalid($"prompt must be at most {options.Value.MaxPromptLength} characters.");
        var (outcome, task) = await lifecycle.ResumeAsync(taskId, body.Prompt, ct);
        return outcome switch
        {
            TaskLifecycle.Outcome.Done => TypedResults.Ok(task!.ToDto()),
            TaskLifecycle.Outcome.NotFound => Problems.NotFound("Task", taskId),
            _ => Problems.InvalidState(taskId, task!.Status, "resumed (only tasks in input-required can be)"),
        };
    }

    static async Task<Results<Ok<TaskDto>, ProblemHttpResult>> Retry(string taskId, TaskLifecycle lifecycle, CancellationToken ct)
    {
        var (outcome, task) = await lifecycle.RetryAsync(taskId, ct);
        return outcome switch
        {
            TaskLifecycle.Outcome.Done => TypedResults.Ok(task!.ToDto()),
            TaskLifecycle.Outcome.NotFound => Problems.NotFound("Task", taskId),
            _ => Problems.InvalidState(taskId, task!.Status, "retried (only failed or cancelled tasks can be)"),
        };
    }

    static async Task<Results<SseResult, ProblemHttpResult>> Events(
        string taskId, HttpRequest req, CodeTetherDb db, TaskEventStream stream, CancellationToken ct)
    {
        if (!await db.Tasks.AnyAsync(t => t.Id == taskId, ct)) return Problems.NotFound("Task", taskId);
        return new SseResult(stream.ReadAsync(db.TenantId, taskId, null, SseItems.LastEventId(req), ct));
    }
}
