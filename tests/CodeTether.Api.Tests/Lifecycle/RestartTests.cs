using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using CodeTether.Shared.Contracts;
using CodeTether.Testing;

namespace CodeTether.Api.Tests.Lifecycle;

/// <summary>
/// The host stops in the middle of a stream and a new one starts on the same port, database and data directory:
/// tasks, events and workers are intact, and the reader resumes with <c>Last-Event-ID</c> to get exactly the
/// events written after the restart.
/// </summary>
public abstract class RestartTests(DbKind kind) : LifecycleTest(kind)
{
    static readonly TimeSpan Generous = TimeSpan.FromSeconds(30);
    static Dictionary<string, string?> Settings => new() { ["Tasks:LeaseDuration"] = "00:10:00", ["Workers:StreamHeartbeat"] = "00:00:00.500" };

    [Fact]
    public async Task Restart_MidStream_StateIntact_ReaderResumesWithExactlyTheEventsItMissed()
    {
        var port = FreePort();
        var first = await StartHostAsync(Settings, port: port);
        var admin = first.Client(ApiHost.OperatorToken);
        var worker = first.Client(ApiHost.WorkerToken); // same address after the restart
        var codebase = await admin.CreateCodebaseAsync();
        await worker.RegisterWorkerAsync("survivor", codebase.Id);
        var task = await admin.TriggerAsync(codebase.Id, "survive a restart");
        var token = (await (await worker.ClaimAsync(task.Id, "survivor")).ReadAsync<ClaimTaskResponse>()).FencingToken;
        await PostStepsAsync(worker, task.Id, token, "before", 5);

        var before = await first.EventIdsOfTaskAsync(task.Id);
        await using var reader = new ReconnectingSseReader(admin, $"/v1/agent/tasks/{task.Id}/events",
            stopAfter: e => e.Type == "status" && TaskStatuses.IsTerminal(e.Json.GetProperty("status").GetString()!));
        var seenBefore = new List<SseEvent>();
        while (seenBefore.Count < before.Count) seenBefore.Add(await reader.NextAsync(Generous));
        Assert.Equal(before, seenBefore.Select(e => long.Parse(e.Id!)));
        Assert.Equal(1, reader.Connections);

        var stopping = Stopwatch.StartNew();
        await first.StopAsync(); // the reader's stream is open: it must not hold the shutdown up
        TestContext.Current.TestOutputHelper?.WriteLine($"{Kind}: host stopped in {stopping.Elapsed.TotalSeconds:F1}s");
        Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(20), $"stopping took {stopping.Elapsed}: an open stream held the shutdown up");
        var second = await StartHostAsync(Settings, db: first.Database, dataDir: first.DataDir, port: port);
        Assert.Equal(first.BaseAddress, second.BaseAddress);

        // Nothing was lost: the task, its events and the worker are as they were.
        Assert.Equal(before, await second.EventIdsOfTaskAsync(task.Id));
        var detail = await admin.GetTaskAsync(task.Id);
        Assert.Equal(TaskStatuses.Running, detail.Task.Status);
        Assert.Equal(token, detail.Task.FencingToken);
        Assert.Equal("survivor", detail.Task.WorkerId);
        var survivor = await admin.GetFromJsonAsync<WorkerDto>("/v1/agent/workers/survivor", Protocol.Json, TestCancelled);
        Assert.Equal([codebase.Id], survivor!.Codebases);
        Assert.Equal(task.Id, survivor.CurrentTaskId);

        // The worker carries on with its lease and finishes; the reader gets exactly what was written since.
        await PostStepsAsync(worker, task.Id, token, "after", 3);
        Assert.Equal(HttpStatusCode.OK, (await worker.ReleaseAsync(task.Id, "survivor", result: "survived", fencingToken: token)).StatusCode);
        var seenAfter = await reader.ReadToStopAsync(Generous);

        var all = await second.EventIdsOfTaskAsync(task.Id);
        Assert.Equal(all.Where(id => id > before[^1]), seenAfter.Select(e => long.Parse(e.Id!)));
        Assert.Equal(all, seenBefore.Concat(seenAfter).Select(e => long.Parse(e.Id!)));
        Assert.Equal(["progress", "progress", "progress", "status"], seenAfter.Select(e => e.Type));
        Assert.True(reader.Connections >= 2, "the reader never reconnected");
    }

    static async Task PostStepsAsync(HttpClient worker, string taskId, long token, string label, int count)
    {
        for (var i = 0; i < count; i++)
        {
            var res = await worker.PostJsonAsync($"/v1/worker/tasks/{taskId}/events", new
            {
                worker_id = "survivor", fencing_token = token,
                events = new[] { new { type = "progress", data = new { progress_pct = i * 10, status_message = $"{label} {i}" } } },
            });
            Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        }
    }

    static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}

public sealed class SqliteRestartTests() : RestartTests(DbKind.Sqlite);

public sealed class PostgresRestartTests() : RestartTests(DbKind.Postgres);
