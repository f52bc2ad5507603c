using System.Net;
using System.Net.Sockets;
using CodeTether.Api.Realtime;
using CodeTether.Shared.Contracts;
using CodeTether.Testing;

namespace CodeTether.Api.Tests.Processes;

/// <summary>
/// The agent worker (<c>codetether worker --executor agent</c>, a real process, OpenAI protocol against the local
/// <see cref="LlmStub"/>) through the moments a task can be interrupted: an approval round trip (input-required → resume),
/// a cancel, a SIGTERM and a host restart in the middle of a tool call. The "middle" is a <c>shell</c> call that waits for
/// a gate file the test creates (or never creates); every wait is for an event.
/// </summary>
public sealed class AgentLifecycleTests : IAsyncLifetime
{
    const string Key = "sk-lifecycle-key-0123456789";
    readonly int _port = FreePort();
    ApiHost _host = null!;
    TestDatabase? _db;
    string _repo = null!;
    readonly List<string> _dirs = [];

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _host = await ApiHost.StartAsync(DbKind.Sqlite, port: _port);
        _repo = TempDir("codetether-agent-life-repo-");
        File.WriteAllText(Path.Combine(_repo, "README.md"), "# demo\n");
    }

    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync();
        if (_db is not null) await _db.DisposeAsync();
        foreach (var d in _dirs)
            try { Directory.Delete(d, recursive: true); } catch (IOException) { }
    }

    string TempDir(string prefix)
    {
        var d = Directory.CreateTempSubdirectory(prefix).FullName;
        _dirs.Add(d);
        return d;
    }

    static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    CodeTetherProcess StartWorker(string id, LlmStub llm, string approve = "all", string grace = "20") => CodeTetherProcess.Start(
        ["worker", "--server", _host.BaseAddress.ToString(), "--codebases", _repo, "--executor", "agent", "--models", "openai:gpt-test",
         "--auto-approve", approve, "--worker-id", id, "--data-dir", TempDir("codetether-agent-life-data-"), "--grace", grace],
        new Dictionary<string, string?>
        {
            ["A2A_WORKER_TOKEN"] = ApiHost.WorkerToken,
            ["OPENAI_API_KEY"] = Key,
            ["OPENAI_BASE_URL"] = new Uri(llm.Url, "/v1").ToString(),
        });

    async Task WaitOnlineAsync(string workerId)
    {
        using var sub = _host.Service<IEventBus>().Subscribe(e => e.Worker is { } w && w.WorkerId == workerId && w.Status != WorkerStatuses.Offline);
        var res = await _host.Client().GetAsync($"/v1/agent/workers/{workerId}", Ct);
        if (res.IsSuccessStatusCode && (await res.ReadAsync<WorkerDto>()).Status != WorkerStatuses.Offline) return;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await sub.Reader.ReadAsync(cts.Token);
    }

    static bool Is(SseEvent e, string taskId, string type) => e.Type == type && e.Json.GetProperty("task_id").GetString() == taskId;

    static bool IsStatus(SseEvent e, string taskId, string status) =>
        Is(e, taskId, "status") && e.Json.GetProperty("status").GetString() == status;

    static string? ToolName(SseEvent e) => e.Json.GetProperty("data").GetProperty("name").GetString();

    /// <summary>A <c>shell</c> command that blocks until the test creates <paramref name="gate"/>.</summary>
    static object WaitFor(string gate, string then) =>
        new { command = $"while [ ! -f {gate} ]; do sleep 0.05; done; echo {then}", timeout_seconds = 300 };

    [Fact]
    public async Task Approval_UnderSafe_GoesInputRequired_AndTheResumedTaskRunsTheCall()
    {
        await using var llm = await LlmStub.StartAsync(
        [
            LlmTurn.Tool("write_file", new { path = "NOTES.md", content = "approved change\n" }),
            LlmTurn.Say("Wrote NOTES.md after approval."),
        ]);
        var http = _host.Client();
        var codebase = await http.CreateCodebaseAsync(_repo);
        await using var events = await SseClient.OpenAsync(http, $"/v1/agent/codebases/{codebase.Id}/events");
        await using var worker = StartWorker("approve-a", llm, approve: "safe");
        await WaitOnlineAsync("approve-a");

        var task = await http.TriggerAsync(codebase.Id, "Write NOTES.md");
        var asked = await events.UntilAsync(e => IsStatus(e, task.Id, TaskStatuses.InputRequired), TimeSpan.FromSeconds(120));

        Assert.False(File.Exists(Path.Combine(_repo, "NOTES.md")));
        var waiting = await http.GetTaskAsync(task.Id);
        Assert.Equal(TaskStatuses.InputRequired, waiting.Task.Status);
        Assert.Null(waiting.Task.LeaseExpiresAt);
        Assert.StartsWith("Approve tool call 'write_file' (changes files or runs commands) with arguments {\"path\":\"NOTES.md\"", waiting.Task.StatusMessage);
        var approval = Assert.Single(asked, e => Is(e, task.Id, "message") && e.Json.GetProperty("data").GetProperty("kind").GetString() == "approval_required");
        Assert.Equal("write_file", approval.Json.GetProperty("data").GetProperty("tool").GetString());
        Assert.DoesNotContain(asked, e => Is(e, task.Id, "tool_result"));

        var resumed = await http.PostRaw($"/v1/agent/tasks/{task.Id}/resume", """{"prompt":"approve"}""");
        Assert.Equal(HttpStatusCode.OK, resumed.StatusCode);
        var rest = await events.UntilAsync(e => Is(e, task.Id, "status") && TaskStatuses.IsTerminal(e.Json.GetProperty("status").GetString()!),
            TimeSpan.FromSeconds(120));

        // The repo's real state
        Assert.Equal("approved change\n", File.ReadAllText(Path.Combine(_repo, "NOTES.md")));
        // The events the server recorded
        var detail = await http.GetTaskAsync(task.Id);
        Assert.True(detail.Task.Status == TaskStatuses.Completed, $"task {detail.Task.Status}: {detail.Task.Error}\n{worker.Output}");
        Assert.StartsWith("Wrote NOTES.md after approval.", detail.Task.Result);
        Assert.Equal(1, detail.Task.Attempt);
        Assert.Equal([TaskStatuses.InputRequired, TaskStatuses.Submitted],
            detail.Timeline.Select(e => e.Status).SkipWhile(s => s != TaskStatuses.InputRequired).Take(2));
        Assert.Equal(2, detail.Timeline.Count(e => e.Status == TaskStatuses.Claimed));
        var result = Assert.Single(rest, e => Is(e, task.Id, "tool_result")).Json.GetProperty("data");
        Assert.Equal(("write_file", true, true), (result.GetProperty("name").GetString(), result.GetProperty("ok").GetBoolean(), result.GetProperty("approved").GetBoolean()));
        Assert.Single(rest, e => Is(e, task.Id, "diff"));
        // The model: one call before the question, one after with the tool's result and the answer
        var requests = llm.Requests.ToList();
        Assert.Equal(2, requests.Count);
        Assert.Contains("created NOTES.md", requests[1].Raw);
        Assert.Contains("\"approve\"", requests[1].Raw);
        Assert.Contains("Write NOTES.md", requests[1].Raw); // the same session: the first prompt is still there
    }

    [Fact]
    public async Task Cancel_MidToolCall_StopsTheLoop_NoFurtherToolRuns_TaskEndsCancelled()
    {
        await using var llm = await LlmStub.StartAsync(
        [
            LlmTurn.Tool("shell", WaitFor("never.gate", "unblocked")),
            LlmTurn.Tool("write_file", new { path = "after-cancel.txt", content = "must not exist" }),
            LlmTurn.Say("done"),
        ]);
        var http = _host.Client();
        var codebase = await http.CreateCodebaseAsync(_repo);
        await using var events = await SseClient.OpenAsync(http, $"/v1/agent/codebases/{codebase.Id}/events");
        await using var worker = StartWorker("cancel-a", llm);
        await WaitOnlineAsync("cancel-a");
        var task = await http.TriggerAsync(codebase.Id, "Wait, then write a file");
        await events.UntilAsync(e => Is(e, task.Id, "tool_call") && ToolName(e) == "shell", TimeSpan.FromSeconds(120));

        Assert.Equal(HttpStatusCode.OK, (await http.Post($"/v1/agent/tasks/{task.Id}/cancel")).StatusCode);
        await worker.WaitForOutputAsync($"Released task {task.Id} as cancelled", TimeSpan.FromSeconds(60));

        var detail = await http.GetTaskAsync(task.Id);
        Assert.Equal(TaskStatuses.Cancelled, detail.Task.Status);
        Assert.Null(detail.Task.LeaseExpiresAt);
        Assert.Single(llm.Requests); // the model was not called again
        Assert.False(File.Exists(Path.Combine(_repo, "after-cancel.txt")));
        // The worker is free again: the next task runs (the stub's remaining script writes the file; the policy allows it).
        var next = await http.TriggerAsync(codebase.Id, "Write the file now");
        await events.UntilAsync(e => IsStatus(e, next.Id, TaskStatuses.Completed), TimeSpan.FromSeconds(120));
        Assert.True(File.Exists(Path.Combine(_repo, "after-cancel.txt")));
        Assert.DoesNotContain(detail.Timeline, e => e.Status == TaskStatuses.Completed);
    }

    [Fact]
    public async Task Sigterm_MidToolCall_HandsTheTaskBack_AndAnotherWorkerFinishesIt()
    {
        // Attempt 1 blocks on a gate nobody opens; attempt 2 (another worker, its own session store) finds it open.
        await using var llm = await LlmStub.StartAsync(
        [
            LlmTurn.Tool("shell", WaitFor("sigterm.gate", "first")),
            LlmTurn.Tool("shell", new { command = "echo second attempt ran" }),
            LlmTurn.Say("Finished on the second worker."),
        ]);
        var http = _host.Client();
        var codebase = await http.CreateCodebaseAsync(_repo);
        await using var events = await SseClient.OpenAsync(http, $"/v1/agent/codebases/{codebase.Id}/events");
        await using var first = StartWorker("term-agent-a", llm, grace: "1");
        await WaitOnlineAsync("term-agent-a");
        var task = await http.TriggerAsync(codebase.Id, "Long job");
        await events.UntilAsync(e => Is(e, task.Id, "tool_call") && ToolName(e) == "shell", TimeSpan.FromSeconds(120));

        first.Terminate();
        Assert.Equal(0, await first.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        var handedBack = await http.GetTaskAsync(task.Id);
        Assert.Contains(handedBack.Task.Status, TaskStatuses.Claimable);
        Assert.Equal(2, handedBack.Task.Attempt);

        await using var second = StartWorker("term-agent-b", llm);
        var rest = await events.UntilAsync(e => IsStatus(e, task.Id, TaskStatuses.Completed), TimeSpan.FromSeconds(120));

        var detail = await http.GetTaskAsync(task.Id);
        Assert.Equal(("term-agent-b", 2), (detail.Task.WorkerId, detail.Task.Attempt));
        Assert.StartsWith("Finished on the second worker.", detail.Task.Result);
        Assert.Equal(["term-agent-a", "term-agent-b"], detail.Timeline.Where(e => e.Status == TaskStatuses.Claimed).Select(e => e.WorkerId));
        var handBack = detail.Timeline.Last(e => e.Status == TaskStatuses.Submitted);
        Assert.Contains("handed the task back: worker shutting down", handBack.Data!.Value.GetProperty("reason").GetString());
        Assert.Contains(rest, e => Is(e, task.Id, "tool_result") && e.Json.GetProperty("data").GetProperty("output").GetString()!.Contains("second attempt ran"));
        Assert.Equal(3, llm.Requests.Count);
    }

    [Fact]
    public async Task HostRestart_MidToolCall_WorkerReconnects_AndCompletesTheTask()
    {
        _db = _host.Database; // the restarted host shares it; disposed at the end
        await using var llm = await LlmStub.StartAsync(
        [
            LlmTurn.Tool("shell", WaitFor("restart.gate", "gate opened after the restart")),
            LlmTurn.Say("Done across the restart."),
        ]);
        var http = _host.Client();
        var codebase = await http.CreateCodebaseAsync(_repo);
        await using var worker = StartWorker("restart-agent", llm);
        await WaitOnlineAsync("restart-agent");
        TaskDto task;
        await using (var events = await SseClient.OpenAsync(http, $"/v1/agent/codebases/{codebase.Id}/events"))
        {
            task = await http.TriggerAsync(codebase.Id, "Survive a restart");
            await events.UntilAsync(e => Is(e, task.Id, "tool_call") && ToolName(e) == "shell", TimeSpan.FromSeconds(120));
        }

        var (db, dataDir) = (_host.Database, _host.DataDir);
        await _host.StopAsync();
        _host = await ApiHost.StartAsync(DbKind.Sqlite, db: db, dataDir: dataDir, port: _port);
        http = _host.Client();
        await WaitOnlineAsync("restart-agent");
        await using var after = await SseClient.OpenAsync(http, $"/v1/agent/codebases/{codebase.Id}/events");
        File.WriteAllText(Path.Combine(_repo, "restart.gate"), "");
        await after.UntilAsync(e => IsStatus(e, task.Id, TaskStatuses.Completed), TimeSpan.FromSeconds(120));

        var detail = await http.GetTaskAsync(task.Id);
        Assert.Equal(TaskStatuses.Completed, detail.Task.Status);
        Assert.Equal(1, detail.Task.Attempt); // the lease outlived the restart: no rerun
        Assert.StartsWith("Done across the restart.", detail.Task.Result);
        var requests = llm.Requests.ToList();
        Assert.Equal(2, requests.Count);
        Assert.Contains("gate opened after the restart", requests[1].Raw);
    }
}
