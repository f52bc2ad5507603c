using CodeTether.Api.Realtime;
using CodeTether.Shared.Contracts;
using CodeTether.Testing;

namespace CodeTether.Api.Tests.Processes;

/// <summary>
/// Real worker daemons (<c>codetether worker --executor shell</c>, separate processes) against the real host:
/// a worker killed with SIGKILL mid-task loses nothing; one stopped with SIGTERM hands its task back.
/// </summary>
public abstract class WorkerCrashTests(DbKind kind) : IAsyncLifetime
{
    ApiHost _host = null!;
    string _repo = null!;

    public async ValueTask InitializeAsync()
    {
        _host = await ApiHost.StartAsync(kind, new Dictionary<string, string?>
        {
            ["Tasks:LeaseDuration"] = "00:00:03",
            ["Tasks:ReaperInterval"] = "00:00:00.250",
        });
        _repo = Directory.CreateTempSubdirectory("codetether-repo-").FullName;
    }

    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync();
        Directory.Delete(_repo, recursive: true);
    }

    CodeTetherProcess StartWorker(string id) => CodeTetherProcess.Start(
        ["worker", "--server", _host.BaseAddress.ToString(), "--codebases", _repo, "--executor", "shell", "--worker-id", id, "--grace", "1"],
        new Dictionary<string, string?> { ["A2A_WORKER_TOKEN"] = ApiHost.WorkerToken });

    /// <summary>First attempt: leave a marker and hang; any later attempt: finish at once.</summary>
    const string HangOnce = "if [ -f attempt.marker ]; then echo second attempt done; else touch attempt.marker; echo first attempt started; sleep 120; fi";

    async Task WaitOnlineAsync(string workerId)
    {
        using var sub = _host.Service<IEventBus>().Subscribe(e => e.Worker is { } w && w.WorkerId == workerId && w.Status == WorkerStatuses.Online);
        var http = _host.Client();
        var res = await http.GetAsync($"/v1/agent/workers/{workerId}", TestContext.Current.CancellationToken);
        if (res.IsSuccessStatusCode && (await res.ReadAsync<WorkerDto>()).Status != WorkerStatuses.Offline) return;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await sub.Reader.ReadAsync(cts.Token);
    }

    [Fact]
    public async Task Worker_KilledMidTask_TaskIsRequeuedAfterLeaseAndCompletedByAnotherWorker()
    {
        var http = _host.Client();
        var codebase = await http.CreateCodebaseAsync(_repo);
        await using var events = await SseClient.OpenAsync(http, $"/v1/agent/codebases/{codebase.Id}/events");

        await using var first = StartWorker("crash-a");
        await WaitOnlineAsync("crash-a");
        var task = await http.TriggerAsync(codebase.Id, HangOnce);
        await events.UntilAsync(e => e.Type == "output" && e.Data.Contains("first attempt started"), TimeSpan.FromSeconds(60));

        first.Kill(); // SIGKILL: no release, no goodbye
        await using var second = StartWorker("crash-b");
        var seen = await events.UntilAsync(e => e.Type == "status" && e.Json.GetProperty("status").GetString() == TaskStatuses.Completed,
            TimeSpan.FromSeconds(90));

        var detail = await http.GetTaskAsync(task.Id);
        Assert.Equal(TaskStatuses.Completed, detail.Task.Status);
        Assert.Equal(2, detail.Task.Attempt);
        Assert.Contains("second attempt done", detail.Task.Result);
        Assert.Equal("crash-b", detail.Task.WorkerId);

        var claims = detail.Timeline.Where(e => e.Status == TaskStatuses.Claimed).ToList();
        Assert.Equal(["crash-a", "crash-b"], claims.Select(c => c.WorkerId));
        Assert.Equal([1, 2], claims.Select(c => c.Attempt));
        var requeue = Assert.Single(detail.Timeline, e => e.Status == TaskStatuses.Submitted && e.Attempt == 2);
        Assert.Contains("lease of worker crash-a expired", requeue.Data!.Value.GetProperty("reason").GetString());
        Assert.Equal(seen.Select(e => long.Parse(e.Id!)).Order(), seen.Select(e => long.Parse(e.Id!)));
    }

    [Fact]
    public async Task Worker_Sigterm_HandsItsTaskBackAndExits()
    {
        var http = _host.Client();
        var codebase = await http.CreateCodebaseAsync(_repo);
        await using var events = await SseClient.OpenAsync(http, $"/v1/agent/codebases/{codebase.Id}/events");
        await using var worker = StartWorker("term-a");
        await WaitOnlineAsync("term-a");
        var task = await http.TriggerAsync(codebase.Id, HangOnce);
        await events.UntilAsync(e => e.Type == "output" && e.Data.Contains("first attempt started"), TimeSpan.FromSeconds(60));

        worker.Terminate();
        Assert.Equal(0, await worker.WaitForExitAsync(TimeSpan.FromSeconds(30)));

        var detail = await http.GetTaskAsync(task.Id);
        Assert.Equal(2, detail.Task.Attempt);
        Assert.Contains(detail.Task.Status, TaskStatuses.Claimable);
        Assert.Null(detail.Task.LeaseExpiresAt); // nobody holds it any more
        var handBack = detail.Timeline.Last(e => e.Status == TaskStatuses.Submitted);
        Assert.Contains("handed the task back", handBack.Data!.Value.GetProperty("reason").GetString());
        var w = await (await http.GetAsync("/v1/agent/workers/term-a", TestContext.Current.CancellationToken)).ReadAsync<WorkerDto>();
        Assert.Equal(WorkerStatuses.Offline, w.Status);
    }
}

public sealed class SqliteWorkerCrashTests() : WorkerCrashTests(DbKind.Sqlite);

public sealed class PostgresWorkerCrashTests() : WorkerCrashTests(DbKind.Postgres);
