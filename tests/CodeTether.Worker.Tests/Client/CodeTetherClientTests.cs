using System.Net;
using CodeTether.Shared.Client;
using CodeTether.Shared.Contracts;
using CodeTether.Shared.Events;
using CodeTether.Worker.Tests.Fakes;
using Microsoft.AspNetCore.Http;

namespace CodeTether.Worker.Tests.Client;

public sealed class CodeTetherClientTests : IAsyncLifetime
{
    private const string Token = "s3cret-worker-token";
    private FakeCodeTetherServer _server = null!;
    private readonly CancellationTokenSource _timeout = TestTimeout.Create();
    private readonly CapturingLoggerProvider _logs = new();

    private CancellationToken Ct => _timeout.Token;

    public async ValueTask InitializeAsync() => _server = await FakeCodeTetherServer.StartAsync(Ct);

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        _timeout.Dispose();
    }

    private CodeTetherClientOptions Options => new()
    {
        ServerUrl = _server.Url,
        Token = Token,
        WorkerId = "w-1",
        WorkerName = "builder",
        Hostname = "box",
        Codebases = ["/srv/app", "/srv/lib"],
        Capabilities = ["shell", "git"],
        Models = ["m-1"],
        ReconnectBaseDelay = TimeSpan.FromMilliseconds(10),
        ReconnectMaxDelay = TimeSpan.FromMilliseconds(50),
    };

    private CodeTetherClient CreateClient() => CodeTetherClient.Create(Options, _logs.CreateLogger<CodeTetherClient>());

    [Fact]
    public async Task Register_SendsBearerTokenWorkerIdAndSnakeCaseBody()
    {
        using var client = CreateClient();

        var worker = await client.RegisterAsync(Ct);

        var request = await _server.NextAsync("register", Ct);
        Assert.Equal($"Bearer {Token}", request.Header("Authorization"));
        Assert.Equal("w-1", request.Header("X-Worker-ID"));
        Assert.Equal("w-1", request.Json.GetProperty("worker_id").GetString());
        Assert.Equal("builder", request.Json.GetProperty("name").GetString());
        Assert.Equal(2, request.Json.GetProperty("codebases").GetArrayLength());
        Assert.Equal("w-1", worker.WorkerId);
        Assert.Equal(["shell", "git"], worker.Capabilities);
    }

    [Fact]
    public async Task Heartbeat_PostsToTheWorkersRoute()
    {
        using var client = CreateClient();

        await client.HeartbeatAsync(WorkerStatuses.Busy, Ct);

        var request = await _server.NextAsync("heartbeat", Ct);
        Assert.Equal("/v1/agent/workers/w-1/heartbeat", request.Path);
        Assert.Equal("busy", request.Json.GetProperty("status").GetString());
        Assert.Equal("w-1", request.Header("X-Worker-ID"));
    }

    [Fact]
    public async Task StreamTasks_ParsesTheFourEvents()
    {
        using var client = CreateClient();
        await using var events = client.StreamTasksAsync(Ct).GetAsyncEnumerator(Ct);
        var next = events.MoveNextAsync();

        var stream = await _server.NextStreamAsync(Ct);
        stream.Send(WorkerStreamEvents.Connected, new WorkerStreamConnected { WorkerId = "w-1" }, id: "1");
        stream.Send(WorkerStreamEvents.TaskAvailable, FakeCodeTetherServer.NewTask("t-1", "make test"), id: "2");
        stream.Send(WorkerStreamEvents.TaskCancelled, new WorkerStreamTaskCancelled { TaskId = "t-1", Reason = "user" }, id: "3");
        stream.Send(WorkerStreamEvents.Heartbeat, "{}");

        Assert.True(await next);
        var connected = Assert.IsType<WorkerConnectedEvent>(events.Current);
        Assert.Equal(("1", "w-1"), (connected.EventId, connected.WorkerId));

        Assert.True(await events.MoveNextAsync());
        var available = Assert.IsType<TaskAvailableEvent>(events.Current);
        Assert.Equal(("t-1", "make test", "2"), (available.Task.Id, available.Task.Prompt, available.EventId));

        Assert.True(await events.MoveNextAsync());
        var cancelled = Assert.IsType<TaskCancelledEvent>(events.Current);
        Assert.Equal(("t-1", "user"), (cancelled.TaskId, cancelled.Reason));

        Assert.True(await events.MoveNextAsync());
        Assert.IsType<StreamHeartbeatEvent>(events.Current);
        Assert.Equal("3", client.LastEventId);

        var headers = stream.Request;
        Assert.Equal($"Bearer {Token}", headers.Header("Authorization"));
        Assert.Equal("w-1", headers.Header("X-Worker-ID"));
        Assert.Equal("builder", headers.Header("X-Agent-Name"));
        Assert.Equal("/srv/app,/srv/lib", headers.Header("X-Codebases"));
        Assert.Equal("shell,git", headers.Header("X-Capabilities"));
        Assert.Equal("text/event-stream", headers.Header("Accept"));
        Assert.Null(headers.Header("Last-Event-ID"));
    }

    [Fact]
    public async Task StreamTasks_AcceptsATaskWrappedInAnEnvelope_AndSkipsMalformedEvents()
    {
        using var client = CreateClient();
        await using var events = client.StreamTasksAsync(Ct).GetAsyncEnumerator(Ct);
        var next = events.MoveNextAsync();

        var stream = await _server.NextStreamAsync(Ct);
        stream.Send(WorkerStreamEvents.TaskAvailable, "{not json");
        stream.Send(WorkerStreamEvents.TaskAvailable, "{\"title\":\"missing required members\"}");
        stream.Send("something_new", "{}");
        stream.Send(WorkerStreamEvents.TaskAvailable, new { task = FakeCodeTetherServer.NewTask("t-9") });

        Assert.True(await next);
        Assert.Equal("t-9", Assert.IsType<TaskAvailableEvent>(events.Current).Task.Id);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task StreamTasks_WhenTheServerDropsTheStream_ReRegistersAndResumesFromLastEventId(bool abort)
    {
        using var client = CreateClient();
        await using var events = client.StreamTasksAsync(Ct).GetAsyncEnumerator(Ct);
        var next = events.MoveNextAsync();

        var first = await _server.NextStreamAsync(Ct);
        first.Send(WorkerStreamEvents.Connected, new WorkerStreamConnected { WorkerId = "w-1" }, id: "10");
        first.Send(WorkerStreamEvents.Heartbeat, "{}", id: "11");
        Assert.True(await next);
        Assert.True(await events.MoveNextAsync());
        next = events.MoveNextAsync();
        if (abort) first.Abort(); else first.End();

        var registration = await _server.NextAsync("register", Ct);
        var second = await _server.NextStreamAsync(Ct);
        Assert.Equal("w-1", registration.Json.GetProperty("worker_id").GetString());
        Assert.Equal("11", second.Request.Header("Last-Event-ID"));

        second.Send(WorkerStreamEvents.TaskAvailable, FakeCodeTetherServer.NewTask("t-after-reconnect"), id: "12");
        Assert.True(await next);
        Assert.Equal("t-after-reconnect", Assert.IsType<TaskAvailableEvent>(events.Current).Task.Id);

        await _logs.WaitForAsync(l => l.Contains("Reconnecting task stream of worker w-1", StringComparison.Ordinal), Ct);
        Assert.DoesNotContain(_logs.Lines, l => l.Contains(Token, StringComparison.Ordinal));
    }

    [Fact]
    public async Task StreamTasks_WhenTheServerIsUnavailable_KeepsRetryingUntilItAnswers()
    {
        var refusals = 0;
        _server.Handle("stream", _ => Interlocked.Increment(ref refusals) <= 3
            ? Results.StatusCode(StatusCodes.Status503ServiceUnavailable)
            : FakeCodeTetherServer.Stream);
        using var client = CreateClient();
        await using var events = client.StreamTasksAsync(Ct).GetAsyncEnumerator(Ct);
        var next = events.MoveNextAsync();

        var stream = await _server.NextStreamAsync(Ct);
        stream.Send(WorkerStreamEvents.Connected, new WorkerStreamConnected { WorkerId = "w-1" });

        Assert.True(await next);
        Assert.IsType<WorkerConnectedEvent>(events.Current);
        Assert.Equal(4, _server.All.Count(r => r.Route == "stream"));
        Assert.Equal(3, _server.All.Count(r => r.Route == "register"));
    }

    [Fact]
    public async Task StreamTasks_WhenTheTokenIsRejected_Throws()
    {
        _server.Handle("stream", _ => FakeCodeTetherServer.Problem(401, "Invalid worker token"));
        using var client = CreateClient();

        var ex = await Assert.ThrowsAsync<CodeTetherApiException>(async () =>
        {
            await foreach (var _ in client.StreamTasksAsync(Ct))
            {
            }
        });

        Assert.Equal(HttpStatusCode.Unauthorized, ex.StatusCode);
        Assert.Equal("Invalid worker token", ex.Title);
    }

    [Fact]
    public async Task StreamTasks_WhenCancelled_EndsWithoutThrowing()
    {
        using var client = CreateClient();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var consumer = Task.Run(async () =>
        {
            var count = 0;
            await foreach (var _ in client.StreamTasksAsync(stop.Token)) count++;
            return count;
        }, Ct);

        var stream = await _server.NextStreamAsync(Ct);
        stream.Send(WorkerStreamEvents.Heartbeat, "{}");
        await stop.CancelAsync();

        Assert.InRange(await consumer, 0, 1);
    }

    [Fact]
    public async Task Claim_WhenWon_ReturnsTheLease()
    {
        using var client = CreateClient();

        var claim = await client.ClaimAsync("t-1", Ct);

        Assert.NotNull(claim);
        Assert.Equal(FakeCodeTetherServer.FencingToken, claim.FencingToken);
        Assert.Equal("t-1", claim.Task.Id);
        var request = await _server.NextAsync("claim", Ct);
        Assert.Equal("t-1", request.Json.GetProperty("task_id").GetString());
        Assert.Equal("w-1", request.Json.GetProperty("worker_id").GetString());
    }

    [Fact]
    public async Task Claim_WhenAnotherWorkerWon_ReturnsNull()
    {
        _server.Handle("claim", _ => FakeCodeTetherServer.Problem(409, "Task already claimed"));
        using var client = CreateClient();

        Assert.Null(await client.ClaimAsync("t-1", Ct));
        Assert.Single(_server.All, r => r.Route == "claim");
    }

    [Fact]
    public async Task Claim_WhenRejected_ThrowsWithTheProblemDetails()
    {
        _server.Handle("claim", _ => FakeCodeTetherServer.Problem(422, "Codebase not served", "worker w-1 has no /x"));
        using var client = CreateClient();

        var ex = await Assert.ThrowsAsync<CodeTetherApiException>(() => client.ClaimAsync("t-1", Ct));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, ex.StatusCode);
        Assert.Equal("Codebase not served", ex.Title);
        Assert.Equal("worker w-1 has no /x", ex.Detail);
        Assert.Equal("https://codetether.dev/problems/test", ex.Problem!.Type);
    }

    [Theory]
    [InlineData(404)]
    [InlineData(409)]
    public async Task RenewLease_WhenTheLeaseIsGone_ThrowsLeaseLost(int status)
    {
        _server.Handle("renew", _ => FakeCodeTetherServer.Problem(status, "Stale fencing token"));
        using var client = CreateClient();

        var ex = await Assert.ThrowsAsync<LeaseLostException>(() => client.RenewLeaseAsync("t-1", 7, ct: Ct));

        Assert.Equal("t-1", ex.TaskId);
        Assert.Equal((HttpStatusCode)status, ex.StatusCode);
    }

    [Fact]
    public async Task RenewLease_SendsProgressAndFencingToken()
    {
        using var client = CreateClient();

        var lease = await client.RenewLeaseAsync("t-1", 7, 40, "compiling", ct: Ct);

        var body = (await _server.NextAsync("renew", Ct)).Json;
        Assert.Equal(7, body.GetProperty("fencing_token").GetInt64());
        Assert.Equal(40, body.GetProperty("progress_pct").GetInt32());
        Assert.Equal("compiling", body.GetProperty("status_message").GetString());
        Assert.Equal(("t-1", 7L), (lease.TaskId, lease.FencingToken));
    }

    [Fact]
    public async Task PostSteps_PostsTheBatch_AndMapsConflictToLeaseLost()
    {
        using var client = CreateClient();
        TaskStep[] steps = [new() { Type = TaskEventTypes.Output }, new() { Type = TaskEventTypes.Progress }];

        await client.PostStepsAsync("t-1", 7, steps, Ct);
        _server.Handle("steps", _ => FakeCodeTetherServer.Problem(409, "Stale fencing token"));
        await Assert.ThrowsAsync<LeaseLostException>(() => client.PostStepsAsync("t-1", 7, steps, Ct));

        var request = await _server.NextAsync("steps", Ct);
        Assert.Equal("/v1/worker/tasks/t-1/events", request.Path);
        Assert.Equal(2, request.Json.GetProperty("events").GetArrayLength());
    }

    [Fact]
    public async Task Release_SendsTheOutcome_AndMapsNotFoundToLeaseLost()
    {
        using var client = CreateClient();

        await client.ReleaseAsync("t-1", 7, TaskStatuses.Failed, "partial", "boom", Ct);
        _server.Handle("release", _ => FakeCodeTetherServer.Problem(404, "Not the holder"));
        await Assert.ThrowsAsync<LeaseLostException>(() =>
            client.ReleaseAsync("t-1", 7, TaskStatuses.Completed, null, null, Ct));

        var body = (await _server.NextAsync("release", Ct)).Json;
        Assert.Equal("failed", body.GetProperty("status").GetString());
        Assert.Equal("boom", body.GetProperty("error").GetString());
        Assert.Equal("partial", body.GetProperty("result").GetString());
    }

    [Fact]
    public async Task SyncSessions_PostsToTheCodebase()
    {
        using var client = CreateClient();
        var request = new SessionSyncRequest
        {
            Sessions = [new SessionSyncItem { Id = "s-1", Messages = [new SessionMessageDto { Role = "user", Content = "hi" }] }],
        };

        var result = await client.SyncSessionsAsync("cb-1", request, Ct);

        Assert.Equal(new SessionSyncResponse(1, 1), result);
        var recorded = await _server.NextAsync("sync", Ct);
        Assert.Equal("/v1/agent/codebases/cb-1/sessions/sync", recorded.Path);
        Assert.Equal("w-1", recorded.Json.GetProperty("worker_id").GetString());
    }

    [Fact]
    public async Task TaskApi_CreatesListsGetsAndCancels()
    {
        using var client = CreateClient();

        var created = await client.CreateTaskAsync(new CreateTaskRequest { Prompt = "ls", Title = "list", CodebaseId = "cb-1" }, Ct);
        var page = await client.ListTasksAsync(TaskStatuses.Pending, "cb-1", 5, ct: Ct);
        var missing = await client.GetTaskAsync("nope", Ct);
        var cancelled = await client.CancelTaskAsync("t-3", "no longer needed", Ct);

        Assert.Equal(("t-created", "submitted", "cb-1"), (created.Id, created.Status, created.CodebaseId));
        Assert.Empty(page.Tasks);
        Assert.Equal("?status=pending&codebase_id=cb-1&limit=5", (await _server.NextAsync("list", Ct)).Query);
        Assert.Null(missing);
        Assert.Equal(("t-3", "cancelled"), (cancelled.Id, cancelled.Status));
        Assert.Equal("no longer needed", (await _server.NextAsync("cancel", Ct)).Json.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task ResilientClient_RetriesTransientFailures_ButNeverRetriesTaskCreation()
    {
        var heartbeats = 0;
        _server.Handle("heartbeat", _ => Interlocked.Increment(ref heartbeats) == 1
            ? Results.StatusCode(StatusCodes.Status503ServiceUnavailable)
            : Results.Ok());
        _server.Handle("create", _ => Results.StatusCode(StatusCodes.Status503ServiceUnavailable));
        using var client = CreateClient();

        await client.HeartbeatAsync(ct: Ct);
        var ex = await Assert.ThrowsAsync<CodeTetherApiException>(() =>
            client.CreateTaskAsync(new CreateTaskRequest { Prompt = "x" }, Ct));

        Assert.Equal(2, _server.All.Count(r => r.Route == "heartbeat"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ex.StatusCode);
        Assert.Single(_server.All, r => r.Route == "create");
    }

    [Fact]
    public void Options_ToString_NeverShowsTheToken()
    {
        Assert.DoesNotContain(Token, Options.ToString(), StringComparison.Ordinal);
        Assert.Contains("***", Options.ToString(), StringComparison.Ordinal);
    }
}
