using System.Net;
using CodeTether.Shared.Contracts;
using CodeTether.Testing;

namespace CodeTether.Api.Tests.Auth;

/// <summary>Data of one tenant is invisible to another, on each database: reads 404, lists omit it, writes cannot reach it.</summary>
public abstract class TenantIsolationTests(DbKind kind) : IAsyncLifetime
{
    protected ApiHost Host = null!;
    HttpClient _mine = null!;
    HttpClient _theirs = null!;

    public async ValueTask InitializeAsync()
    {
        Host = await ApiHost.StartAsync(kind);
        _mine = Host.Client(ApiHost.OperatorToken);
        _theirs = Host.Client(ApiHost.OtherTenantToken);
    }

    public async ValueTask DisposeAsync() => await Host.DisposeAsync();

    [Fact]
    public async Task Codebase_OfOtherTenant_IsInvisibleBothWays()
    {
        var theirs = await _theirs.CreateCodebaseAsync("/srv/theirs");
        var mine = await _mine.CreateCodebaseAsync("/srv/mine");

        await (await _mine.Get($"/v1/agent/codebases/{theirs.Id}")).IsProblemAsync(HttpStatusCode.NotFound, "not-found");
        await (await _theirs.Get($"/v1/agent/workspaces/{mine.Id}")).IsProblemAsync(HttpStatusCode.NotFound, "not-found");
        Assert.Equal([mine.Id], (await (await _mine.Get("/v1/agent/codebases")).ReadAsync<List<CodebaseDto>>()).Select(c => c.Id));
        Assert.Equal([theirs.Id], (await (await _theirs.Get("/v1/agent/codebases")).ReadAsync<List<CodebaseDto>>()).Select(c => c.Id));

        await (await _mine.Patch($"/v1/agent/codebases/{theirs.Id}", new { name = "mine now" })).IsProblemAsync(HttpStatusCode.NotFound, "not-found");
        await (await _mine.Delete($"/v1/agent/codebases/{theirs.Id}")).IsProblemAsync(HttpStatusCode.NotFound, "not-found");
        await (await _mine.PostJsonAsync($"/v1/agent/codebases/{theirs.Id}/trigger", new { prompt = "p" })).IsProblemAsync(HttpStatusCode.NotFound, "not-found");
        await (await _mine.PostJsonAsync("/v1/agent/tasks", new { prompt = "p", codebase_id = theirs.Id })).IsProblemAsync(HttpStatusCode.NotFound, "not-found");
        await (await _mine.PostJsonAsync("/v1/agent/tasks", new { prompt = "p", codebase_path = "/srv/theirs" })).IsProblemAsync(HttpStatusCode.NotFound, "not-found");
        Assert.Equal("demo", (await (await _theirs.Get($"/v1/agent/codebases/{theirs.Id}")).ReadAsync<CodebaseDto>()).Name);
    }

    [Fact]
    public async Task SamePath_InTwoTenants_IsTwoCodebases()
    {
        var theirs = await _theirs.PostJsonAsync("/v1/agent/codebases", new { name = "a", path = "/srv/shared" });
        var mine = await _mine.PostJsonAsync("/v1/agent/codebases", new { name = "b", path = "/srv/shared" });
        Assert.Equal(HttpStatusCode.Created, theirs.StatusCode);
        Assert.Equal(HttpStatusCode.Created, mine.StatusCode);
        Assert.NotEqual((await theirs.ReadAsync<CodebaseDto>()).Id, (await mine.ReadAsync<CodebaseDto>()).Id);
    }

    [Fact]
    public async Task Task_OfOtherTenant_IsInvisibleAndUntouchable()
    {
        var task = await (await _theirs.PostJsonAsync("/v1/agent/tasks", new { prompt = "secret" })).ReadAsync<TaskDto>();
        var mineTask = await (await _mine.PostJsonAsync("/v1/agent/tasks", new { prompt = "mine" })).ReadAsync<TaskDto>();

        await (await _mine.Get($"/v1/agent/tasks/{task.Id}")).IsProblemAsync(HttpStatusCode.NotFound, "not-found");
        await (await _mine.Get($"/v1/agent/tasks/{task.Id}/events")).IsProblemAsync(HttpStatusCode.NotFound, "not-found");
        await (await _mine.Post($"/v1/agent/tasks/{task.Id}/cancel")).IsProblemAsync(HttpStatusCode.NotFound, "not-found");
        await (await _mine.Post($"/v1/agent/tasks/{task.Id}/retry")).IsProblemAsync(HttpStatusCode.NotFound, "not-found");
        Assert.Equal([mineTask.Id], (await (await _mine.Get("/v1/agent/tasks")).ReadAsync<TaskPage>()).Tasks.Select(t => t.Id));
        Assert.Equal([mineTask.Id], (await (await _mine.Get("/v1/agent/tasks?status=pending")).ReadAsync<TaskPage>()).Tasks.Select(t => t.Id));
        Assert.Equal([task.Id], (await (await _theirs.Get("/v1/agent/tasks")).ReadAsync<TaskPage>()).Tasks.Select(t => t.Id));

        var worker = Host.Client(ApiHost.WorkerToken);
        await worker.RegisterWorkerAsync("w1", "global");
        await (await worker.ClaimAsync(task.Id, "w1")).IsProblemAsync(HttpStatusCode.NotFound, "not-found");
        await (await worker.ReleaseAsync(task.Id, "w1")).IsProblemAsync(HttpStatusCode.NotFound, "not-found");
        Assert.Equal(TaskStatuses.Submitted, (await _theirs.GetTaskAsync(task.Id)).Task.Status);
    }

    [Fact]
    public async Task WorkerIds_ArePerTenant_AndListsAreSeparate()
    {
        var theirs = await _theirs.RegisterWorkerAsync("same-id", "/srv/their-repo");
        var mine = await _mine.RegisterWorkerAsync("same-id", "/srv/my-repo");

        Assert.NotEqual(theirs.Codebases, mine.Codebases);
        var myWorkers = await (await _mine.Get("/v1/agent/workers")).ReadAsync<List<WorkerDto>>();
        Assert.Equal(mine.Codebases, Assert.Single(myWorkers).Codebases);
        var theirWorkers = await (await _theirs.Get("/v1/agent/workers")).ReadAsync<List<WorkerDto>>();
        Assert.Equal(theirs.Codebases, Assert.Single(theirWorkers).Codebases);
        await (await _mine.Post("/v1/agent/workers/only-theirs/heartbeat")).IsProblemAsync(HttpStatusCode.NotFound, "not-found");
    }

    [Fact]
    public async Task WorkerStream_IsNotOfferedTasksOfOtherTenant()
    {
        await using var stream = await SseClient.OpenAsync(Host.Client(ApiHost.WorkerToken), "/v1/worker/tasks/stream",
            headers: new Dictionary<string, string> { ["X-Worker-ID"] = "mine", ["X-Codebases"] = "global" });
        Assert.Equal("connected", (await stream.NextAsync()).Type);

        var theirs = await (await _theirs.PostJsonAsync("/v1/agent/tasks", new { prompt = "theirs" })).ReadAsync<TaskDto>();
        var mine = await (await _mine.PostJsonAsync("/v1/agent/tasks", new { prompt = "mine" })).ReadAsync<TaskDto>();

        Assert.Equal(TaskStatuses.Submitted, theirs.Status);
        var offer = await stream.NextAsync();
        Assert.Equal(("task_available", mine.Id), (offer.Type, offer.Json.GetProperty("id").GetString()));
    }

    [Fact]
    public async Task Sessions_OfOtherTenant_AreInvisible()
    {
        var theirCb = await _theirs.CreateCodebaseAsync("/srv/t");
        var sync = await _theirs.PostJsonAsync($"/v1/agent/codebases/{theirCb.Id}/sessions/sync",
            new { worker_id = "w", sessions = new[] { new { id = "their-session", title = "secret", messages = new[] { new { id = "m", role = "user", content = "x" } } } } });
        Assert.Equal(HttpStatusCode.OK, sync.StatusCode);

        await (await _mine.Get("/v1/agent/sessions/their-session")).IsProblemAsync(HttpStatusCode.NotFound, "not-found");
        await (await _mine.Get("/v1/agent/sessions/their-session/messages")).IsProblemAsync(HttpStatusCode.NotFound, "not-found");
        await (await _mine.Get($"/v1/agent/codebases/{theirCb.Id}/sessions")).IsProblemAsync(HttpStatusCode.NotFound, "not-found");
        await (await _mine.PostJsonAsync($"/v1/agent/codebases/{theirCb.Id}/sessions/sync", new { sessions = Array.Empty<object>() }))
            .IsProblemAsync(HttpStatusCode.NotFound, "not-found");
    }

    [Fact]
    public async Task SameSessionId_InTwoTenants_IsTwoSessions()
    {
        var theirCb = await _theirs.CreateCodebaseAsync("/srv/t");
        var myCb = await _mine.CreateCodebaseAsync("/srv/m");
        object Body(string title, string content) =>
            new { worker_id = "w", sessions = new[] { new { id = "s-1", title, messages = new[] { new { id = "m-1", role = "user", content } } } } };

        Assert.Equal(HttpStatusCode.OK, (await _theirs.PostJsonAsync($"/v1/agent/codebases/{theirCb.Id}/sessions/sync", Body("theirs", "their text"))).StatusCode);
        var mine = await _mine.PostJsonAsync($"/v1/agent/codebases/{myCb.Id}/sessions/sync", Body("mine", "my text"));

        Assert.True(mine.StatusCode == HttpStatusCode.OK, await mine.BodyAsync());
        Assert.Equal("mine", (await (await _mine.Get("/v1/agent/sessions/s-1")).ReadAsync<SessionDto>()).Title);
        Assert.Equal("theirs", (await (await _theirs.Get("/v1/agent/sessions/s-1")).ReadAsync<SessionDto>()).Title);
        Assert.Equal("my text", Assert.Single(await (await _mine.Get("/v1/agent/sessions/s-1/messages")).ReadAsync<List<SessionMessageDto>>()).Content);
        Assert.Equal("their text", Assert.Single(await (await _theirs.Get("/v1/agent/sessions/s-1/messages")).ReadAsync<List<SessionMessageDto>>()).Content);
    }
}

public sealed class SqliteTenantIsolationTests() : TenantIsolationTests(DbKind.Sqlite);

public sealed class PostgresTenantIsolationTests() : TenantIsolationTests(DbKind.Postgres);
