using System.Net;
using CodeTether.Shared.Contracts;
using CodeTether.Testing;

namespace CodeTether.Api.Tests.Workers;

/// <summary>How a worker names itself and what it serves: register, list, heartbeat, and the stream's own registration.</summary>
public sealed class WorkerRegistrationTests : IAsyncLifetime
{
    ApiHost _host = null!;
    HttpClient _http = null!;

    public async ValueTask InitializeAsync()
    {
        _host = await ApiHost.StartAsync();
        _http = _host.Client(ApiHost.WorkerToken);
        _viewer = _host.Client(ApiHost.ViewerToken);
    }

    HttpClient _viewer = null!;

    public async ValueTask DisposeAsync() => await _host.DisposeAsync();

    async Task<List<WorkerDto>> WorkersAsync()
    {
        var res = await _viewer.Get("/v1/agent/workers");
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        return await res.ReadAsync<List<WorkerDto>>();
    }

    async Task<List<CodebaseDto>> CodebasesAsync() =>
        await (await _http.Get("/v1/agent/codebases")).ReadAsync<List<CodebaseDto>>();

    [Fact]
    public async Task Register_WithWorkerIdInBody_Returns200AndIsListed()
    {
        var res = await _http.PostJsonAsync("/v1/agent/workers/register",
            new { worker_id = "w-body", name = "Box", hostname = "box.local", capabilities = new[] { "git", "docker" }, models = new[] { "m1" } });

        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        var w = await res.ReadAsync<WorkerDto>();
        Assert.Equal(("w-body", "Box", "box.local", WorkerStatuses.Online), (w.WorkerId, w.Name, w.Hostname, w.Status));
        Assert.Equal(["git", "docker"], w.Capabilities);
        Assert.Equal(["m1"], w.Models);
        var listed = Assert.Single(await WorkersAsync());
        Assert.Equal("w-body", listed.WorkerId);
        var one = await _viewer.Get("/v1/agent/workers/w-body");
        Assert.Equal(HttpStatusCode.OK, one.StatusCode);
        Assert.Equal("Box", (await one.ReadAsync<WorkerDto>()).Name);
    }

    [Fact]
    public async Task Register_WithWorkerIdHeader_UsesTheHeader()
    {
        var req = new HttpRequestMessage(HttpMethod.Post, "/v1/agent/workers/register")
        {
            Content = System.Net.Http.Json.JsonContent.Create(new { name = "hdr" }, options: Protocol.Json),
        };
        req.Headers.Add("X-Worker-ID", "w-header");

        var res = await _http.SendRequest(req);

        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        Assert.Equal("w-header", (await res.ReadAsync<WorkerDto>()).WorkerId);
    }

    [Fact]
    public async Task Register_WithWorkerIdQuery_UsesTheQuery()
    {
        var res = await _http.PostJsonAsync("/v1/agent/workers/register?worker_id=w-query", new { name = "q" });
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        Assert.Equal("w-query", (await res.ReadAsync<WorkerDto>()).WorkerId);
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("{\"worker_id\":\"   \"}")]
    [InlineData("{\"worker_id\":\"bad\\u0001id\"}")]
    public async Task Register_WithoutUsableWorkerId_Returns400AndRegistersNothing(string body)
    {
        var res = await _http.PostRaw("/v1/agent/workers/register", body);
        await res.IsProblemAsync(HttpStatusCode.BadRequest, "invalid-request");
        Assert.Empty(await WorkersAsync());
    }

    [Fact]
    public async Task Register_WorkerIdLongerThan200_Returns400()
    {
        var res = await _http.PostJsonAsync("/v1/agent/workers/register", new { worker_id = new string('w', 201) });
        await res.IsProblemAsync(HttpStatusCode.BadRequest, "invalid-request");
        Assert.Empty(await WorkersAsync());
    }

    [Fact]
    public async Task Register_CodebasesAsIdsPathsAndGlobal_ResolvesEachAndAutoRegistersNewPaths()
    {
        var known = await _host.Client(ApiHost.OperatorToken).CreateCodebaseAsync("/srv/known");

        var w = await _http.RegisterWorkerAsync("w-mixed", known.Id, "/srv/new-repo/", "global", "/srv/known");

        var codebases = await CodebasesAsync();
        var created = Assert.Single(codebases, c => c.Path == "/srv/new-repo");
        Assert.Equal("new-repo", created.Name);
        Assert.Equal([known.Id, created.Id, "global"], w.Codebases);
        Assert.Equal(2, codebases.Count);
        Assert.Contains("w-mixed", codebases.Single(c => c.Id == known.Id).Workers);
    }

    [Theory]
    [InlineData("relative/repo")]
    [InlineData("/srv/../etc")]
    [InlineData("not-a-known-id")]
    public async Task Register_WithInvalidCodebaseEntry_Returns400AndWritesNothing(string entry)
    {
        var res = await _http.PostJsonAsync("/v1/agent/workers/register", new { worker_id = "w-bad", codebases = new[] { "/srv/fine", entry } });

        await res.IsProblemAsync(HttpStatusCode.BadRequest, "invalid-request");
        Assert.Empty(await WorkersAsync());
        Assert.Empty(await CodebasesAsync());
    }

    [Fact]
    public async Task Register_Again_UpdatesTheSameWorker()
    {
        await _http.RegisterWorkerAsync("w-again", "/srv/a");
        var second = await _http.RegisterWorkerAsync("w-again", "/srv/b");

        var listed = Assert.Single(await WorkersAsync());
        Assert.Equal(second.Codebases, listed.Codebases);
        Assert.Single(listed.Codebases);
    }

    [Fact]
    public async Task List_FiltersByCodebase_IncludingGlobalWorkers()
    {
        var cb = await _host.Client(ApiHost.OperatorToken).CreateCodebaseAsync();
        await _http.RegisterWorkerAsync("w-cb", cb.Id);
        await _http.RegisterWorkerAsync("w-global", "global");
        await _http.RegisterWorkerAsync("w-other", "/srv/other");

        var res = await _viewer.Get($"/v1/agent/workers?codebase_id={cb.Id}");

        Assert.Equal(["w-cb", "w-global"], (await res.ReadAsync<List<WorkerDto>>()).Select(w => w.WorkerId));
    }

    [Fact]
    public async Task Get_UnknownWorker_Returns404()
    {
        await (await _viewer.Get("/v1/agent/workers/ghost")).IsProblemAsync(HttpStatusCode.NotFound, "not-found");
    }

    [Fact]
    public async Task Heartbeat_KnownWorker_Returns200AndUpdatesLastHeartbeat()
    {
        var w = await _http.RegisterWorkerAsync("w-beat");
        var res = await _http.Post("/v1/agent/workers/w-beat/heartbeat");
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        var beat = await res.ReadAsync<WorkerDto>();
        Assert.True(beat.LastHeartbeat >= w.LastHeartbeat);
        Assert.Equal(WorkerStatuses.Online, beat.Status);
    }

    [Fact]
    public async Task Heartbeat_UnknownWorker_Returns404AndRegistersNothing()
    {
        await (await _http.Post("/v1/agent/workers/ghost/heartbeat")).IsProblemAsync(HttpStatusCode.NotFound, "not-found");
        Assert.Empty(await WorkersAsync());
    }

    [Fact]
    public async Task Unregister_MarksOfflineAndUnknownReturns404()
    {
        await _http.RegisterWorkerAsync("w-leave");
        Assert.Equal(HttpStatusCode.NoContent, (await _http.Post("/v1/agent/workers/w-leave/unregister")).StatusCode);
        Assert.Equal(WorkerStatuses.Offline, Assert.Single(await WorkersAsync()).Status);
        await (await _http.Post("/v1/agent/workers/ghost/unregister")).IsProblemAsync(HttpStatusCode.NotFound, "not-found");
    }

    [Fact]
    public async Task Stream_AnswersWithSseHeadersAndConnectedFirst()
    {
        await _http.RegisterWorkerAsync("w-sse");
        await using var sse = await _http.OpenWorkerStreamAsync("w-sse");

        Assert.Equal("text/event-stream", sse.Response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("no-cache, no-transform", Assert.Single(sse.Response.Headers.NonValidated["Cache-Control"]));
        Assert.Equal("no", Assert.Single(sse.Response.Headers.GetValues("X-Accel-Buffering")));
        var first = await sse.NextAsync(skipHeartbeats: false);
        Assert.Equal("connected", first.Type);
        Assert.Equal("w-sse", first.Json.GetProperty("worker_id").GetString());
    }

    [Fact]
    public async Task Stream_WithoutRegistering_RegistersFromHeaders()
    {
        var known = await _host.Client(ApiHost.OperatorToken).CreateCodebaseAsync("/srv/streamed");
        await using var sse = await SseClient.OpenAsync(_http, "/v1/worker/tasks/stream", headers: new Dictionary<string, string>
        {
            ["X-Worker-ID"] = "w-stream",
            ["X-Agent-Name"] = "Stream Agent",
            ["X-Codebases"] = $"{known.Id}, /srv/fresh",
            ["X-Capabilities"] = "git,python",
        });

        var connected = await sse.NextAsync(skipHeartbeats: false);
        Assert.Equal("connected", connected.Type);

        var w = await (await _viewer.Get("/v1/agent/workers/w-stream")).ReadAsync<WorkerDto>();
        Assert.Equal("Stream Agent", w.Name);
        Assert.Equal(WorkerStatuses.Online, w.Status);
        Assert.Equal(["git", "python"], w.Capabilities);
        var fresh = Assert.Single(await CodebasesAsync(), c => c.Path == "/srv/fresh");
        Assert.Equal([known.Id, fresh.Id], w.Codebases);
        Assert.Equal("w-stream", connected.Json.GetProperty("worker").GetProperty("worker_id").GetString());
    }

    [Fact]
    public async Task Stream_WithWorkerIdQuery_RegistersThatWorker()
    {
        await using var sse = await SseClient.OpenAsync(_http, "/v1/worker/tasks/stream?worker_id=w-q");
        Assert.Equal("connected", (await sse.NextAsync(skipHeartbeats: false)).Type);
        Assert.Equal("w-q", Assert.Single(await WorkersAsync()).WorkerId);
    }

    [Fact]
    public async Task Stream_WithoutWorkerId_Returns400()
    {
        var req = new HttpRequestMessage(HttpMethod.Get, "/v1/worker/tasks/stream");
        var res = await _http.SendRequest(req);
        await res.IsProblemAsync(HttpStatusCode.BadRequest, "invalid-request");
        Assert.Empty(await WorkersAsync());
    }

    [Fact]
    public async Task Stream_WithRelativeCodebaseHeader_Returns400AndRegistersNothing()
    {
        var req = new HttpRequestMessage(HttpMethod.Get, "/v1/worker/tasks/stream");
        req.Headers.Add("X-Worker-ID", "w-rel");
        req.Headers.Add("X-Codebases", "repos/app");
        var res = await _http.SendRequest(req);
        await res.IsProblemAsync(HttpStatusCode.BadRequest, "invalid-request");
        Assert.Empty(await WorkersAsync());
        Assert.Empty(await CodebasesAsync());
    }
}
