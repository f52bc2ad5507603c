using System.Net;
using CodeTether.Shared.Contracts;
using CodeTether.Testing;

namespace CodeTether.Api.Tests.Sessions;

/// <summary>Sessions synced from workers: upsert, transcript order, search, and reads.</summary>
public sealed class SessionsTests : IAsyncLifetime
{
    ApiHost _host = null!;
    HttpClient _worker = null!;
    HttpClient _viewer = null!;
    CodebaseDto _cb = null!;

    public async ValueTask InitializeAsync()
    {
        _host = await ApiHost.StartAsync();
        _worker = _host.Client(ApiHost.WorkerToken);
        _viewer = _host.Client(ApiHost.ViewerToken);
        _cb = await _host.Client(ApiHost.OperatorToken).CreateCodebaseAsync();
    }

    public async ValueTask DisposeAsync() => await _host.DisposeAsync();

    static object Session(string id, string? title, params (string Id, string Role, string Content)[] messages) => new
    {
        id,
        title,
        agent = "build",
        messages = messages.Select(m => new { id = m.Id, role = m.Role, content = m.Content, parts = new[] { new { type = "text", text = m.Content } } }),
    };

    Task<HttpResponseMessage> SyncAsync(string prefix, string codebaseId, params object[] sessions) =>
        _worker.PostJsonAsync($"{prefix}/{codebaseId}/sessions/sync", new { worker_id = "w1", sessions });

    async Task<List<SessionDto>> ListAsync(string query = "") =>
        await (await _viewer.Get($"/v1/agent/codebases/{_cb.Id}/sessions{query}")).ReadAsync<List<SessionDto>>();

    async Task<List<SessionMessageDto>> MessagesAsync(string id)
    {
        var res = await _viewer.Get($"/v1/agent/sessions/{id}/messages");
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        return await res.ReadAsync<List<SessionMessageDto>>();
    }

    [Theory]
    [InlineData("/v1/agent/codebases")]
    [InlineData("/v1/agent/workspaces")]
    public async Task Sync_NewSessions_AreStoredWithMessagesInOrder(string prefix)
    {
        var res = await SyncAsync(prefix, _cb.Id,
            Session("s1", "Fix login", ("m3", "user", "first"), ("m1", "assistant", "second"), ("m2", "user", "third")),
            Session("s2", "Add docs", ("x", "user", "hi")));

        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        Assert.Equal(new SessionSyncResponse(2, 4), await res.ReadAsync<SessionSyncResponse>());
        var s1 = await (await _viewer.Get("/v1/agent/sessions/s1")).ReadAsync<SessionDto>();
        Assert.Equal((_cb.Id, "w1", "Fix login", "build", 3), (s1.CodebaseId, s1.WorkerId, s1.Title, s1.Agent, s1.MessageCount));
        var messages = await MessagesAsync("s1");
        Assert.Equal(["m3", "m1", "m2"], messages.Select(m => m.Id));
        Assert.Equal(["first", "second", "third"], messages.Select(m => m.Content));
        Assert.Equal("first", messages[0].Parts!.Value[0].GetProperty("text").GetString());
    }

    [Fact]
    public async Task Sync_Again_IsIdempotentAndAppendsNewMessagesAfterOldOnes()
    {
        var first = Session("s1", "v1", ("a", "user", "one"), ("b", "assistant", "two"));
        Assert.Equal(HttpStatusCode.OK, (await SyncAsync("/v1/agent/codebases", _cb.Id, first)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SyncAsync("/v1/agent/codebases", _cb.Id, first)).StatusCode);
        Assert.Equal(["a", "b"], (await MessagesAsync("s1")).Select(m => m.Id));

        var grown = Session("s1", "v2", ("a", "user", "one (edited)"), ("b", "assistant", "two"), ("c", "user", "three"));
        Assert.Equal(HttpStatusCode.OK, (await SyncAsync("/v1/agent/codebases", _cb.Id, grown)).StatusCode);

        var messages = await MessagesAsync("s1");
        Assert.Equal(["a", "b", "c"], messages.Select(m => m.Id));
        Assert.Equal("one (edited)", messages[0].Content);
        var session = Assert.Single(await ListAsync());
        Assert.Equal(("v2", 3), (session.Title, session.MessageCount));
    }

    [Fact]
    public async Task List_WithQuery_FindsSessionsByTitle()
    {
        await SyncAsync("/v1/agent/codebases", _cb.Id, Session("s1", "Fix login bug"), Session("s2", "Write docs"), Session("s3", null));

        Assert.Equal(3, (await ListAsync()).Count);
        Assert.Equal(["s1"], (await ListAsync("?q=login")).Select(s => s.Id));
        Assert.Empty(await ListAsync("?q=nothing-like-this"));
    }

    [Theory]
    [InlineData("{\"sessions\":[{\"title\":\"no id\"}]}")]
    [InlineData("{\"sessions\":[{\"id\":\"  \"}]}")]
    [InlineData("{\"sessions\":[{\"id\":\"s1\",\"messages\":[{\"role\":\"user\"}]}]}")]
    [InlineData("{\"sessions\":[{\"id\":\"s1\",\"messages\":[{\"id\":\"m1\"}]}]}")]
    public async Task Sync_MissingIdsOrRoles_Returns400AndStoresNothing(string body)
    {
        var res = await _worker.PostRaw($"/v1/agent/codebases/{_cb.Id}/sessions/sync", body);
        await res.IsProblemAsync(HttpStatusCode.BadRequest, "invalid-request");
        Assert.Empty(await ListAsync());
    }

    [Fact]
    public async Task Sync_UnknownCodebase_Returns404()
    {
        await (await SyncAsync("/v1/agent/codebases", "nope", Session("s1", "x"))).IsProblemAsync(HttpStatusCode.NotFound, "not-found");
        await (await _viewer.Get("/v1/agent/sessions/s1")).IsProblemAsync(HttpStatusCode.NotFound, "not-found");
    }

    [Fact]
    public async Task Sync_SessionAlreadyUnderAnotherCodebase_Returns409()
    {
        var other = await _host.Client(ApiHost.OperatorToken).CreateCodebaseAsync();
        await SyncAsync("/v1/agent/codebases", _cb.Id, Session("s1", "mine"));

        var res = await SyncAsync("/v1/agent/codebases", other.Id, Session("s1", "moved?"));

        await res.IsProblemAsync(HttpStatusCode.Conflict, "session-codebase-mismatch");
        Assert.Equal("mine", (await (await _viewer.Get("/v1/agent/sessions/s1")).ReadAsync<SessionDto>()).Title);
    }

    [Theory]
    [InlineData("/v1/agent/sessions/nope")]
    [InlineData("/v1/agent/sessions/nope/messages")]
    [InlineData("/v1/agent/codebases/nope/sessions")]
    [InlineData("/v1/agent/workspaces/nope/sessions")]
    public async Task Read_Unknown_Returns404(string path)
    {
        await (await _viewer.Get(path)).IsProblemAsync(HttpStatusCode.NotFound, "not-found");
    }
}
