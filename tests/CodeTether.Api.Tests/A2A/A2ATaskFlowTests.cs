using System.Net;
using System.Text.Json.Nodes;
using CodeTether.Testing;

namespace CodeTether.Api.Tests.A2A;

/// <summary>
/// A2A as the front door of real tasks, with this test acting as the worker over the worker protocol: blocking sends,
/// streams with reconnect, input-required round trips and cancel reaching the worker. On each database.
/// </summary>
public abstract class A2ATaskFlowTests(DbKind kind) : IAsyncLifetime
{
    protected ApiHost Host = null!;
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => Host = await ApiHost.StartAsync(kind, new Dictionary<string, string?>
    {
        ["A2A:ClaimWait"] = "00:00:05",
        ["A2A:BlockingTimeout"] = "00:00:20",
    });

    public async ValueTask DisposeAsync() => await Host.DisposeAsync();

    async Task<(HttpClient Http, string Codebase, SseClient Worker)> WithWorkerAsync(string workerId)
    {
        var http = Host.Client();
        var codebase = await http.CreateCodebaseAsync();
        await http.RegisterWorkerAsync(workerId, codebase.Id);
        var stream = await http.OpenWorkerStreamAsync(workerId);
        Assert.Equal("connected", (await stream.NextAsync()).Type);
        return (http, codebase.Id, stream);
    }

    static async Task<string> NextOfferAsync(SseClient worker) =>
        (await worker.UntilAsync(e => e.Type == "task_available")).Last().Json.GetProperty("id").GetString()!;

    [Fact]
    public async Task BlockingSend_WaitsWhileWorkerRuns_AndAnswersCompletedWithArtifacts()
    {
        var (http, codebase, worker) = await WithWorkerAsync("wa");
        await using var _ = worker;
        var send = http.ResultAsync("message/send", A2AProtocol.Send("echo hi", blocking: true, codebase: codebase));
        var taskId = await NextOfferAsync(worker);
        Assert.Equal(HttpStatusCode.OK, (await http.ClaimAsync(taskId, "wa")).StatusCode);
        await http.PostJsonAsync($"/v1/worker/tasks/{taskId}/events", new { worker_id = "wa", events = new[] { new { type = "output", data = new { stream = "stdout", text = "hi" } } } });
        Assert.False(send.IsCompleted);
        await http.ReleaseAsync(taskId, "wa", result: "all done");

        var task = await send;
        Assert.Equal("completed", task.State());
        var artifacts = task["artifacts"]!.AsArray();
        Assert.Equal("hi\n", artifacts.Single(a => a!["artifactId"]!.GetValue<string>() == "output")!["parts"]![0]!["text"]!.GetValue<string>());
        Assert.Equal("all done", artifacts.Single(a => a!["artifactId"]!.GetValue<string>() == "result")!["parts"]![0]!["text"]!.GetValue<string>());
        Assert.Equal(codebase, task["metadata"]!["codebaseId"]!.GetValue<string>());
    }

    [Fact]
    public async Task Cancel_OfClaimedTask_ReachesWorker_AndEndsStreamWithFinalCanceled()
    {
        var (http, codebase, worker) = await WithWorkerAsync("wc");
        await using var _ = worker;
        var task = await http.ResultAsync("message/send", A2AProtocol.Send("sleep 100", codebase: codebase));
        var id = task["id"]!.GetValue<string>();
        Assert.Equal(id, await NextOfferAsync(worker));
        Assert.Equal(HttpStatusCode.OK, (await http.ClaimAsync(id, "wc")).StatusCode);
        await using var stream = await http.StreamAsync("tasks/resubscribe", new { id });
        var first = (await stream.NextAsync()).Json;
        Assert.Equal("s1", first.GetProperty("id").GetString());
        Assert.Equal("task", first.GetProperty("result").GetProperty("kind").GetString());

        Assert.Equal("canceled", (await http.ResultAsync("tasks/cancel", new { id })).State());
        var cancelled = await worker.UntilAsync(e => e.Type == "task_cancelled");
        Assert.Equal(id, cancelled.Last().Json.GetProperty("task_id").GetString());
        var events = await stream.UntilAsync(e => e.Json.GetProperty("result").TryGetProperty("final", out var f) && f.GetBoolean());
        Assert.Equal("canceled", events.Last().Json.GetProperty("result").GetProperty("status").GetProperty("state").GetString());
        Assert.True(await stream.EndsWithinAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task InputRequired_RoundTrips_SameTaskResumedByNextMessage()
    {
        var (http, codebase, worker) = await WithWorkerAsync("wi");
        await using var _ = worker;
        await using var stream = await http.StreamAsync("message/stream", A2AProtocol.Send("deploy it", codebase: codebase));
        var first = (await stream.NextAsync()).Json.GetProperty("result");
        var id = first.GetProperty("id").GetString()!;
        var contextId = first.GetProperty("contextId").GetString()!;
        Assert.Equal(id, await NextOfferAsync(worker));
        await http.ClaimAsync(id, "wi");
        var ask = await http.PostJsonAsync($"/v1/worker/tasks/{id}/input-required", new { worker_id = "wi", message = "Which environment?" });
        Assert.Equal(HttpStatusCode.OK, ask.StatusCode);

        var events = await stream.UntilAsync(e => e.Json.GetProperty("result").TryGetProperty("final", out var f) && f.GetBoolean());
        var final = events.Last().Json.GetProperty("result");
        Assert.Equal("input-required", final.GetProperty("status").GetProperty("state").GetString());
        Assert.Equal("Which environment?", final.GetProperty("status").GetProperty("message").GetProperty("parts")[0].GetProperty("text").GetString());
        Assert.True(await stream.EndsWithinAsync(TimeSpan.FromSeconds(5)));

        // The answer continues the same task (same id, same context) and goes back to a worker.
        var resumed = await http.ResultAsync("message/send", new
        {
            message = A2AProtocol.Message("staging", taskId: id, contextId: contextId),
            configuration = new { blocking = false },
        });
        Assert.Equal(id, resumed["id"]!.GetValue<string>());
        Assert.NotEqual("input-required", resumed.State());
        Assert.Equal(id, await NextOfferAsync(worker));
        var detail = await http.GetTaskAsync(id);
        Assert.Equal("staging", detail.Task.Prompt);
        Assert.Equal(contextId, detail.Task.SessionId);

        var history = (await http.ResultAsync("tasks/get", new { id }))["history"]!.AsArray();
        Assert.Equal(["user", "agent", "user"], history.Select(m => m!["role"]!.GetValue<string>()));
        Assert.Equal(-32602, await http.ErrorCodeAsync("message/send", new { message = A2AProtocol.Message("x", taskId: id, contextId: "other-context") }));
    }

    [Fact]
    public async Task Stream_ReconnectWithLastEventId_LosesNothingAndRepeatsNothing()
    {
        var (http, codebase, worker) = await WithWorkerAsync("ws");
        await using var _ = worker;
        var task = await http.ResultAsync("message/send", A2AProtocol.Send("count", codebase: codebase));
        var id = task["id"]!.GetValue<string>();
        await NextOfferAsync(worker);
        await http.ClaimAsync(id, "ws");
        await http.PostJsonAsync($"/v1/worker/tasks/{id}/events", new { worker_id = "ws", events = new[] { new { type = "output", data = new { text = "line 1" } } } });

        string lastId;
        await using (var first = await http.StreamAsync("tasks/resubscribe", new { id }))
        {
            Assert.Equal("task", (await first.NextAsync()).Json.GetProperty("result").GetProperty("kind").GetString());
            await http.PostJsonAsync($"/v1/worker/tasks/{id}/events", new { worker_id = "ws", events = new[] { new { type = "output", data = new { text = "line 2" } } } });
            var e = await first.NextAsync();
            Assert.Equal("artifact-update", e.Json.GetProperty("result").GetProperty("kind").GetString());
            lastId = e.Id!;
        } // the client drops here; the worker goes on meanwhile
        for (var i = 3; i <= 5; i++)
            await http.PostJsonAsync($"/v1/worker/tasks/{id}/events", new { worker_id = "ws", events = new[] { new { type = "output", data = new { text = $"line {i}" } } } });
        await http.ReleaseAsync(id, "ws", result: "counted");

        await using var again = await http.StreamAsync("tasks/resubscribe", new { id }, lastEventId: lastId);
        var rest = await again.UntilAsync(e => e.Json.GetProperty("result").TryGetProperty("final", out var f) && f.GetBoolean());
        var texts = rest.Select(e => e.Json.GetProperty("result"))
            .Where(r => r.GetProperty("kind").GetString() == "artifact-update" && r.GetProperty("artifact").GetProperty("artifactId").GetString() == "output")
            .Select(r => r.GetProperty("artifact").GetProperty("parts")[0].GetProperty("text").GetString()).ToList();
        Assert.Equal(["line 3\n", "line 4\n", "line 5\n"], texts);
        Assert.All(rest, e => Assert.True(long.Parse(e.Id!) > long.Parse(lastId)));
        Assert.True(await again.EndsWithinAsync(TimeSpan.FromSeconds(5)));
    }
}

public sealed class SqliteA2ATaskFlowTests() : A2ATaskFlowTests(DbKind.Sqlite);

public sealed class PostgresA2ATaskFlowTests() : A2ATaskFlowTests(DbKind.Postgres);
