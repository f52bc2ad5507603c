using System.Net;
using CodeTether.Shared.Contracts;
using CodeTether.Testing;
using Microsoft.EntityFrameworkCore;

namespace CodeTether.Api.Tests.Lifecycle;

/// <summary>
/// A worker that claims and goes silent loses the lease: the task goes back to the queue with the next attempt,
/// and whatever the silent worker sends later is refused without changing anything. Fencing tokens tell an old
/// run from a new one, even of the same worker.
/// </summary>
public abstract class LeaseExpiryTests(DbKind kind) : LifecycleTest(kind)
{
    static readonly TimeSpan Generous = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Lease_HolderGoesSilent_TaskRequeuedAsAttempt2AndAnotherWorkerCompletesIt_LateReleaseIs404AndChangesNothing()
    {
        var host = await StartHostAsync(FastTimers());
        var admin = host.Client();
        var silent = host.Client(ApiHost.WorkerToken);
        var rescuer = host.Client(ApiHost.WorkerToken);
        var codebase = await admin.CreateCodebaseAsync();
        await silent.RegisterWorkerAsync("silent", codebase.Id);
        await rescuer.RegisterWorkerAsync("rescuer", codebase.Id);
        await using var rescuerStream = await rescuer.OpenWorkerStreamAsync("rescuer"); // keeps it online
        Assert.Equal("connected", (await rescuerStream.NextAsync()).Type);

        var task = await admin.TriggerAsync(codebase.Id);
        var claim = await silent.ClaimAsync(task.Id, "silent");
        Assert.Equal(HttpStatusCode.OK, claim.StatusCode);
        Assert.Equal(1, (await claim.ReadAsync<ClaimTaskResponse>()).FencingToken);

        // The rescuer is offered the task again once the lease is gone.
        var offer = (await rescuerStream.UntilAsync(e => e.Type == "task_available" && e.Json.GetProperty("id").GetString() == task.Id &&
            e.Json.GetProperty("attempt").GetInt32() == 2, Generous)).Last();
        Assert.Equal(TaskStatuses.Routed, offer.Json.GetProperty("status").GetString());
        var requeued = await admin.GetTaskAsync(task.Id);
        Assert.Equal(TaskStatuses.Routed, requeued.Task.Status);
        Assert.Equal(2, requeued.Task.Attempt);
        var expiry = Assert.Single(requeued.Timeline, e => e.Data?.TryGetProperty("code", out var c) == true && c.GetString() == "lease_expired");
        Assert.Equal((TaskStatuses.Claimed, TaskStatuses.Submitted),
            (expiry.Data!.Value.GetProperty("from").GetString(), expiry.Data!.Value.GetProperty("to").GetString()));
        Assert.Equal("silent", expiry.WorkerId);
        Assert.Equal(2, expiry.Attempt); // an event carries the task's state after it: the requeue starts attempt 2
        Assert.Contains("expired during attempt 1", expiry.Data!.Value.GetProperty("reason").GetString());

        var second = await rescuer.ClaimAsync(task.Id, "rescuer");
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(2, (await second.ReadAsync<ClaimTaskResponse>()).FencingToken);
        Assert.Equal(HttpStatusCode.OK, (await rescuer.ReleaseAsync(task.Id, "rescuer", result: "rescued", fencingToken: 2)).StatusCode);
        var before = await admin.GetTaskAsync(task.Id);

        // The silent worker wakes up: its progress, its release (with or without its token) and a re-claim are all refused.
        var lateBeat = await silent.PostJsonAsync("/v1/worker/tasks/heartbeat", new { task_id = task.Id, worker_id = "silent", fencing_token = 1, progress_pct = 90 });
        Assert.Equal(HttpStatusCode.NotFound, lateBeat.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await silent.ReleaseAsync(task.Id, "silent", result: "late", fencingToken: 1)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await silent.ReleaseAsync(task.Id, "silent", status: "failed", error: "late")).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await silent.ClaimAsync(task.Id, "silent")).StatusCode);

        var after = await admin.GetTaskAsync(task.Id);
        Assert.Equal(TaskStatuses.Completed, after.Task.Status);
        Assert.Equal("rescued", after.Task.Result);
        Assert.Equal("rescuer", after.Task.WorkerId);
        Assert.Equal(before.Timeline.Select(e => e.Id), after.Timeline.Select(e => e.Id));
        Assert.Equal(await host.EventIdsOfTaskAsync(task.Id), (await host.EventIdsOfTaskAsync(task.Id)).Distinct());
        Assert.Equal(
            [TaskStatuses.Submitted, TaskStatuses.Routed, TaskStatuses.Claimed, TaskStatuses.Submitted, TaskStatuses.Routed, TaskStatuses.Claimed, TaskStatuses.Completed],
            after.Timeline.Select(e => e.Status).ToArray());
    }

    [Fact]
    public async Task Lease_SameWorkerReclaimsAfterExpiry_ItsOldRunsFencingTokenGets409AndChangesNothing()
    {
        var host = await StartHostAsync(FastTimers());
        var admin = host.Client();
        var worker = host.Client(ApiHost.WorkerToken);
        var codebase = await admin.CreateCodebaseAsync();
        await worker.RegisterWorkerAsync("flaky", codebase.Id);
        var task = await admin.TriggerAsync(codebase.Id);
        await using var events = await SseClient.OpenAsync(admin, $"/v1/agent/tasks/{task.Id}/events");

        Assert.Equal(HttpStatusCode.OK, (await worker.ClaimAsync(task.Id, "flaky")).StatusCode);
        await events.UntilAsync(e => e.Type == "status" && e.Json.GetProperty("attempt").GetInt32() == 2, Generous);

        // The worker is still around (or restarted) and claims the requeued task: a new run, a new token.
        var reclaim = await worker.ClaimAsync(task.Id, "flaky");
        Assert.Equal(HttpStatusCode.OK, reclaim.StatusCode);
        var run2 = await reclaim.ReadAsync<ClaimTaskResponse>();
        Assert.Equal(2, run2.FencingToken);
        Assert.Equal(2, run2.Task.Attempt);

        // The first run did not know it lost its lease: everything it says carries token 1 and is refused.
        var staleBeat = await worker.PostJsonAsync("/v1/worker/tasks/heartbeat", new { task_id = task.Id, worker_id = "flaky", fencing_token = 1, progress_pct = 50 });
        Assert.Equal(HttpStatusCode.Conflict, staleBeat.StatusCode);
        Assert.EndsWith("stale-fencing-token", (await staleBeat.ReadAsync<Microsoft.AspNetCore.Mvc.ProblemDetails>()).Type);
        var staleSteps = await worker.PostJsonAsync($"/v1/worker/tasks/{task.Id}/events",
            new { worker_id = "flaky", fencing_token = 1, events = new[] { new { type = "output", data = new { text = "old run" } } } });
        Assert.Equal(HttpStatusCode.Conflict, staleSteps.StatusCode);
        var staleRelease = await worker.ReleaseAsync(task.Id, "flaky", result: "from the old run", fencingToken: 1);
        Assert.Equal(HttpStatusCode.Conflict, staleRelease.StatusCode);

        var held = await admin.GetTaskAsync(task.Id);
        Assert.Equal(TaskStatuses.Claimed, held.Task.Status);
        Assert.Null(held.Task.Result);
        Assert.DoesNotContain(await host.QueryAsync(db => db.TaskEvents.Where(e => e.TaskId == task.Id).Select(e => e.Type).ToListAsync()),
            t => t == "output");

        Assert.Equal(HttpStatusCode.OK, (await worker.ReleaseAsync(task.Id, "flaky", result: "from run 2", fencingToken: 2)).StatusCode);
        var done = await admin.GetTaskAsync(task.Id);
        Assert.Equal(TaskStatuses.Completed, done.Task.Status);
        Assert.Equal("from run 2", done.Task.Result);
    }

    [Fact]
    public async Task Lease_ExpiresOnLastAttempt_TaskFailsWithReasonThatAttemptsAreSpent()
    {
        var host = await StartHostAsync(FastTimers(("Tasks:MaxAttempts", "2")));
        var admin = host.Client();
        var worker = host.Client(ApiHost.WorkerToken);
        var codebase = await admin.CreateCodebaseAsync();
        await worker.RegisterWorkerAsync("doomed", codebase.Id);
        var task = await admin.TriggerAsync(codebase.Id);
        Assert.Equal(2, task.MaxAttempts);
        await using var events = await SseClient.OpenAsync(admin, $"/v1/agent/tasks/{task.Id}/events");

        Assert.Equal(HttpStatusCode.OK, (await worker.ClaimAsync(task.Id, "doomed")).StatusCode);
        await events.UntilAsync(e => e.Type == "status" && e.Json.GetProperty("attempt").GetInt32() == 2, Generous);
        // The worker (registered, but silent for longer than OfflineAfter) may now be offline: it claims anyway.
        Assert.Equal(HttpStatusCode.OK, (await worker.ClaimAsync(task.Id, "doomed")).StatusCode);
        var seen = await events.UntilAsync(e => e.Type == "status" && e.Json.GetProperty("status").GetString() == TaskStatuses.Failed, Generous);

        Assert.True(await events.EndsWithinAsync(Generous), "the task stream must end after the terminal status");
        var failed = await admin.GetTaskAsync(task.Id);
        Assert.Equal(TaskStatuses.Failed, failed.Task.Status);
        Assert.Equal(2, failed.Task.Attempt);
        Assert.Contains("giving up after 2 attempt", failed.Task.Error);
        var last = seen.Last().Json.GetProperty("data");
        Assert.Equal("attempts_exhausted", last.GetProperty("code").GetString());
        Assert.Equal(failed.Task.Error, last.GetProperty("reason").GetString());
        Assert.Equal(2, failed.Timeline.Count(e => e.Status == TaskStatuses.Claimed));
        Assert.Single(failed.Timeline, e => e.Data?.TryGetProperty("code", out var c) == true && c.GetString() == "lease_expired");
        Assert.Equal(HttpStatusCode.Conflict, (await worker.ClaimAsync(task.Id, "doomed")).StatusCode);
    }
}

public sealed class SqliteLeaseExpiryTests() : LeaseExpiryTests(DbKind.Sqlite);

public sealed class PostgresLeaseExpiryTests() : LeaseExpiryTests(DbKind.Postgres);
