using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using CodeTether.Api.Auth;
using CodeTether.Api.Hosting;
using CodeTether.Api.Persistence;
using CodeTether.Api.Realtime;
using CodeTether.Api.Tasks;
using CodeTether.Shared.Contracts;
using CodeTether.Shared.Events;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace CodeTether.Api.Workers;

/// <summary>The worker protocol (DESIGN.md), on the seed's paths.</summary>
public static class WorkersEndpoints
{
    public static IEndpointRouteBuilder MapWorkers(this IEndpointRouteBuilder app)
    {
        var workers = app.MapGroup("/v1/agent/workers").WithTags("Workers");
        workers.MapPost("/register", Register).RequirePermission(Permission.WorkerProtocol).WithName("RegisterWorker");
        workers.MapGet("", List).RequirePermission(Permission.WorkersRead).WithName("ListWorkers");
        workers.MapGet("/{workerId}", Get).RequirePermission(Permission.WorkersRead).WithName("GetWorker");
        workers.MapPost("/{workerId}/heartbeat", Heartbeat).RequirePermission(Permission.WorkerProtocol).WithName("WorkerHeartbeat");
        workers.MapPost("/{workerId}/unregister", Unregister).RequirePermission(Permission.WorkerProtocol).WithName("UnregisterWorker");

        var tasks = app.MapGroup("/v1/worker/tasks").WithTags("Worker protocol").RequirePermission(Permission.WorkerProtocol);
        tasks.MapGet("/stream", WorkerStream.Open).WithName("WorkerTaskStream");
        tasks.MapPost("/claim", (ClaimTaskRequest body, HttpRequest req, TaskLeases leases, CancellationToken ct) =>
            Claim(body.TaskId, body, req, leases, ct)).WithName("ClaimTask");
        tasks.MapPost("/{taskId}/claim", (string taskId, ClaimTaskRequest? body, HttpRequest req, TaskLeases leases, CancellationToken ct) =>
            Claim(taskId, body, req, leases, ct)).WithName("ClaimTaskById");
        tasks.MapPost("/heartbeat", TaskHeartbeat).WithName("RenewTaskLease");
        tasks.MapPost("/{taskId}/events", PostSteps).WithName("PostTaskSteps");
        tasks.MapPost("/{taskId}/input-required", RequestInput).WithName("RequestTaskInput");
        tasks.MapPost("/release", (ReleaseTaskRequest body, HttpRequest req, TaskLeases leases, CancellationToken ct) =>
            Release(body.TaskId, body, req, leases, ct)).WithName("ReleaseTask");
        app.MapPost("/v1/agent/tasks/{taskId}/complete", (string taskId, ReleaseTaskRequest body, HttpRequest req, TaskLeases leases, CancellationToken ct) =>
            Release(taskId, body, req, leases, ct)).RequirePermission(Permission.WorkerProtocol).WithTags("Worker protocol").WithName("CompleteTask");
        return app;
    }

    static async Task<Results<Ok<WorkerDto>, ProblemHttpResult>> Register(
        RegisterWorkerRequest body, HttpRequest req, WorkerRegistry registry, CodeTetherDb db, CancellationToken ct)
    {
        var id = WorkerIdentity.Resolve(req, body.WorkerId);
        if (id is null) return Problems.Invalid("worker_id is required (body, X-Worker-ID header or worker_id query), at most 200 characters.");
        try
        {
            var w = await registry.RegisterAsync(new(id, body.Name ?? body.AgentName ?? req.Headers["X-Agent-Name"].FirstOrDefault(),
                body.Hostname, body.Codebases ?? [], body.Capabilities ?? [], body.Models ?? []), online: true, ct);
            return TypedResults.Ok(await WorkerViews.ToDtoAsync(db, w, ct));
        }
        catch (InvalidRegistrationException ex) { return Problems.Invalid(ex.Message); }
    }

    static async Task<Ok<List<WorkerDto>>> List(CodeTetherDb db, string? status, string? codebase_id, CancellationToken ct)
    {
        var list = await db.Workers.AsNoTracking().OrderBy(w => w.Id).ToListAsync(ct);
        if (!string.IsNullOrEmpty(codebase_id)) list = list.Where(w => w.Codebases.Contains(codebase_id) || w.Codebases.Contains(CodebaseIds.Global)).ToList();
        var dtos = await WorkerViews.ToDtosAsync(db, list, ct);
        return TypedResults.Ok(string.IsNullOrEmpty(status) ? dtos : dtos.Where(w => w.Status == status).ToList());
    }

    static async Task<Results<Ok<WorkerDto>, ProblemHttpResult>> Get(string workerId, CodeTetherDb db, CancellationToken ct) =>
        await db.Workers.AsNoTracking().FirstOrDefaultAsync(w => w.Id == workerId, ct) is { } w
            ? TypedResults.Ok(await WorkerViews.ToDtoAsync(db, w, ct))
            : Problems.NotFound("Worker", workerId);

    static async Task<Results<Ok<WorkerDto>, ProblemHttpResult>> Heartbeat(
        string workerId, WorkerRegistry registry, CodeTetherDb db, CancellationToken ct) =>
        await registry.HeartbeatAsync(workerId, ct) is { } w ? TypedResults.Ok(await WorkerViews.ToDtoAsync(db, w, ct)) : Problems.NotFound("Worker", workerId);

    static async Task<Results<NoContent, ProblemHttpResult>> Unregister(string workerId, CodeTetherDb db, WorkerRegistry registry, CancellationToken ct)
    {
        if (!await db.Workers.AnyAsync(w => w.Id == workerId, ct)) return Problems.NotFound("Worker", workerId);
        await registry.MarkOfflineAsync(workerId, ct);
        return TypedResults.NoContent();
    }

    static async Task<Results<Ok<ClaimTaskResponse>, ProblemHttpResult>> Claim(
        string? taskId, ClaimTaskRequest? body, HttpRequest req, TaskLeases leases, CancellationToken ct)
    {
        var workerId = WorkerIdentity.Resolve(req, body?.WorkerId);
        if (workerId is null) return Problems.Invalid("worker_id is required (body, X-Worker-ID header or worker_id query).");
        if (string.IsNullOrWhiteSpace(taskId)) return Problems.Invalid("task_id is required.");
        var r = await leases.ClaimAsync(taskId, workerId, ct);
        return r.Outcome switch
        {
            TaskLeases.ClaimOutcome.Claimed or TaskLeases.ClaimOutcome.AlreadyHeld => TypedResults.Ok(new ClaimTaskResponse
            {
                Task = r.Task!.ToDto(), FencingToken = r.Task!.FencingToken, LeaseExpiresAt = r.Task!.LeaseExpiresAt!.Value,
            }),
            TaskLeases.ClaimOutcome.NotFound => Problems.NotFound("Task", taskId),
            TaskLeases.ClaimOutcome.NotEligible => Problems.NotEligible(taskId, workerId),
            _ => Problems.TaskAlreadyClaimed(taskId),
        };
    }

    static async Task<Results<Ok<TaskLeaseResponse>, ProblemHttpResult>> TaskHeartbeat(
        TaskHeartbeatRequest body, HttpRequest req, TaskLeases leases, CancellationToken ct)
    {
        var workerId = WorkerIdentity.Resolve(req, body.WorkerId);
        if (workerId is null) return Problems.Invalid("worker_id is required.");
        if (string.IsNullOrWhiteSpace(body.TaskId)) return Problems.Invalid("task_id is required.");
        if (body.ProgressPct is < 0 or > 100) return Problems.Invalid("progress_pct must be between 0 and 100.");
        if (body.StatusMessage is { Length: > 2000 }) return Problems.Invalid("status_message must be at most 2000 characters.");
        var r = await leases.HeartbeatAsync(body.TaskId, workerId, body.FencingToken, body.ProgressPct, body.StatusMessage, body.Checkpoint, ct);
        return LeaseResult(r, body.TaskId, workerId);
    }

    static async Task<Results<Ok<TaskLeaseResponse>, ProblemHttpResult>> PostSteps(
        string taskId, TaskStepsRequest body, HttpRequest req, TaskLeases leases, CancellationToken ct)
    {
        var workerId = WorkerIdentity.Resolve(req, body.WorkerId);
        if (workerId is null) return Problems.Invalid("worker_id is required.");
        var steps = body.Events ?? [];
        if (steps.Count > 500) return Problems.Invalid("at most 500 events per request.");
        if (steps.FirstOrDefault(s => s.Type is null || !TaskEventTypes.WorkerSteps.Contains(s.Type)) is { } bad)
            return Problems.Invalid($"event type '{bad.Type}' is not one of: {string.Join(", ", TaskEventTypes.WorkerSteps)}.");
        var r = await leases.AppendStepsAsync(taskId, workerId, body.FencingToken, steps, ct);
        return LeaseResult(r, taskId, workerId);
    }

    static async Task<Results<Ok<TaskDto>, ProblemHttpResult>> RequestInput(
        string taskId, RequestInputRequest body, HttpRequest req, TaskLeases leases, CancellationToken ct)
    {
        var workerId = WorkerIdentity.Resolve(req, body.WorkerId);
        if (workerId is null) return Problems.Invalid("worker_id is required.");
        if (string.IsNullOrWhiteSpace(body.Message)) return Problems.Invalid("message (the question for the user) is required.");
        if (body.Message.Length > 100_000) return Problems.Invalid("message must be at most 100000 characters.");
        var r = await leases.RequestInputAsync(taskId, workerId, body.FencingToken, body.Message, ct);
        return r.Outcome == TaskLeases.LeaseOutcome.Ok ? TypedResults.Ok(r.Task!.ToDto()) : LeaseProblem(r, taskId, workerId);
    }

    static async Task<Results<Ok<TaskDto>, ProblemHttpResult>> Release(
        string? taskId, ReleaseTaskRequest body, HttpRequest req, TaskLeases leases, CancellationToken ct)
    {
        var workerId = WorkerIdentity.Resolve(req, body.WorkerId);
        if (workerId is null) return Problems.Invalid("worker_id is required.");
        if (string.IsNullOrWhiteSpace(taskId)) return Problems.Invalid("task_id is required.");
        var status = body.Status ?? TaskStatuses.Completed;
        if (!TaskStatuses.Terminal.Contains(status)) return Problems.Invalid("status must be completed, failed or cancelled.");
        var r = await leases.ReleaseAsync(taskId, workerId, body.FencingToken, status, body.Result, body.Error, ct, body.Requeue == true);
        return r.Outcome == TaskLeases.LeaseOutcome.Ok ? TypedResults.Ok(r.Task!.ToDto()) : LeaseProblem(r, taskId, workerId);
    }

    static Results<Ok<TaskLeaseResponse>, ProblemHttpResult> LeaseResult(TaskLeases.LeaseResult r, string taskId, string workerId) =>
        r.Outcome == TaskLeases.LeaseOutcome.Ok
            ? TypedResults.Ok(new TaskLeaseResponse(r.Task!.Id, r.Task.Status, r.Task.FencingToken, r.Task.LeaseExpiresAt!.Value))
            : LeaseProblem(r, taskId, workerId);

    static ProblemHttpResult LeaseProblem(TaskLeases.LeaseResult r, string taskId, string workerId) => r.Outcome switch
    {
        TaskLeases.LeaseOutcome.Stale => Problems.StaleLease(taskId),
        TaskLeases.LeaseOutcome.CancelledMeanwhile => Problems.InvalidState(taskId, TaskStatuses.Cancelled, "completed or failed (release it as cancelled)"),
        TaskLeases.LeaseOutcome.NotFound => Problems.NotFound("Task", taskId),
        _ => Problems.NotHolder(taskId, workerId),
    };
}

/// <summary><c>GET /v1/worker/tasks/stream</c>: <c>connected</c>, then offers, cancellations and heartbeats.</summary>
public static partial class WorkerStream
{
    public static async Task<IResult> Open(HttpContext http, WorkerRegistry registry, WorkerConnections connections,
        Dispatcher dispatcher, TenantContext tenant, CodeTetherDb db, IOptions<WorkerOptions> options, TimeProvider clock,
        IServiceScopeFactory scopes, ILogger<WorkerConnections> log, CancellationToken ct)
    {
        var workerId = WorkerIdentity.Resolve(http.Request, null);
        if (workerId is null) return Problems.Invalid("worker_id is required (X-Worker-ID header or worker_id query).");
        Worker worker;
        try
        {
            // Registered from its headers if it never registered; headers given override the stored lists.
            worker = await registry.RegisterAsync(new(workerId, http.Request.Headers["X-Agent-Name"].FirstOrDefault(), null,
                WorkerIdentity.HeaderList(http.Request, "X-Codebases"), WorkerIdentity.HeaderList(http.Request, "X-Capabilities"),
                WorkerIdentity.HeaderList(http.Request, "X-Models")), online: true, ct);
        }
        catch (InvalidRegistrationException ex) { return Problems.Invalid(ex.Message); }

        var view = await WorkerViews.ToDtoAsync(db, worker, ct);
        var connection = connections.Open(tenant.TenantId, WorkerProfile.Of(worker), view.CurrentTaskId);
        Log.Connected(log, workerId, connection.Id);
        return new SseResult(Items(connection, view, dispatcher, connections, options.Value, clock, scopes, log, ct));
    }

    static async IAsyncEnumerable<SseItem<string>> Items(WorkerConnection c, WorkerDto worker, Dispatcher dispatcher,
        WorkerConnections connections, WorkerOptions options, TimeProvider clock, IServiceScopeFactory scopes,
        ILogger log, [EnumeratorCancellation] CancellationToken ct)
    {
        try
        {
            yield return SseItems.Json(WorkerStreamEvents.Connected, new { worker_id = worker.WorkerId, worker });
            _ = dispatcher.WorkerConnectedAsync(c, ct).ContinueWith(t => Log.OfferFailed(log, worker.WorkerId, t.Exception!),
                TaskContinuationOptions.OnlyOnFaulted);
            while (!ct.IsCancellationRequested)
            {
                SseItem<string>? next = null;
                using (var tick = CancellationTokenSource.CreateLinkedTokenSource(ct))
                {
                    tick.CancelAfter(options.StreamHeartbeat);
                    try
                    {
                        if (await c.Outbox.WaitToReadAsync(tick.Token) && c.Outbox.TryRead(out var item)) next = item;
                        else if (c.Outbox.Completion.IsCompleted) yield break;
                    }
                    catch (OperationCanceledException) when (!ct.IsCancellationRequested) { }
                }
                if (next is { } n) { yield return n; continue; }
                await TouchAsync(scopes, c, ct);
                yield return SseItems.Json(WorkerStreamEvents.Heartbeat, new { ts = clock.GetUtcNow() });
            }
        }
        finally
        {
            if (connections.Close(c)) _ = MarkOfflineAsync(scopes, connections, c, clock.GetUtcNow());
            Log.Disconnected(log, worker.WorkerId, c.Id);
        }
    }

    static async Task TouchAsync(IServiceScopeFactory scopes, WorkerConnection c, CancellationToken ct)
    {
        await using var scope = scopes.CreateTenantScope(c.TenantId);
        await scope.ServiceProvider.GetRequiredService<WorkerRegistry>().HeartbeatAsync(c.Profile.WorkerId, ct);
    }

    static async Task MarkOfflineAsync(IServiceScopeFactory scopes, WorkerConnections connections, WorkerConnection c, DateTimeOffset closedAt)
    {
        if (connections.Of(c.TenantId, c.Profile.WorkerId).Any()) return; // it reconnected to this host already
        await using var scope = scopes.CreateTenantScope(c.TenantId);
        await scope.ServiceProvider.GetRequiredService<WorkerRegistry>().MarkOfflineAsync(c.Profile.WorkerId, CancellationToken.None, closedAt);
    }

    static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Worker {WorkerId} connected (stream {StreamId})")]
        public static partial void Connected(ILogger logger, string workerId, long streamId);

        [LoggerMessage(Level = LogLevel.Information, Message = "Worker {WorkerId} disconnected (stream {StreamId})")]
        public static partial void Disconnected(ILogger logger, string workerId, long streamId);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Offering work to worker {WorkerId} failed")]
        public static partial void OfferFailed(ILogger logger, string workerId, Exception ex);
    }
}
