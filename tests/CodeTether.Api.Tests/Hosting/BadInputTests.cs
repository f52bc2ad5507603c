using System.Net;
using CodeTether.Api.Tests.Auth;
using CodeTether.Shared.Contracts;
using CodeTether.Testing;

namespace CodeTether.Api.Tests.Hosting;

/// <summary>Malformed input gives a 4xx ProblemDetails on every POST/PATCH route, never a 500, and writes nothing (B5).</summary>
public sealed class BadInputTests : IAsyncLifetime
{
    ApiHost _host = null!;
    HttpClient _http = null!;

    public async ValueTask InitializeAsync()
    {
        _host = await ApiHost.StartAsync();
        _http = _host.Client(); // the local admin: every route is allowed, so only the input decides
    }

    public async ValueTask DisposeAsync() => await _host.DisposeAsync();

    List<RouteCase> WriteRoutes() => RouteCase.All(_host.Services)
        .Where(r => r.Pattern.StartsWith("/v1/") && r.Method is "POST" or "PATCH" or "PUT").ToList();

    async Task AssertNothingWrittenAsync()
    {
        Assert.Empty(await (await _http.Get("/v1/agent/codebases")).ReadAsync<List<CodebaseDto>>());
        Assert.Empty((await (await _http.Get("/v1/agent/tasks")).ReadAsync<TaskPage>()).Tasks);
        Assert.Empty(await (await _http.Get("/v1/agent/workers")).ReadAsync<List<WorkerDto>>());
    }

    async Task<HttpResponseMessage> SendAsync(RouteCase r, HttpContent? content, bool expectContinue = false)
    {
        var req = new HttpRequestMessage(new HttpMethod(r.Method), r.Path) { Content = content };
        req.Headers.Add("X-Worker-ID", "w-bad");
        // A large upload asks first (as curl does): the server answers 413 before the body is sent, so the
        // client never writes into a connection the server has already closed.
        if (expectContinue) req.Headers.ExpectContinue = true;
        return await _http.SendRequest(req);
    }

    static StringContent Json(string body) => new(body, System.Text.Encoding.UTF8, "application/json");

    public static TheoryData<string, string> Malformed => new()
    {
        { "truncated", "{\"name\":" },
        { "not json", "hello" },
        { "array", "[1,2]" },
        { "string", "\"x\"" },
        { "trailing garbage", "{} {}" },
    };

    [Theory, MemberData(nameof(Malformed))]
    public async Task EveryWriteRoute_MalformedJson_Returns4xxProblemAndWritesNothing(string why, string body)
    {
        foreach (var r in WriteRoutes())
        {
            var res = await SendAsync(r, Json(body));
            Assert.True((int)res.StatusCode is >= 400 and < 500, $"{why} on {r}: {(int)res.StatusCode} {await res.BodyAsync()}");
            await res.IsClientErrorProblemAsync();
        }
        await AssertNothingWrittenAsync();
    }

    [Fact]
    public async Task EveryWriteRoute_EmptyBody_Returns4xxProblemOrIgnoresIt()
    {
        foreach (var r in WriteRoutes())
        {
            var res = await SendAsync(r, Json(""));
            Assert.True((int)res.StatusCode < 500, $"{r}: {(int)res.StatusCode} {await res.BodyAsync()}");
            if (!res.IsSuccessStatusCode) await res.IsClientErrorProblemAsync();
        }
        await AssertNothingWrittenAsync();
    }

    [Fact]
    public async Task EveryWriteRouteWithBody_OversizedBody_Returns413Problem()
    {
        var huge = "{\"prompt\":\"" + new string('a', 4 * 1024 * 1024 + 10) + "\"}";
        var routes = WriteRoutes();
        Assert.True(routes.Count(r => r.AcceptsBody) > 10);
        foreach (var r in routes)
        {
            var res = await SendAsync(r, Json(huge), expectContinue: true);
            if (r.AcceptsBody)
            {
                Assert.True(res.StatusCode == HttpStatusCode.RequestEntityTooLarge, $"{r}: {(int)res.StatusCode} {await res.BodyAsync()}");
                await res.IsProblemAsync(HttpStatusCode.RequestEntityTooLarge);
            }
            else
            {
                // Routes without a body (retry, heartbeat...) never read it: any answer but a 500.
                Assert.True((int)res.StatusCode < 500, $"{r}: {(int)res.StatusCode} {await res.BodyAsync()}");
            }
        }
        await AssertNothingWrittenAsync();
    }

    [Fact]
    public async Task EveryWriteRoute_WrongContentType_Returns4xxProblem()
    {
        foreach (var r in WriteRoutes())
        {
            var res = await SendAsync(r, new StringContent("name=x", System.Text.Encoding.UTF8, "application/x-www-form-urlencoded"));
            Assert.True((int)res.StatusCode < 500, $"{r}: {(int)res.StatusCode} {await res.BodyAsync()}");
            if (!res.IsSuccessStatusCode) await res.IsClientErrorProblemAsync();
        }
        await AssertNothingWrittenAsync();
    }

    public static TheoryData<string, string> WrongTypes => new()
    {
        { "/v1/agent/codebases", "{\"name\":1,\"path\":\"/srv/a\"}" },
        { "/v1/agent/codebases", "{\"name\":\"a\",\"path\":[\"/srv/a\"]}" },
        { "/v1/agent/workspaces", "{\"name\":\"a\",\"path\":{\"x\":1}}" },
        { "/v1/agent/tasks", "{\"prompt\":\"p\",\"priority\":\"high\"}" },
        { "/v1/agent/tasks", "{\"prompt\":\"p\",\"priority\":1.5}" },
        { "/v1/agent/tasks", "{\"prompt\":\"p\",\"priority\":99999999999}" },
        { "/v1/agent/tasks", "{\"prompt\":\"p\",\"metadata\":\"not an object\"}" },
        { "/v1/agent/tasks", "{\"prompt\":42}" },
        { "/v1/agent/workers/register", "{\"worker_id\":\"w\",\"codebases\":\"x\"}" },
        { "/v1/agent/workers/register", "{\"worker_id\":\"w\",\"capabilities\":[1,2]}" },
        { "/v1/agent/workers/register", "{\"worker_id\":7}" },
        { "/v1/worker/tasks/claim", "{\"task_id\":{},\"worker_id\":\"w\"}" },
        { "/v1/worker/tasks/heartbeat", "{\"task_id\":\"t\",\"worker_id\":\"w\",\"progress_pct\":\"half\"}" },
        { "/v1/worker/tasks/heartbeat", "{\"task_id\":\"t\",\"worker_id\":\"w\",\"fencing_token\":\"1\"}" },
        { "/v1/worker/tasks/release", "{\"task_id\":\"t\",\"worker_id\":\"w\",\"status\":true}" },
        { "/v1/worker/tasks/x/events", "{\"worker_id\":\"w\",\"events\":{\"type\":\"output\"}}" },
        { "/v1/agent/tasks/x/complete", "{\"worker_id\":\"w\",\"result\":[]}" },
        { "/v1/agent/tasks/x/cancel", "{\"reason\":5}" },
    };

    [Theory, MemberData(nameof(WrongTypes))]
    public async Task Post_WrongTypes_Returns400ProblemAndWritesNothing(string path, string body)
    {
        var res = await _http.PostRaw(path, body);
        await res.IsProblemAsync(HttpStatusCode.BadRequest);
        await AssertNothingWrittenAsync();
    }

    [Fact]
    public async Task Patch_WrongTypes_Returns400AndKeepsTheCodebase()
    {
        var cb = await _http.CreateCodebaseAsync("/srv/patch-me", name: "keep");
        await (await _http.PatchRaw($"/v1/agent/codebases/{cb.Id}", "{\"name\":[1]}")).IsProblemAsync(HttpStatusCode.BadRequest);
        await (await _http.PatchRaw($"/v1/agent/workspaces/{cb.Id}", "{\"name\":")).IsProblemAsync(HttpStatusCode.BadRequest);
        await (await _http.PatchRaw($"/v1/agent/codebases/{cb.Id}", "")).IsClientErrorProblemAsync();
        var read = await (await _http.Get($"/v1/agent/codebases/{cb.Id}")).ReadAsync<CodebaseDto>();
        Assert.Equal(("keep", "/srv/patch-me"), (read.Name, read.Path));
    }

    [Fact]
    public async Task Sessions_Sync_WrongTypes_Returns400AndStoresNothing()
    {
        var cb = await _http.CreateCodebaseAsync();
        await (await _http.PostRaw($"/v1/agent/codebases/{cb.Id}/sessions/sync", "{\"sessions\":\"x\"}")).IsProblemAsync(HttpStatusCode.BadRequest);
        await (await _http.PostRaw($"/v1/agent/codebases/{cb.Id}/sessions/sync", "{\"sessions\":[{\"id\":\"s\",\"messages\":[{\"id\":\"m\",\"role\":\"user\",\"created_at\":\"yesterday\"}]}]}"))
            .IsProblemAsync(HttpStatusCode.BadRequest);
        Assert.Empty(await (await _http.Get($"/v1/agent/codebases/{cb.Id}/sessions")).ReadAsync<List<SessionDto>>());
    }
}
