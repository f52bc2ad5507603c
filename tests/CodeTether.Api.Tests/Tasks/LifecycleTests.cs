using System.Net;
using CodeTether.Shared.Contracts;
using CodeTether.Testing;

namespace CodeTether.Api.Tests.Tasks;

/// <summary>The task lifecycle end to end over real HTTP and SSE, on each database.</summary>
public abstract class LifecycleTests(DbKind kind) : IAsyncLifetime
{
    protected ApiHost Host = null!;

    public async ValueTask InitializeAsync() => Host = await ApiHost.StartAsync(kind);
    public async ValueTask DisposeAsync() => await Host.DisposeAsync();

    [Fact]
    public async Task Trigger_WithWorkerStreaming_IsOfferedClaimedRunAndCompleted()
    {
        var http = Host.Client();
        var codebase = await http.CreateCodebaseAsync();
        await http.RegisterWorkerAsync("w1", codebase.Id);
        await using var stream = await http.OpenWorkerStreamAsync("w1");
        Assert.Equal("connected", (await stream.NextAsync()).Type);

        var task = await http.TriggerAsync(codebase.Id, "add a README");
        Assert.Equal(TaskStatuses.Routed, task.Status);
        var offer = await stream.NextAsync();
        Assert.Equal("task_available", offer.Type);
        Assert.Equal(task.Id, offer.Json.GetProperty("id").GetString());
        Assert.Equal("add a README", offer.Json.GetProperty("prompt").GetString());
        Assert.Equal(codebase.Id, offer.Json.GetProperty("codebase_id").GetString());

        var claim = await http.ClaimAsync(task.Id, "w1");
        Assert.Equal(HttpStatusCode.OK, claim.StatusCode);
        var claimed = await claim.ReadAsync<ClaimTaskResponse>();
        Assert.Equal(1, claimed.FencingToken);

        var beat = await http.PostJsonAsync("/v1/worker/tasks/heartbeat",
            new { task_id = task.Id, worker_id = "w1", fencing_token = 1, progress_pct = 40, status_message = "editing" });
        Assert.Equal(HttpStatusCode.OK, beat.StatusCode);
        Assert.Equal(TaskStatuses.Running, (await beat.ReadAsync<TaskLeaseResponse>()).Status);

        var release = await http.ReleaseAsync(task.Id, "w1", result: "README added", fencingToken: 1);
        Assert.Equal(HttpStatusCode.OK, release.StatusCode);

        var detail = await http.GetTaskAsync(task.Id);
        Assert.Equal(TaskStatuses.Completed, detail.Task.Status);
        Assert.Equal("README added", detail.Task.Result);
        Assert.Equal([TaskStatuses.Submitted, TaskStatuses.Routed, TaskStatuses.Claimed, TaskStatuses.Running, TaskStatuses.Completed],
            detail.Timeline.Select(e => e.Status).ToArray());
    }

    [Fact]
    public async Task Claim_BySecondWorker_Returns409_AndRepeatedClaimByHolderIsIdempotent()
    {
        var http = Host.Client();
        var codebase = await http.CreateCodebaseAsync();
        await http.RegisterWorkerAsync("a", codebase.Id);
        await http.RegisterWorkerAsync("b", codebase.Id);
        var task = await http.TriggerAsync(codebase.Id);

        Assert.Equal(HttpStatusCode.OK, (await http.ClaimAsync(task.Id, "a")).StatusCode);
        var lost = await http.ClaimAsync(task.Id, "b");
        Assert.Equal(HttpStatusCode.Conflict, lost.StatusCode);
        Assert.Equal("application/problem+json", lost.Content.Headers.ContentType?.MediaType);
        var again = await http.PostJsonAsync($"/v1/worker/tasks/{task.Id}/claim", new { worker_id = "a" });
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(1, (await again.ReadAsync<ClaimTaskResponse>()).FencingToken);
    }
}

public sealed class SqliteLifecycleTests() : LifecycleTests(DbKind.Sqlite);

public sealed class PostgresLifecycleTests() : LifecycleTests(DbKind.Postgres);
