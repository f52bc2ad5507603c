using System.Net;
using System.Net.Http.Json;
using CodeTether.Shared.Contracts;
using CodeTether.Testing;

namespace CodeTether.Api.Tests.Lifecycle;

/// <summary>
/// Cancelling a running task reaches the worker that holds it (<c>task_cancelled</c> on its stream). The worker
/// then stops and acknowledges with a release as <c>cancelled</c>: that is accepted (200) and changes nothing.
/// A holder that finishes anyway and reports <c>completed</c> is told the task was cancelled (409); anyone else
/// is not the holder (404).
/// </summary>
public abstract class CancellationTests(DbKind kind) : LifecycleTest(kind)
{
    [Fact]
    public async Task Cancel_RunningTask_HolderStreamGetsTaskCancelled_AndItsCancelledReleaseIsAcknowledgedWithoutChange()
    {
        var host = await StartHostAsync();
        var admin = host.Client();
        var worker = host.Client(ApiHost.WorkerToken);
        var codebase = await admin.CreateCodebaseAsync();
        await worker.RegisterWorkerAsync("w1", codebase.Id);
        await using var stream = await worker.OpenWorkerStreamAsync("w1");
        Assert.Equal("connected", (await stream.NextAsync()).Type);
        var task = await admin.TriggerAsync(codebase.Id);
        await stream.UntilAsync(e => e.Type == "task_available" && e.Json.GetProperty("id").GetString() == task.Id);
        var lease = await (await worker.ClaimAsync(task.Id, "w1")).ReadAsync<ClaimTaskResponse>();
        var beat = await worker.PostJsonAsync("/v1/worker/tasks/heartbeat", new { task_id = task.Id, worker_id = "w1", fencing_token = lease.FencingToken, progress_pct = 10 });
        Assert.Equal(TaskStatuses.Running, (await beat.ReadAsync<TaskLeaseResponse>()).Status);

        var cancel = await admin.PostJsonAsync($"/v1/agent/tasks/{task.Id}/cancel", new { reason = "wrong branch" });
        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);

        var notice = (await stream.UntilAsync(e => e.Type == "task_cancelled")).Last();
        Assert.Equal(task.Id, notice.Json.GetProperty("task_id").GetString());
        Assert.Equal("wrong branch", notice.Json.GetProperty("reason").GetString());
        var before = await admin.GetTaskAsync(task.Id);

        var ack = await worker.ReleaseAsync(task.Id, "w1", status: "cancelled", result: null, error: "stopped on request", fencingToken: lease.FencingToken);
        Assert.Equal(HttpStatusCode.OK, ack.StatusCode);
        var acked = await ack.ReadAsync<TaskDto>();
        Assert.Equal(TaskStatuses.Cancelled, acked.Status);
        Assert.Equal("wrong branch", acked.Error);
        var again = await worker.ReleaseAsync(task.Id, "w1", status: "cancelled", result: null); // a retried request: same answer
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);

        var after = await admin.GetTaskAsync(task.Id);
        Assert.Equal(before.Timeline.Select(e => e.Id), after.Timeline.Select(e => e.Id));
        Assert.Equal([TaskStatuses.Submitted, TaskStatuses.Routed, TaskStatuses.Claimed, TaskStatuses.Running, TaskStatuses.Cancelled],
            after.Timeline.Select(e => e.Status).ToArray());
        var w = await admin.GetFromJsonAsync<WorkerDto>("/v1/agent/workers/w1", Protocol.Json, TestCancelled);
        Assert.Null(w!.CurrentTaskId);
        Assert.Equal(0, w.TasksCompleted);
    }

    [Fact]
    public async Task Cancel_RunningTask_HoldersLateCompletionIs409AndTaskStaysCancelled_OthersGet404()
    {
        var host = await StartHostAsync();
        var admin = host.Client();
        var worker = host.Client(ApiHost.WorkerToken);
        var codebase = await admin.CreateCodebaseAsync();
        await worker.RegisterWorkerAsync("w1", codebase.Id);
        await worker.RegisterWorkerAsync("w2", codebase.Id);
        var task = await admin.TriggerAsync(codebase.Id);
        var lease = await (await worker.ClaimAsync(task.Id, "w1")).ReadAsync<ClaimTaskResponse>();
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/v1/agent/tasks/{task.Id}/cancel", null, TestCancelled)).StatusCode);

        var late = await worker.ReleaseAsync(task.Id, "w1", status: "completed", result: "finished anyway", fencingToken: lease.FencingToken);
        Assert.Equal(HttpStatusCode.Conflict, late.StatusCode);
        Assert.Contains("cancelled", await late.Content.ReadAsStringAsync(TestCancelled));
        Assert.Equal(HttpStatusCode.NotFound, (await worker.ReleaseAsync(task.Id, "w2", status: "cancelled", result: null)).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await worker.ReleaseAsync(task.Id, "w1", status: "cancelled", result: null, fencingToken: lease.FencingToken + 1)).StatusCode);

        var after = await admin.GetTaskAsync(task.Id);
        Assert.Equal(TaskStatuses.Cancelled, after.Task.Status);
        Assert.Null(after.Task.Result);
        Assert.Single(after.Timeline, e => e.Status == TaskStatuses.Cancelled);
    }

    [Fact]
    public async Task Cancel_OneOfTwoTasksHeldBySameWorker_StreamGetsTaskCancelledForThatTask()
    {
        var host = await StartHostAsync();
        var admin = host.Client();
        var worker = host.Client(ApiHost.WorkerToken);
        var codebase = await admin.CreateCodebaseAsync();
        await worker.RegisterWorkerAsync("multi", codebase.Id);
        await using var stream = await worker.OpenWorkerStreamAsync("multi");
        Assert.Equal("connected", (await stream.NextAsync()).Type);
        var first = await admin.TriggerAsync(codebase.Id, "first");
        var second = await admin.TriggerAsync(codebase.Id, "second");
        Assert.Equal(HttpStatusCode.OK, (await worker.ClaimAsync(first.Id, "multi")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await worker.ClaimAsync(second.Id, "multi")).StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/v1/agent/tasks/{first.Id}/cancel", null, TestCancelled)).StatusCode);
        var notice = (await stream.UntilAsync(e => e.Type == "task_cancelled")).Last();
        Assert.Equal(first.Id, notice.Json.GetProperty("task_id").GetString());
    }
}

public sealed class SqliteCancellationTests() : CancellationTests(DbKind.Sqlite);

public sealed class PostgresCancellationTests() : CancellationTests(DbKind.Postgres);
