using System.Net;
using System.Text.Json;
using CodeTether.Shared.Contracts;
using CodeTether.Testing;

namespace CodeTether.Api.Tests.Lifecycle;

/// <summary>
/// SSE resumption: a client that drops the stream anywhere and comes back with <c>Last-Event-ID</c> ends up
/// with exactly the ids the database holds, in order, none missing and none twice, even while several writers
/// commit at once. Task streams end after the terminal status.
/// </summary>
public abstract class EventReplayTests(DbKind kind) : LifecycleTest(kind)
{
    const int Writers = 4;
    const int PostsPerWriter = 40;
    static readonly TimeSpan Generous = TimeSpan.FromSeconds(20);

    /// <summary>Leases outlive the test; idle streams send a heartbeat every 0.2 s.</summary>
    static Dictionary<string, string?> Settings => new() { ["Tasks:LeaseDuration"] = "00:10:00", ["Workers:StreamHeartbeat"] = "00:00:00.200" };

    [Fact]
    public async Task CodebaseEvents_FourWritersAndRandomReconnects_ReaderGetsEveryIdExactlyOnceInOrder()
    {
        var host = await StartHostAsync(Settings);
        var admin = host.Client();
        var codebase = await admin.CreateCodebaseAsync();
        var holders = await ClaimedTasksAsync(host, codebase.Id, Writers);
        var rng = new Random(Environment.TickCount);
        var seed = rng.Next();
        TestContext.Current.TestOutputHelper?.WriteLine($"reconnect seed {seed}");

        var writing = Task.WhenAll(holders.Select(h => WriteStepsAsync(h.Http, h.TaskId, h.WorkerId, h.Token, new Random(seed + h.TaskId.GetHashCode()), release: true)));
        var (ids, connections) = await ReadWithRandomReconnectsAsync(admin, $"/v1/agent/codebases/{codebase.Id}/events", new Random(seed), writing,
            () => host.EventIdsOfCodebaseAsync(codebase.Id), endsByItself: false);
        await writing;

        var stored = await host.EventIdsOfCodebaseAsync(codebase.Id);
        Assert.True(connections > 10, $"only {connections} connection(s): the reader did not reconnect enough to prove anything");
        Assert.True(stored.Count > Writers * PostsPerWriter, $"only {stored.Count} events stored");
        Assert.Equal(stored, ids);
    }

    [Fact]
    public async Task TaskEvents_WriterAndRandomReconnects_ReaderGetsEveryIdExactlyOnce_AndStreamEndsAfterTerminalStatus()
    {
        var host = await StartHostAsync(Settings);
        var admin = host.Client();
        var codebase = await admin.CreateCodebaseAsync();
        var holders = await ClaimedTasksAsync(host, codebase.Id, 2); // a second task writes beside it: its events must not leak in
        var seed = Environment.TickCount;
        TestContext.Current.TestOutputHelper?.WriteLine($"reconnect seed {seed}");
        var (target, other) = (holders[0], holders[1]);

        var writing = Task.WhenAll(
            WriteStepsAsync(target.Http, target.TaskId, target.WorkerId, target.Token, new Random(seed + 1), release: true),
            WriteStepsAsync(other.Http, other.TaskId, other.WorkerId, other.Token, new Random(seed + 2), release: false));
        var (ids, connections) = await ReadWithRandomReconnectsAsync(admin, $"/v1/agent/tasks/{target.TaskId}/events", new Random(seed), writing,
            () => host.EventIdsOfTaskAsync(target.TaskId), endsByItself: true);
        await writing;

        Assert.True(connections > 5, $"only {connections} connection(s)");
        Assert.Equal(await host.EventIdsOfTaskAsync(target.TaskId), ids);
    }

    [Fact]
    public async Task TaskEvents_ResumedJustAsTheTaskCompletes_AlwaysDeliverTheTerminalStatusBeforeEnding()
    {
        var host = await StartHostAsync(Settings);
        var admin = host.Client();
        var codebase = await admin.CreateCodebaseAsync();
        var holders = await ClaimedTasksAsync(host, codebase.Id, 40);

        await Parallel.ForEachAsync(holders, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = TestCancelled }, async (h, ct) =>
        {
            var last = (await host.EventIdsOfTaskAsync(h.TaskId)).Last();
            // Resume from the newest event while the release commits: the stream must not end before sending it.
            var opening = SseClient.OpenAsync(admin, $"/v1/agent/tasks/{h.TaskId}/events", last.ToString());
            var release = h.Http.ReleaseAsync(h.TaskId, h.WorkerId, fencingToken: h.Token);
            await using var stream = await opening;
            Assert.Equal(HttpStatusCode.OK, (await release).StatusCode);
            var seen = new List<SseEvent>();
            await foreach (var e in stream.ReadAllAsync(ct).WithCancellation(ct))
                if (e.Type != "heartbeat") seen.Add(e);
            var end = Assert.Single(seen);
            Assert.Equal(TaskStatuses.Completed, end.Json.GetProperty("status").GetString());
        });
    }

    [Fact]
    public async Task TaskEvents_OfFinishedTask_AreIdEventDataLinesOnTheWire()
    {
        var host = await StartHostAsync(Settings);
        var admin = host.Client();
        var codebase = await admin.CreateCodebaseAsync();
        var h = (await ClaimedTasksAsync(host, codebase.Id, 1))[0];
        Assert.Equal(HttpStatusCode.OK, (await h.Http.ReleaseAsync(h.TaskId, h.WorkerId, fencingToken: h.Token)).StatusCode);

        using var res = await admin.GetAsync($"/v1/agent/tasks/{h.TaskId}/events", TestCancelled);
        Assert.Equal("text/event-stream", res.Content.Headers.ContentType?.MediaType);
        var text = await res.Content.ReadAsStringAsync(TestCancelled); // the stream ends: the task is finished
        var blocks = text.Replace("\r\n", "\n").Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        var stored = await host.EventIdsOfTaskAsync(h.TaskId);
        Assert.Equal(stored.Count, blocks.Length);
        foreach (var (block, id) in blocks.Zip(stored))
        {
            var lines = block.Split('\n');
            Assert.Equal(3, lines.Length);
            Assert.Contains($"id: {id}", lines);
            Assert.Contains("event: status", lines);
            var data = Assert.Single(lines, l => l.StartsWith("data: {", StringComparison.Ordinal));
            using var json = JsonDocument.Parse(data["data: ".Length..]);
            Assert.Equal(id, json.RootElement.GetProperty("id").GetInt64());
            Assert.Equal(h.TaskId, json.RootElement.GetProperty("task_id").GetString());
        }
        Assert.EndsWith("\"status\":\"completed\"", blocks[^1].Split('\n').Single(l => l.StartsWith("data: ")).Split(",\"attempt\"")[0]);
    }

    sealed record Holder(HttpClient Http, string TaskId, string WorkerId, long Token);

    /// <summary>One worker per task, each with its own client, each holding its task's lease.</summary>
    static async Task<List<Holder>> ClaimedTasksAsync(ApiHost host, string codebaseId, int count)
    {
        var admin = host.Client();
        var list = new List<Holder>();
        for (var i = 0; i < count; i++)
        {
            var http = host.Client(ApiHost.WorkerToken);
            var workerId = $"writer-{i}";
            await http.RegisterWorkerAsync(workerId, codebaseId);
            var task = await admin.TriggerAsync(codebaseId, $"task {i}");
            var claim = await http.ClaimAsync(task.Id, workerId);
            Assert.Equal(HttpStatusCode.OK, claim.StatusCode);
            list.Add(new Holder(http, task.Id, workerId, (await claim.ReadAsync<ClaimTaskResponse>()).FencingToken));
        }
        return list;
    }

    /// <summary>Posts batches of 1-3 steps, then (optionally) completes the task.</summary>
    static async Task WriteStepsAsync(HttpClient http, string taskId, string workerId, long token, Random rng, bool release)
    {
        for (var i = 0; i < PostsPerWriter; i++)
        {
            var steps = Enumerable.Range(0, rng.Next(1, 4)).Select(j => j % 2 == 0
                ? (object)new { type = "progress", data = new { progress_pct = i * 100 / PostsPerWriter, status_message = $"step {i}.{j}" } }
                : new { type = "output", data = new { text = $"line {i}.{j}" } }).ToArray();
            var res = await http.PostJsonAsync($"/v1/worker/tasks/{taskId}/events", new { worker_id = workerId, fencing_token = token, events = steps });
            Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        }
        if (release) Assert.Equal(HttpStatusCode.OK, (await http.ReleaseAsync(taskId, workerId, fencingToken: token)).StatusCode);
    }

    /// <summary>
    /// Reads a random number of events per connection, drops it, and resumes after the last id it saw; stops once
    /// the writers are done and it has caught up with the database (or, for a task, when the stream ends by itself
    /// after the terminal status).
    /// </summary>
    static async Task<(List<long> Ids, int Connections)> ReadWithRandomReconnectsAsync(HttpClient http, string path, Random rng,
        Task writing, Func<Task<List<long>>> stored, bool endsByItself)
    {
        var ids = new List<long>();
        var connections = 0;
        long? caughtUpAt = null;
        while (true)
        {
            await using var stream = await SseClient.OpenAsync(http, path, ids.Count == 0 ? null : ids[^1].ToString());
            connections++;
            var take = rng.Next(1, 12);
            for (var i = 0; i < take; i++)
            {
                if (writing.IsCompleted && !endsByItself)
                {
                    caughtUpAt ??= (await stored()).LastOrDefault();
                    if (ids.Count > 0 && ids[^1] >= caughtUpAt) return (ids, connections);
                }
                var e = await stream.NextAsync(Generous);
                var id = long.Parse(e.Id!);
                Assert.Equal(id, e.Json.GetProperty("id").GetInt64());
                ids.Add(id);
                if (endsByItself && e.Type == "status" && TaskStatuses.IsTerminal(e.Json.GetProperty("status").GetString()!))
                {
                    Assert.True(await stream.EndsWithinAsync(Generous), "the task stream did not end after the terminal status");
                    return (ids, connections);
                }
            }
        }
    }
}

public sealed class SqliteEventReplayTests() : EventReplayTests(DbKind.Sqlite);

public sealed class PostgresEventReplayTests() : EventReplayTests(DbKind.Postgres);
