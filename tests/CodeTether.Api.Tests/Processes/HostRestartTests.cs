using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using CodeTether.Shared.Contracts;
using CodeTether.Testing;

namespace CodeTether.Api.Tests.Processes;

/// <summary>
/// The server process is stopped in the middle of a task and started again on the same data: nothing is lost, and the
/// worker daemon and an SSE client find their way back by themselves.
/// </summary>
public sealed class HostRestartTests : IAsyncDisposable
{
    const string Token = "restart-admin-token-0123456789";
    readonly string _data = Directory.CreateTempSubdirectory("codetether-restart-").FullName;
    readonly string _repo = Directory.CreateTempSubdirectory("codetether-repo-").FullName;
    readonly int _port = FreePort();
    Uri Server => new($"http://127.0.0.1:{_port}");

    static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    async Task<CodeTetherProcess> StartServerAsync()
    {
        var server = CodeTetherProcess.Start(["serve", "--port", _port.ToString()], new Dictionary<string, string?>
        {
            ["CODETETHER_DATA_DIR"] = _data,
            ["A2A_AUTH_TOKENS"] = $"admin:{Token}:admin",
            // Generous, so the "no rerun" assertion holds on a loaded CI machine where a restart can take long.
            ["Tasks__LeaseDuration"] = "00:02:00",
        });
        await server.WaitForOutputAsync("Now listening on", TimeSpan.FromSeconds(60));
        return server;
    }

    HttpClient Client()
    {
        var http = new HttpClient { BaseAddress = Server, Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        return http;
    }

    static bool IsStatus(SseEvent e, string status) => e.Type == "status" && e.Json.GetProperty("status").GetString() == status;

    [Fact]
    public async Task Host_RestartedMidTask_KeepsEverything_AndWorkerAndStreamResumeByThemselves()
    {
        var server = await StartServerAsync();
        using var http = Client();
        var codebase = await http.CreateCodebaseAsync(_repo);
        await using var worker = CodeTetherProcess.Start(
            ["worker", "--server", Server.ToString(), "--codebases", _repo, "--executor", "shell", "--worker-id", "survivor", "--token", Token]);
        await worker.WaitForOutputAsync("connected", TimeSpan.FromSeconds(60));
        using var streamHttp = Client();
        await using var stream = new ReconnectingSseReader(streamHttp, $"/v1/agent/codebases/{codebase.Id}/events", stopAfter: _ => false);

        var collected = new List<SseEvent>();
        var first = await http.TriggerAsync(codebase.Id, "echo one");
        collected.AddRange(await stream.UntilAsync(e => IsStatus(e, TaskStatuses.Completed), TimeSpan.FromSeconds(60)));

        var second = await http.TriggerAsync(codebase.Id, "sleep 8; echo two");
        collected.AddRange(await stream.UntilAsync(e => IsStatus(e, TaskStatuses.Claimed), TimeSpan.FromSeconds(60)));

        server.Terminate();
        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        await server.DisposeAsync();
        await using var restarted = await StartServerAsync();

        collected.AddRange(await stream.UntilAsync(e => IsStatus(e, TaskStatuses.Completed), TimeSpan.FromSeconds(90)));
        Assert.True(stream.Connections >= 2, "the SSE client should have reconnected");

        // What the client collected across the restart is exactly the database's log: no gap, no duplicate.
        await using var replay = await SseClient.OpenAsync(http, $"/v1/agent/codebases/{codebase.Id}/events");
        var all = await replay.UntilAsync(e => e.Id == stream.LastEventId, TimeSpan.FromSeconds(30));
        Assert.Equal(all.Select(e => e.Id), collected.Select(e => e.Id));

        var done = await http.GetTaskAsync(second.Id);
        Assert.Equal(TaskStatuses.Completed, done.Task.Status);
        Assert.Equal("two", done.Task.Result?.Trim());
        Assert.Equal(1, done.Task.Attempt); // the lease survived the restart: no rerun
        Assert.Equal(TaskStatuses.Completed, (await http.GetTaskAsync(first.Id)).Task.Status);
        var w = await (await http.GetAsync("/v1/agent/workers/survivor", TestContext.Current.CancellationToken)).ReadAsync<WorkerDto>();
        Assert.NotEqual(WorkerStatuses.Offline, w.Status);
        Assert.Equal(2, w.TasksCompleted);
    }

    public ValueTask DisposeAsync()
    {
        try { Directory.Delete(_data, true); Directory.Delete(_repo, true); } catch (IOException) { }
        return ValueTask.CompletedTask;
    }
}
