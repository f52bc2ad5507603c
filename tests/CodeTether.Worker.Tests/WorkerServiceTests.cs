using CodeTether.Shared.Client;
using CodeTether.Shared.Contracts;
using CodeTether.Shared.Events;
using CodeTether.Worker.Agent;
using CodeTether.Worker.Tests.Fakes;
using Microsoft.AspNetCore.Http;

namespace CodeTether.Worker.Tests;

public sealed class WorkerServiceTests : IAsyncLifetime
{
    private FakeCodeTetherServer _server = null!;
    private readonly CancellationTokenSource _timeout = TestTimeout.Create(60);
    private readonly TempDirectory _codebase = new();
    private readonly CapturingLoggerProvider _logs = new();
    private readonly List<(WorkerService Worker, CodeTetherClient Client)> _workers = [];

    private CancellationToken Ct => _timeout.Token;

    public async ValueTask InitializeAsync() => _server = await FakeCodeTetherServer.StartAsync(Ct);

    public async ValueTask DisposeAsync()
    {
        foreach (var (worker, client) in _workers)
        {
            await worker.StopAsync(CancellationToken.None);
            worker.Dispose();
            client.Dispose();
        }
        await _server.DisposeAsync();
        _codebase.Dispose();
        _timeout.Dispose();
    }

    private async Task<(WorkerService Worker, StreamConnection Stream)> StartWorkerAsync(ITaskExecutor executor,
        TimeSpan? grace = null, TimeSpan? leaseRenew = null, TimeSpan? heartbeat = null, int maxConcurrent = 1)
    {
        var options = new WorkerOptions
        {
            ServerUrl = _server.Url,
            Token = "worker-token",
            WorkerId = "w-test",
            Codebases = [_codebase.Path],
            MaxConcurrent = maxConcurrent,
            Grace = grace ?? TimeSpan.FromSeconds(30),
            CancelGrace = TimeSpan.FromSeconds(30),
            LeaseRenewInterval = leaseRenew ?? TimeSpan.FromHours(1),
            HeartbeatInterval = heartbeat ?? TimeSpan.FromHours(1),
            ReconnectBaseDelay = TimeSpan.FromMilliseconds(10),
            ReconnectMaxDelay = TimeSpan.FromMilliseconds(50),
        };
        var client = CodeTetherClient.Create(options.ToClientOptions(), _logs.CreateLogger<CodeTetherClient>());
        var worker = new WorkerService(client, executor, Microsoft.Extensions.Options.Options.Create(options),
            _logs.CreateLogger<WorkerService>());
        _workers.Add((worker, client));
        await worker.StartAsync(Ct);
        await _server.NextAsync("register", Ct);
        var stream = await _server.NextStreamAsync(Ct);
        stream.Send(WorkerStreamEvents.Connected, new WorkerStreamConnected { WorkerId = "w-test" }, id: "1");
        return (worker, stream);
    }

    private void Offer(StreamConnection stream, string taskId, string prompt = "true")
    {
        var task = FakeCodeTetherServer.NewTask(taskId, prompt);
        _server.Tasks[taskId] = task;
        stream.Send(WorkerStreamEvents.TaskAvailable, task, id: "offer-" + taskId);
    }

    private async Task<ReleaseTaskRequest> NextReleaseAsync() => (await _server.NextAsync("release", Ct)).Read<ReleaseTaskRequest>();

    [Fact]
    public async Task TaskAvailable_ClaimsRunsAndReleasesCompleted_WithTheOutputStreamed()
    {
        var (_, stream) = await StartWorkerAsync(new ShellExecutor(TimeSpan.FromMinutes(1)));

        Offer(stream, "t-1", "echo hi from the shell");

        var claim = (await _server.NextAsync("claim", Ct)).Read<ClaimTaskRequest>();
        var steps = (await _server.NextAsync("steps", Ct)).Read<TaskStepsRequest>();
        var release = await NextReleaseAsync();
        Assert.Equal(("t-1", "w-test"), (claim.TaskId, claim.WorkerId));
        Assert.Equal(FakeCodeTetherServer.FencingToken, steps.FencingToken);
        Assert.Equal("hi from the shell", steps.Events![0].Data!.Value.GetProperty("text").GetString());
        Assert.Equal(("t-1", TaskStatuses.Completed, "hi from the shell", null),
            (release.TaskId, release.Status, release.Result, release.Error));
        Assert.Equal(FakeCodeTetherServer.FencingToken, release.FencingToken);
    }

    [Fact]
    public async Task TaskAvailable_WhenAnotherWorkerWonTheClaim_SkipsIt_AndTakesTheNextOne()
    {
        _server.Handle("claim", r => r.Read<ClaimTaskRequest>().TaskId == "t-lost"
            ? FakeCodeTetherServer.Problem(409, "Task already claimed")
            : Results.Json(new ClaimTaskResponse { Task = FakeCodeTetherServer.NewTask("t-won"), FencingToken = 5 },
                Shared.Json.CodeTetherJson.Options));
        var executor = new ControlledExecutor();
        var (_, stream) = await StartWorkerAsync(executor);

        Offer(stream, "t-lost");
        await _logs.WaitForAsync(l => l.Contains("Task t-lost was claimed by another worker", StringComparison.Ordinal), Ct);
        Offer(stream, "t-won");

        var started = await executor.Started.Reader.ReadAsync(Ct);
        executor.Finish("t-won", TaskOutcome.Completed("done"));
        var release = await NextReleaseAsync();
        Assert.Equal("t-won", started.Task.Id);
        Assert.False(executor.Started.Reader.TryRead(out _));
        Assert.Equal(("t-won", TaskStatuses.Completed, 5L), (release.TaskId, release.Status, release.FencingToken));
    }

    [Fact]
    public async Task UnconfiguredExecutor_FailsTheTaskWithAClearReason()
    {
        var (_, stream) = await StartWorkerAsync(new UnconfiguredExecutor());

        Offer(stream, "t-1");

        var release = await NextReleaseAsync();
        Assert.Equal(TaskStatuses.Failed, release.Status);
        Assert.Equal("no LLM provider configured on this worker (see the worker issue)", release.Error);
    }

    [Fact]
    public async Task ExecutorException_FailsTheTask_AndTheWorkerKeepsGoing()
    {
        var (_, stream) = await StartWorkerAsync(new ThrowingExecutor());

        Offer(stream, "t-1");
        var first = await NextReleaseAsync();
        Offer(stream, "t-2");
        var second = await NextReleaseAsync();

        Assert.Equal((TaskStatuses.Failed, "InvalidOperationException: executor exploded"), (first.Status, first.Error));
        Assert.Equal(("t-2", TaskStatuses.Failed), (second.TaskId, second.Status));
    }

    [Fact]
    public async Task InputRequired_MovesTheTaskToInputRequiredWithTheQuestion_AndDoesNotReleaseIt()
    {
        var executor = new ControlledExecutor();
        var (_, stream) = await StartWorkerAsync(executor);
        Offer(stream, "t-ask");
        await executor.Started.Reader.ReadAsync(Ct);

        executor.Finish("t-ask", TaskOutcome.InputRequired("Which database?"));

        var request = (await _server.NextAsync("input", Ct)).Read<RequestInputRequest>();
        Assert.Equal(("w-test", FakeCodeTetherServer.FencingToken, "Which database?"), (request.WorkerId, request.FencingToken, request.Message));
        Assert.EndsWith("/v1/worker/tasks/t-ask/input-required", _server.All.Single(r => r.Route == "input").Path);
        // The slot frees up (the worker polls for more work) and the task is never released.
        await _server.NextAsync("list", Ct);
        Assert.DoesNotContain(_server.All, r => r.Route == "release");
    }

    [Fact]
    public async Task InputRequired_WhenTheServerCannotTakeIt_ReleasesTheTaskAsFailedWithTheQuestion()
    {
        _server.Handle("input", _ => FakeCodeTetherServer.Problem(400, "Bad request"));
        var executor = new ControlledExecutor();
        var (_, stream) = await StartWorkerAsync(executor);
        Offer(stream, "t-ask");
        await executor.Started.Reader.ReadAsync(Ct);

        executor.Finish("t-ask", TaskOutcome.InputRequired("Which database?"));

        var release = await NextReleaseAsync();
        Assert.Equal(TaskStatuses.Failed, release.Status);
        Assert.StartsWith("input required: Which database?", release.Error);
    }

    [Fact]
    public async Task TaskCancelled_CancelsTheExecutor_AndReleasesTheTaskAsCancelled()
    {
        var executor = new ControlledExecutor();
        var (_, stream) = await StartWorkerAsync(executor);
        Offer(stream, "t-1");
        await executor.Started.Reader.ReadAsync(Ct);

        stream.Send(WorkerStreamEvents.TaskCancelled, new WorkerStreamTaskCancelled { TaskId = "t-1", Reason = "user asked" });

        Assert.Equal("t-1", await executor.Cancelled.Reader.ReadAsync(Ct));
        var release = await NextReleaseAsync();
        Assert.Equal(("t-1", TaskStatuses.Cancelled, "user asked"), (release.TaskId, release.Status, release.Error));
    }

    [Fact]
    public async Task StopAsync_AfterTheGrace_CancelsTheRunningTask_AndReleasesItAsFailedSoTheServerRequeues()
    {
        var executor = new ControlledExecutor();
        var (worker, stream) = await StartWorkerAsync(executor, grace: TimeSpan.FromMilliseconds(200));
        Offer(stream, "t-1");
        var ctx = await executor.Started.Reader.ReadAsync(Ct);

        await worker.StopAsync(Ct);

        Assert.True(ctx.WorkerStopping.IsCancellationRequested);
        Assert.Equal("t-1", await executor.Cancelled.Reader.ReadAsync(Ct));
        var release = await NextReleaseAsync();
        Assert.Equal(("t-1", TaskStatuses.Failed, "worker shutting down"), (release.TaskId, release.Status, release.Error));
    }

    [Fact]
    public async Task StopAsync_WhenTheTaskFinishesWithinTheGrace_ReleasesItsOwnOutcome()
    {
        var executor = new ControlledExecutor { FinishOnWorkerStopping = true };
        var (worker, stream) = await StartWorkerAsync(executor, grace: TimeSpan.FromMinutes(5));
        Offer(stream, "t-1");
        await executor.Started.Reader.ReadAsync(Ct);

        await worker.StopAsync(Ct);

        var release = await NextReleaseAsync();
        Assert.Equal((TaskStatuses.Completed, "finished during grace"), (release.Status, release.Result));
        Assert.False(executor.Cancelled.Reader.TryRead(out _));
    }

    [Fact]
    public async Task LeaseRenewal_RenewsWithTheFencingToken_AndCarriesProgress()
    {
        var executor = new ControlledExecutor();
        var (_, stream) = await StartWorkerAsync(executor, leaseRenew: TimeSpan.FromMilliseconds(50));
        Offer(stream, "t-1");
        var ctx = await executor.Started.Reader.ReadAsync(Ct);

        var periodic = (await _server.NextAsync("renew", Ct)).Read<TaskHeartbeatRequest>();
        await ctx.ProgressAsync(60, "tests running", Ct);

        Assert.Equal(("t-1", FakeCodeTetherServer.FencingToken), (periodic.TaskId, periodic.FencingToken));
        TaskHeartbeatRequest progress;
        do progress = (await _server.NextAsync("renew", Ct)).Read<TaskHeartbeatRequest>();
        while (progress.ProgressPct is null);
        Assert.Equal((60, "tests running"), (progress.ProgressPct, progress.StatusMessage));
        executor.Finish("t-1", TaskOutcome.Completed(null));
        Assert.Equal(TaskStatuses.Completed, (await NextReleaseAsync()).Status);
    }

    [Fact]
    public async Task LeaseLost_CancelsTheExecutor_AndNeverReleasesATaskThatIsNotOurs()
    {
        _server.Handle("renew", _ => FakeCodeTetherServer.Problem(404, "Lease expired; task requeued"));
        var executor = new ControlledExecutor();
        var (worker, stream) = await StartWorkerAsync(executor, leaseRenew: TimeSpan.FromMilliseconds(50));
        Offer(stream, "t-1");

        Assert.Equal("t-1", await executor.Cancelled.Reader.ReadAsync(Ct));
        await worker.StopAsync(Ct);

        Assert.DoesNotContain(_server.All, r => r.Route == "release");
    }

    [Fact]
    public async Task AtCapacity_DoesNotClaimMoreTasksThanMaxConcurrent()
    {
        var executor = new ControlledExecutor();
        var (_, stream) = await StartWorkerAsync(executor, maxConcurrent: 1);
        Offer(stream, "t-1");
        await executor.Started.Reader.ReadAsync(Ct);

        Offer(stream, "t-2");

        await _logs.WaitForAsync(l => l.Contains("Skipping task t-2", StringComparison.Ordinal), Ct);
        Assert.Single(_server.All, r => r.Route == "claim");
        executor.Finish("t-1", TaskOutcome.Completed(null));
        Assert.Equal("t-1", (await NextReleaseAsync()).TaskId);
    }

    [Fact]
    public async Task WhenASlotFreesUp_PollsForPendingTasks_AndClaimsThem()
    {
        var polled = 0;
        _server.Handle("list", _ => Results.Json(
            new TaskPage(Interlocked.Increment(ref polled) == 1 ? [FakeCodeTetherServer.NewTask("t-missed")] : [], null),
            Shared.Json.CodeTetherJson.Options));
        var (_, stream) = await StartWorkerAsync(new UnconfiguredExecutor());

        Offer(stream, "t-1");
        Assert.Equal("t-1", (await NextReleaseAsync()).TaskId);

        var list = await _server.NextAsync("list", Ct);
        Assert.Equal("?status=pending&limit=1", list.Query);
        Assert.Equal("t-missed", (await NextReleaseAsync()).TaskId);
    }

    [Fact]
    public async Task Heartbeat_WhenTheServerForgotTheWorker_RegistersAgain()
    {
        _server.Handle("heartbeat", _ => FakeCodeTetherServer.Problem(404, "Unknown worker"));
        await StartWorkerAsync(new UnconfiguredExecutor(), heartbeat: TimeSpan.FromMilliseconds(50));

        var heartbeat = await _server.NextAsync("heartbeat", Ct);
        var again = await _server.NextAsync("register", Ct);

        Assert.Equal("online", heartbeat.Json.GetProperty("status").GetString());
        Assert.Equal("w-test", again.Json.GetProperty("worker_id").GetString());
    }
}
