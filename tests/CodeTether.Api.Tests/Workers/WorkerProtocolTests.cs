using System.Net;
using CodeTether.Shared.Contracts;
using CodeTether.Testing;

namespace CodeTether.Api.Tests.Workers;

/// <summary>Claims, leases, steps, release, cancellation and dispatch over the worker protocol, on each database.</summary>
public abstract class WorkerProtocolTests(DbKind kind) : IAsyncLifetime
{
    protected ApiHost Host = null!;
    HttpClient _op = null!;
    HttpClient _worker = null!;

    public async ValueTask InitializeAsync()
    {
        // Widen offers at once, so a test about who may be offered a task never waits for the window.
        Host = await ApiHost.StartAsync(kind, new Dictionary<string, string?> { ["Tasks:OfferWindow"] = "00:00:00" });
        _op = Host.Client(ApiHost.OperatorToken);
        _worker = Host.Client(ApiHost.WorkerToken);
    }

    public async ValueTask DisposeAsync() => await Host.DisposeAsync();

    async Task<TaskDto> TaskAsync(string id) => (await _op.GetTaskAsync(id)).Task;

    async Task<(CodebaseDto Codebase, TaskDto Task, ClaimTaskResponse Claim)> ClaimedAsync(string workerId = "w1")
    {
        var cb = await _op.CreateCodebaseAsync();
        await _worker.RegisterWorkerAsync(workerId, cb.Id);
        var task = await _op.TriggerAsync(cb.Id);
        var res = await _worker.ClaimAsync(task.Id, workerId);
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        return (cb, task, await res.ReadAsync<ClaimTaskResponse>());
    }

    static Dictionary<string, string> Headers(string workerId, string? codebases = null, string? models = null)
    {
        var h = new Dictionary<string, string> { ["X-Worker-ID"] = workerId };
        if (codebases is not null) h["X-Codebases"] = codebases;
        if (models is not null) h["X-Models"] = models;
        return h;
    }

    [Fact]
    public async Task Claim_ByBodyPath_ReturnsLeaseAndFencingToken()
    {
        var (_, task, claim) = await ClaimedAsync();

        Assert.True(claim.Success);
        Assert.Equal((task.Id, TaskStatuses.Claimed, "w1"), (claim.Task.Id, claim.Task.Status, claim.Task.WorkerId));
        Assert.Equal(1, claim.FencingToken);
        Assert.True(claim.LeaseExpiresAt > DateTimeOffset.UtcNow);
        var now = await TaskAsync(task.Id);
        Assert.Equal((TaskStatuses.Claimed, "w1"), (now.Status, now.WorkerId));
        var worker = await (await _op.Get("/v1/agent/workers/w1")).ReadAsync<WorkerDto>();
        Assert.Equal((WorkerStatuses.Busy, task.Id), (worker.Status, worker.CurrentTaskId));
    }

    [Fact]
    public async Task Claim_ByIdPathWithHeaderAndNoBody_Succeeds()
    {
        var cb = await _op.CreateCodebaseAsync();
        await _worker.RegisterWorkerAsync("w1", cb.Id);
        var task = await _op.TriggerAsync(cb.Id);
        var req = new HttpRequestMessage(HttpMethod.Post, $"/v1/worker/tasks/{task.Id}/claim");
        req.Headers.Add("X-Worker-ID", "w1");

        var res = await _worker.SendRequest(req);

        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        Assert.Equal(TaskStatuses.Claimed, (await res.ReadAsync<ClaimTaskResponse>()).Task.Status);
    }

    [Fact]
    public async Task Claim_ConcurrentlyByManyWorkers_ExactlyOneWinsOthersGet409()
    {
        var cb = await _op.CreateCodebaseAsync();
        var ids = Enumerable.Range(0, 8).Select(i => $"racer-{i}").ToList();
        foreach (var id in ids) await _worker.RegisterWorkerAsync(id, cb.Id);
        var task = await _op.TriggerAsync(cb.Id);

        var results = await Task.WhenAll(ids.Select(id => _worker.ClaimAsync(task.Id, id)));

        Assert.Single(results, r => r.StatusCode == HttpStatusCode.OK);
        foreach (var lost in results.Where(r => r.StatusCode != HttpStatusCode.OK))
            await lost.IsProblemAsync(HttpStatusCode.Conflict, "task-already-claimed");
        var winner = ids[Array.FindIndex(results, r => r.StatusCode == HttpStatusCode.OK)];
        var now = await TaskAsync(task.Id);
        Assert.Equal((winner, 1L), (now.WorkerId, now.FencingToken));
        Assert.Single((await _op.GetTaskAsync(task.Id)).Timeline, e => e.Status == TaskStatuses.Claimed);
    }

    [Fact]
    public async Task Claim_UnknownTask_Returns404()
    {
        await _worker.RegisterWorkerAsync("w1", "global");
        await (await _worker.ClaimAsync("no-such-task", "w1")).IsProblemAsync(HttpStatusCode.NotFound, "not-found");
        await (await _worker.PostJsonAsync("/v1/worker/tasks/no-such-task/claim", new { worker_id = "w1" })).IsProblemAsync(HttpStatusCode.NotFound, "not-found");
    }

    [Fact]
    public async Task Claim_WithoutWorkerIdOrTaskId_Returns400()
    {
        var task = await _op.TriggerAsync((await _op.CreateCodebaseAsync()).Id);
        await (await _worker.PostJsonAsync("/v1/worker/tasks/claim", new { task_id = task.Id })).IsProblemAsync(HttpStatusCode.BadRequest, "invalid-request");
        await (await _worker.PostJsonAsync("/v1/worker/tasks/claim", new { worker_id = "w1" })).IsProblemAsync(HttpStatusCode.BadRequest, "invalid-request");
        Assert.Equal(TaskStatuses.Submitted, (await TaskAsync(task.Id)).Status);
    }

    [Fact]
    public async Task Claim_ByWorkerNotServingTheCodebase_Returns409NotEligibleAndLeavesTaskClaimable()
    {
        var cb = await _op.CreateCodebaseAsync();
        var other = await _op.CreateCodebaseAsync();
        await _worker.RegisterWorkerAsync("elsewhere", other.Id);
        await _worker.RegisterWorkerAsync("right", cb.Id);
        var task = await _op.TriggerAsync(cb.Id);

        await (await _worker.ClaimAsync(task.Id, "elsewhere")).IsProblemAsync(HttpStatusCode.Conflict, "worker-not-eligible");
        await (await _worker.ClaimAsync(task.Id, "never-registered")).IsProblemAsync(HttpStatusCode.Conflict, "worker-not-eligible");

        Assert.Equal(TaskStatuses.Routed, (await TaskAsync(task.Id)).Status);
        Assert.Equal(HttpStatusCode.OK, (await _worker.ClaimAsync(task.Id, "right")).StatusCode);
    }

    [Fact]
    public async Task Claim_OfFinishedTask_Returns409()
    {
        var (_, task, _) = await ClaimedAsync();
        Assert.Equal(HttpStatusCode.OK, (await _worker.ReleaseAsync(task.Id, "w1")).StatusCode);
        await (await _worker.ClaimAsync(task.Id, "w1")).IsProblemAsync(HttpStatusCode.Conflict, "task-already-claimed");
    }

    [Fact]
    public async Task TaskHeartbeat_ByHolder_MovesClaimedToRunningAndRecordsProgress()
    {
        var (_, task, claim) = await ClaimedAsync();

        var res = await _worker.PostJsonAsync("/v1/worker/tasks/heartbeat",
            new { task_id = task.Id, worker_id = "w1", fencing_token = claim.FencingToken, progress_pct = 55, status_message = "halfway", checkpoint = new { step = 3 } });

        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        var lease = await res.ReadAsync<TaskLeaseResponse>();
        Assert.Equal((task.Id, TaskStatuses.Running, 1L), (lease.TaskId, lease.Status, lease.FencingToken));
        Assert.True(lease.LeaseExpiresAt >= claim.LeaseExpiresAt);
        var now = await TaskAsync(task.Id);
        Assert.Equal((TaskStatuses.Running, 55, "halfway"), (now.Status, now.ProgressPct, now.StatusMessage));
        Assert.NotNull(now.StartedAt);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(101)]
    public async Task TaskHeartbeat_ProgressOutOfRange_Returns400AndChangesNothing(int pct)
    {
        var (_, task, _) = await ClaimedAsync();

        var res = await _worker.PostJsonAsync("/v1/worker/tasks/heartbeat", new { task_id = task.Id, worker_id = "w1", progress_pct = pct });

        await res.IsProblemAsync(HttpStatusCode.BadRequest, "invalid-request");
        var now = await TaskAsync(task.Id);
        Assert.Equal(TaskStatuses.Claimed, now.Status);
        Assert.Null(now.ProgressPct);
    }

    [Fact]
    public async Task TaskHeartbeat_WithStaleFencingToken_Returns409AndChangesNothing()
    {
        var (_, task, _) = await ClaimedAsync();
        // The task is cancelled, retried and claimed again: fencing token 2 is current, 1 is stale.
        Assert.Equal(HttpStatusCode.OK, (await _op.Post($"/v1/agent/tasks/{task.Id}/cancel")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _op.Post($"/v1/agent/tasks/{task.Id}/retry")).StatusCode);
        var again = await (await _worker.ClaimAsync(task.Id, "w1")).ReadAsync<ClaimTaskResponse>();
        Assert.Equal(2, again.FencingToken);

        var beat = await _worker.PostJsonAsync("/v1/worker/tasks/heartbeat", new { task_id = task.Id, worker_id = "w1", fencing_token = 1, progress_pct = 90 });
        await beat.IsProblemAsync(HttpStatusCode.Conflict, "stale-fencing-token");
        var release = await _worker.ReleaseAsync(task.Id, "w1", fencingToken: 1);
        await release.IsProblemAsync(HttpStatusCode.Conflict, "stale-fencing-token");

        var now = await TaskAsync(task.Id);
        Assert.Equal((TaskStatuses.Claimed, (int?)null, 2), (now.Status, now.ProgressPct, now.Attempt));
    }

    [Fact]
    public async Task TaskHeartbeat_ByNonHolder_Returns404AndUnknownTaskReturns404()
    {
        var (cb, task, _) = await ClaimedAsync();
        await _worker.RegisterWorkerAsync("w2", cb.Id);

        await (await _worker.PostJsonAsync("/v1/worker/tasks/heartbeat", new { task_id = task.Id, worker_id = "w2", progress_pct = 10 }))
            .IsProblemAsync(HttpStatusCode.NotFound, "lease-not-held");
        await (await _worker.PostJsonAsync("/v1/worker/tasks/heartbeat", new { task_id = "nope", worker_id = "w1" }))
            .IsProblemAsync(HttpStatusCode.NotFound, "not-found");
        Assert.Equal(TaskStatuses.Claimed, (await TaskAsync(task.Id)).Status);
    }

    [Fact]
    public async Task Steps_ByHolder_AreRecordedInOrderAndRenewTheLease()
    {
        var (_, task, claim) = await ClaimedAsync();
        await using var events = await SseClient.OpenAsync(_op, $"/v1/agent/tasks/{task.Id}/events");

        var res = await _worker.PostJsonAsync($"/v1/worker/tasks/{task.Id}/events", new
        {
            worker_id = "w1",
            fencing_token = claim.FencingToken,
            events = new object[]
            {
                new { type = "output", data = new { text = "hello" } },
                new { type = "tool_call", data = new { name = "read_file" } },
                new { type = "progress", data = new { progress_pct = 30 } },
            },
        });

        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        Assert.Equal(TaskStatuses.Running, (await res.ReadAsync<TaskLeaseResponse>()).Status);
        var seen = await events.UntilAsync(e => e.Type == "progress");
        Assert.Equal(["status", "status", "status", "status", "output", "tool_call", "progress"], seen.Select(e => e.Type));
        Assert.Equal("hello", seen[4].Json.GetProperty("data").GetProperty("text").GetString());
        Assert.Equal(30, (await TaskAsync(task.Id)).ProgressPct);
    }

    [Fact]
    public async Task Steps_WithUnknownType_Returns400AndRecordsNothing()
    {
        var (_, task, _) = await ClaimedAsync();

        var res = await _worker.PostJsonAsync($"/v1/worker/tasks/{task.Id}/events", new
        {
            worker_id = "w1",
            events = new object[] { new { type = "output", data = new { text = "x" } }, new { type = "status", data = new { } } },
        });

        await res.IsProblemAsync(HttpStatusCode.BadRequest, "invalid-request");
        var missing = await _worker.PostJsonAsync($"/v1/worker/tasks/{task.Id}/events", new { worker_id = "w1", events = new object[] { new { data = 1 } } });
        await missing.IsProblemAsync(HttpStatusCode.BadRequest, "invalid-request");
        // Still claimed: a rejected batch neither renews the lease nor starts the task.
        Assert.Equal(TaskStatuses.Claimed, (await TaskAsync(task.Id)).Status);
    }

    [Fact]
    public async Task Steps_ByNonHolder_Returns404()
    {
        var (cb, task, _) = await ClaimedAsync();
        await _worker.RegisterWorkerAsync("w2", cb.Id);
        var res = await _worker.PostJsonAsync($"/v1/worker/tasks/{task.Id}/events", new { worker_id = "w2", events = new[] { new { type = "output" } } });
        await res.IsProblemAsync(HttpStatusCode.NotFound, "lease-not-held");
        Assert.Equal(TaskStatuses.Claimed, (await TaskAsync(task.Id)).Status);
    }

    [Fact]
    public async Task Release_ByNonHolder_Returns404AndTaskIsUnchanged()
    {
        var (cb, task, _) = await ClaimedAsync();
        await _worker.RegisterWorkerAsync("w2", cb.Id);

        await (await _worker.ReleaseAsync(task.Id, "w2")).IsProblemAsync(HttpStatusCode.NotFound, "lease-not-held");
        await (await _worker.PostJsonAsync($"/v1/agent/tasks/{task.Id}/complete", new { worker_id = "w2", status = "completed" }))
            .IsProblemAsync(HttpStatusCode.NotFound, "lease-not-held");

        var now = await TaskAsync(task.Id);
        Assert.Equal((TaskStatuses.Claimed, "w1", (string?)null), (now.Status, now.WorkerId, now.Result));
    }

    [Fact]
    public async Task Release_WithNonTerminalStatus_Returns400AndTaskIsUnchanged()
    {
        var (_, task, _) = await ClaimedAsync();
        await (await _worker.ReleaseAsync(task.Id, "w1", status: "running")).IsProblemAsync(HttpStatusCode.BadRequest, "invalid-request");
        Assert.Equal(TaskStatuses.Claimed, (await TaskAsync(task.Id)).Status);
    }

    [Fact]
    public async Task Release_UnknownTask_Returns404()
    {
        await _worker.RegisterWorkerAsync("w1", "global");
        await (await _worker.ReleaseAsync("nope", "w1")).IsProblemAsync(HttpStatusCode.NotFound, "not-found");
        await (await _worker.PostJsonAsync("/v1/agent/tasks/nope/complete", new { worker_id = "w1" })).IsProblemAsync(HttpStatusCode.NotFound, "not-found");
    }

    [Fact]
    public async Task Complete_OnAgentPath_WorksLikeRelease()
    {
        var (_, task, claim) = await ClaimedAsync();

        var res = await _worker.PostJsonAsync($"/v1/agent/tasks/{task.Id}/complete",
            new { worker_id = "w1", status = "failed", error = "tests failed", fencing_token = claim.FencingToken });

        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        var done = await res.ReadAsync<TaskDto>();
        Assert.Equal((TaskStatuses.Failed, "tests failed"), (done.Status, done.Error));
        Assert.Null(done.LeaseExpiresAt);
        var worker = await (await _op.Get("/v1/agent/workers/w1")).ReadAsync<WorkerDto>();
        Assert.Equal((WorkerStatuses.Online, (string?)null, 1), (worker.Status, worker.CurrentTaskId, worker.TasksFailed));
    }

    [Fact]
    public async Task Complete_WithResult_IsCompletedAtFullProgress()
    {
        var (_, task, _) = await ClaimedAsync();
        var res = await _worker.PostJsonAsync($"/v1/agent/tasks/{task.Id}/complete", new { worker_id = "w1", result = "all green" });
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        var now = await TaskAsync(task.Id);
        Assert.Equal((TaskStatuses.Completed, "all green", 100), (now.Status, now.Result, now.ProgressPct));
    }

    [Fact]
    public async Task Cancel_OfClaimedTask_SendsTaskCancelledToTheHolderStream()
    {
        var cb = await _op.CreateCodebaseAsync();
        await using var stream = await SseClient.OpenAsync(_worker, "/v1/worker/tasks/stream", headers: Headers("holder", cb.Id));
        Assert.Equal("connected", (await stream.NextAsync()).Type);
        var task = await _op.TriggerAsync(cb.Id);
        await stream.UntilAsync(e => e.Type == "task_available" && e.Json.GetProperty("id").GetString() == task.Id);
        Assert.Equal(HttpStatusCode.OK, (await _worker.ClaimAsync(task.Id, "holder")).StatusCode);

        var cancel = await _op.PostJsonAsync($"/v1/agent/tasks/{task.Id}/cancel", new { reason = "stop" });

        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        var seen = await stream.UntilAsync(e => e.Type == "task_cancelled");
        Assert.Equal(task.Id, seen[^1].Json.GetProperty("task_id").GetString());
        var now = await TaskAsync(task.Id);
        Assert.Equal((TaskStatuses.Cancelled, "stop"), (now.Status, now.Error));
        // The holder can no longer report a result on it (its cancelled acknowledgement is accepted: see CancellationTests).
        await (await _worker.ReleaseAsync(task.Id, "holder")).IsProblemAsync(HttpStatusCode.Conflict, "invalid-task-state");
    }

    [Fact]
    public async Task Task_ForCodebaseNobodyServes_StaysSubmittedUntilAnEligibleWorkerStreams()
    {
        var cb = await _op.CreateCodebaseAsync();
        await _worker.RegisterWorkerAsync("elsewhere", "/srv/elsewhere");
        var task = await _op.TriggerAsync(cb.Id);
        Assert.Equal(TaskStatuses.Submitted, task.Status);
        Assert.Equal(TaskStatuses.Submitted, (await TaskAsync(task.Id)).Status);

        await using var stream = await SseClient.OpenAsync(_worker, "/v1/worker/tasks/stream", headers: Headers("serves-it", cb.Id));

        Assert.Equal("connected", (await stream.NextAsync()).Type);
        var offers = await stream.UntilAsync(e => e.Type == "task_available" && e.Json.GetProperty("id").GetString() == task.Id);
        Assert.All(offers.Skip(0), e => Assert.Equal("task_available", e.Type));
        var detail = await _op.GetTaskAsync(task.Id);
        Assert.Equal(TaskStatuses.Routed, detail.Task.Status);
        Assert.Equal([TaskStatuses.Submitted, TaskStatuses.Routed], detail.Timeline.Select(e => e.Status));
    }

    [Fact]
    public async Task Task_SubmittedWhileEligibleWorkerStreams_IsOfferedToIt()
    {
        var cb = await _op.CreateCodebaseAsync();
        await using var stream = await SseClient.OpenAsync(_worker, "/v1/worker/tasks/stream", headers: Headers("live", cb.Id));
        Assert.Equal("connected", (await stream.NextAsync()).Type);

        var task = await _op.TriggerAsync(cb.Id, "stream me");

        Assert.Equal(TaskStatuses.Routed, task.Status);
        var offer = (await stream.UntilAsync(e => e.Type == "task_available"))[^1];
        Assert.Equal((task.Id, "stream me"), (offer.Json.GetProperty("id").GetString(), offer.Json.GetProperty("prompt").GetString()));
    }

    [Fact]
    public async Task GlobalWorker_IsOfferedAndMayClaimTasksOfAnyCodebase()
    {
        var cb = await _op.CreateCodebaseAsync();
        var waiting = await _op.TriggerAsync(cb.Id);
        Assert.Equal(TaskStatuses.Submitted, waiting.Status);
        await using var stream = await SseClient.OpenAsync(_worker, "/v1/worker/tasks/stream", headers: Headers("anything", "global"));
        Assert.Equal("connected", (await stream.NextAsync()).Type);
        await stream.UntilAsync(e => e.Type == "task_available" && e.Json.GetProperty("id").GetString() == waiting.Id);

        var globalTask = await (await _op.PostJsonAsync("/v1/agent/tasks", new { prompt = "any" })).ReadAsync<TaskDto>();
        await stream.UntilAsync(e => e.Type == "task_available" && e.Json.GetProperty("id").GetString() == globalTask.Id);

        Assert.Equal(HttpStatusCode.OK, (await _worker.ClaimAsync(waiting.Id, "anything")).StatusCode);
    }

    [Fact]
    public async Task GlobalTask_MayBeClaimedByAWorkerOfSomeCodebase()
    {
        await _worker.RegisterWorkerAsync("specific", "/srv/one-repo");
        var task = await (await _op.PostJsonAsync("/v1/agent/tasks", new { prompt = "any" })).ReadAsync<TaskDto>();
        Assert.Equal(TaskStatuses.Routed, task.Status);
        Assert.Equal(HttpStatusCode.OK, (await _worker.ClaimAsync(task.Id, "specific")).StatusCode);
    }

    [Fact]
    public async Task TargetWorker_OnlyThatWorkerIsOfferedAndMayClaim()
    {
        var cb = await _op.CreateCodebaseAsync();
        await using var a = await SseClient.OpenAsync(_worker, "/v1/worker/tasks/stream", headers: Headers("a", cb.Id));
        await using var b = await SseClient.OpenAsync(_worker, "/v1/worker/tasks/stream", headers: Headers("b", cb.Id));
        Assert.Equal("connected", (await a.NextAsync()).Type);
        Assert.Equal("connected", (await b.NextAsync()).Type);

        var targeted = await _op.TriggerAsync(cb.Id, "for b", new { target_worker_id = "b" });
        await b.UntilAsync(e => e.Type == "task_available" && e.Json.GetProperty("id").GetString() == targeted.Id);
        var marker = await _op.TriggerAsync(cb.Id, "for anyone");

        // a's first offer is the untargeted marker: it was never offered the task meant for b.
        var offerToA = await a.NextAsync();
        Assert.Equal(("task_available", marker.Id), (offerToA.Type, offerToA.Json.GetProperty("id").GetString()));
        await (await _worker.ClaimAsync(targeted.Id, "a")).IsProblemAsync(HttpStatusCode.Conflict, "worker-not-eligible");
        Assert.Equal(HttpStatusCode.OK, (await _worker.ClaimAsync(targeted.Id, "b")).StatusCode);
    }

    [Fact]
    public async Task Model_TaskGoesOnlyToWorkersAdvertisingItOrNone()
    {
        var cb = await _op.CreateCodebaseAsync();
        foreach (var (id, models) in new[] { ("has-claude", new[] { "claude" }), ("has-gpt", new[] { "gpt" }), ("any-model", Array.Empty<string>()) })
        {
            var res = await _worker.PostJsonAsync("/v1/agent/workers/register", new { worker_id = id, codebases = new[] { cb.Id }, models });
            Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        }
        var task = await _op.TriggerAsync(cb.Id, "needs claude", new { model = "claude" });

        var gptPending = await _worker.Get("/v1/agent/tasks?status=pending&worker_id=has-gpt");
        Assert.DoesNotContain((await gptPending.ReadAsync<TaskPage>()).Tasks, t => t.Id == task.Id);
        var claudePending = await _worker.Get("/v1/agent/tasks?status=pending&worker_id=has-claude");
        Assert.Contains((await claudePending.ReadAsync<TaskPage>()).Tasks, t => t.Id == task.Id);
        await (await _worker.ClaimAsync(task.Id, "has-gpt")).IsProblemAsync(HttpStatusCode.Conflict, "worker-not-eligible");
        Assert.Equal(HttpStatusCode.OK, (await _worker.ClaimAsync(task.Id, "any-model")).StatusCode);

        var second = await _op.TriggerAsync(cb.Id, "needs claude too", new { model = "claude" });
        Assert.Equal(HttpStatusCode.OK, (await _worker.ClaimAsync(second.Id, "has-claude")).StatusCode);
    }

    [Fact]
    public async Task Model_OfferedOnStreamOnlyToAdvertisingWorker()
    {
        var cb = await _op.CreateCodebaseAsync();
        await using var gpt = await SseClient.OpenAsync(_worker, "/v1/worker/tasks/stream", headers: Headers("gpt", cb.Id, models: "gpt"));
        await using var claude = await SseClient.OpenAsync(_worker, "/v1/worker/tasks/stream", headers: Headers("claude", cb.Id, models: "claude,other"));
        Assert.Equal("connected", (await gpt.NextAsync()).Type);
        Assert.Equal("connected", (await claude.NextAsync()).Type);

        var forClaude = await _op.TriggerAsync(cb.Id, "claude only", new { model = "claude" });
        await claude.UntilAsync(e => e.Type == "task_available" && e.Json.GetProperty("id").GetString() == forClaude.Id);
        var forGpt = await _op.TriggerAsync(cb.Id, "gpt only", new { model = "gpt" });

        var offerToGpt = await gpt.NextAsync();
        Assert.Equal(forGpt.Id, offerToGpt.Json.GetProperty("id").GetString());
    }

    [Fact]
    public async Task PendingList_ForAWorker_ShowsOnlyWhatItMayClaim()
    {
        var mine = await _op.CreateCodebaseAsync();
        var theirs = await _op.CreateCodebaseAsync();
        await _worker.RegisterWorkerAsync("poller", mine.Id);
        var a = await _op.TriggerAsync(mine.Id);
        await _op.TriggerAsync(theirs.Id);
        var req = new HttpRequestMessage(HttpMethod.Get, "/v1/agent/tasks?status=pending");
        req.Headers.Add("X-Worker-ID", "poller");

        var page = await (await _worker.SendRequest(req)).ReadAsync<TaskPage>();

        Assert.Equal([a.Id], page.Tasks.Select(t => t.Id));
    }
}

public sealed class SqliteWorkerProtocolTests() : WorkerProtocolTests(DbKind.Sqlite);

public sealed class PostgresWorkerProtocolTests() : WorkerProtocolTests(DbKind.Postgres);
