using System.Net;
using System.Net.Http.Headers;
using CodeTether.Api.Auth;
using CodeTether.Shared.Contracts;
using CodeTether.Testing;

namespace CodeTether.Api.Tests.Auth;

/// <summary>Who may call what: no token, a wrong token, and each role against every route.</summary>
public sealed class AuthTests : IAsyncLifetime
{
    ApiHost _host = null!;

    public async ValueTask InitializeAsync() => _host = await ApiHost.StartAsync();
    public async ValueTask DisposeAsync() => await _host.DisposeAsync();

    List<RouteCase> V1Routes() => RouteCase.All(_host.Services)
        .Where(r => r.Pattern.StartsWith("/v1/") && r.Pattern != "/v1/health").ToList();

    static HttpRequestMessage Request(RouteCase r)
    {
        var req = new HttpRequestMessage(new HttpMethod(r.Method), r.Path);
        if (r.Method is "POST" or "PATCH" or "PUT") req.Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json");
        return req;
    }

    static async Task AssertUnauthorizedAsync(HttpResponseMessage res, RouteCase r)
    {
        var body = await res.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(res.StatusCode == HttpStatusCode.Unauthorized, $"{r}: expected 401, got {(int)res.StatusCode} {body}");
        Assert.Contains(res.Headers.WwwAuthenticate, h => h.Scheme == "Bearer");
        await res.IsProblemAsync(HttpStatusCode.Unauthorized, "unauthenticated");
    }

    [Fact]
    public async Task EveryV1Route_WithoutToken_Returns401ProblemWithBearerChallenge()
    {
        var anonymous = _host.Anonymous();
        var routes = V1Routes();
        Assert.True(routes.Count > 30, $"only {routes.Count} routes found");
        foreach (var r in routes) await AssertUnauthorizedAsync(await anonymous.SendRequest(Request(r)), r);
    }

    [Theory]
    [InlineData("Bearer not-a-real-token")]
    [InlineData("Bearer ")]
    [InlineData("Basic dXNlcjpwYXNz")]
    public async Task EveryV1Route_WithWrongToken_Returns401(string authorization)
    {
        var http = _host.Anonymous();
        foreach (var r in V1Routes())
        {
            var req = Request(r);
            req.Headers.TryAddWithoutValidation("Authorization", authorization);
            await AssertUnauthorizedAsync(await http.SendRequest(req), r);
        }
    }

    [Theory]
    [InlineData("/health")]
    [InlineData("/v1/health")]
    [InlineData("/health/live")]
    [InlineData("/health/ready")]
    public async Task Health_WithoutToken_Returns200(string path)
    {
        var res = await _host.Anonymous().Get(path);
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        var health = await res.ReadAsync<HealthDto>();
        Assert.Equal(("healthy", "sqlite"), (health.Status, health.Database));
    }

    [Fact]
    public async Task UnknownV1Route_WithoutToken_Returns401NotALeakOf404()
    {
        var res = await _host.Anonymous().Get("/v1/agent/nothing-here");
        Assert.Equal(HttpStatusCode.Unauthorized, res.StatusCode);
    }

    [Theory]
    [InlineData(ApiHost.ViewerToken, Roles.Viewer)]
    [InlineData(ApiHost.WorkerToken, Roles.Worker)]
    [InlineData(ApiHost.OperatorToken, Roles.Operator)]
    public async Task EveryRoute_OutsideTheRolePermissions_Returns403Problem(string token, string role)
    {
        var http = _host.Client(token);
        var denied = V1Routes().Where(r => r.Permission is { } p && !Permissions.Grants([role], p)).ToList();
        if (role != Roles.Operator) Assert.NotEmpty(denied);
        foreach (var r in denied)
        {
            var res = await http.SendRequest(Request(r));
            Assert.True(res.StatusCode == HttpStatusCode.Forbidden, $"{role} on {r}: expected 403, got {(int)res.StatusCode}");
            await res.IsProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        }
    }

    [Fact]
    public async Task Viewer_CanReadEverything()
    {
        var op = _host.Client(ApiHost.OperatorToken);
        var cb = await op.CreateCodebaseAsync();
        var task = await op.TriggerAsync(cb.Id);
        var viewer = _host.Client(ApiHost.ViewerToken);

        foreach (var path in new[] { "/v1/agent/codebases", $"/v1/agent/codebases/{cb.Id}", "/v1/agent/workspaces", "/v1/agent/tasks",
                     $"/v1/agent/tasks/{task.Id}", "/v1/agent/workers", $"/v1/agent/codebases/{cb.Id}/sessions" })
            Assert.True((await viewer.Get(path)).StatusCode == HttpStatusCode.OK, path);
    }

    [Fact]
    public async Task Viewer_Writes_Return403AndChangeNothing()
    {
        var op = _host.Client(ApiHost.OperatorToken);
        var cb = await op.CreateCodebaseAsync();
        var task = await op.TriggerAsync(cb.Id);
        var viewer = _host.Client(ApiHost.ViewerToken);

        await (await viewer.PostJsonAsync("/v1/agent/codebases", new { name = "v", path = "/srv/viewer" })).IsProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        await (await viewer.Patch($"/v1/agent/codebases/{cb.Id}", new { name = "hacked" })).IsProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        await (await viewer.Delete($"/v1/agent/codebases/{cb.Id}")).IsProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        await (await viewer.PostJsonAsync("/v1/agent/tasks", new { prompt = "p" })).IsProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        await (await viewer.Post($"/v1/agent/tasks/{task.Id}/cancel")).IsProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        await (await viewer.PostJsonAsync("/v1/agent/workers/register", new { worker_id = "v" })).IsProblemAsync(HttpStatusCode.Forbidden, "forbidden");

        var codebases = await (await op.Get("/v1/agent/codebases")).ReadAsync<List<CodebaseDto>>();
        Assert.Equal(cb.Name, Assert.Single(codebases).Name);
        Assert.Equal(TaskStatuses.Submitted, (await op.GetTaskAsync(task.Id)).Task.Status);
        Assert.Empty(await (await op.Get("/v1/agent/workers")).ReadAsync<List<WorkerDto>>());
    }

    [Fact]
    public async Task WorkerToken_UsesTheWorkerProtocolButCannotCreateTasks()
    {
        var op = _host.Client(ApiHost.OperatorToken);
        var cb = await op.CreateCodebaseAsync();
        var worker = _host.Client(ApiHost.WorkerToken);
        await worker.RegisterWorkerAsync("w1", cb.Id);
        var task = await op.TriggerAsync(cb.Id);
        await using (var stream = await worker.OpenWorkerStreamAsync("w1"))
            Assert.Equal("connected", (await stream.NextAsync()).Type);
        Assert.Equal(HttpStatusCode.OK, (await worker.ClaimAsync(task.Id, "w1")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await worker.ReleaseAsync(task.Id, "w1")).StatusCode);

        await (await worker.PostJsonAsync("/v1/agent/tasks", new { prompt = "p", codebase_id = cb.Id })).IsProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        await (await worker.PostJsonAsync($"/v1/agent/codebases/{cb.Id}/trigger", new { prompt = "p" })).IsProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        Assert.Single((await (await op.Get("/v1/agent/tasks")).ReadAsync<TaskPage>()).Tasks);
    }

    [Fact]
    public async Task LocalAdminToken_MayDoEverything()
    {
        var admin = _host.Client(_host.AdminToken);
        var cb = await admin.CreateCodebaseAsync();
        await admin.RegisterWorkerAsync("w1", cb.Id);
        var task = await admin.TriggerAsync(cb.Id);
        Assert.Equal(HttpStatusCode.OK, (await admin.ClaimAsync(task.Id, "w1")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.Get("/v1/agent/workers")).StatusCode);
    }

    [Fact]
    public async Task BearerScheme_IsCaseInsensitive()
    {
        var http = _host.Anonymous();
        var req = new HttpRequestMessage(HttpMethod.Get, "/v1/agent/codebases");
        req.Headers.Authorization = new AuthenticationHeaderValue("bearer", ApiHost.ViewerToken);
        Assert.Equal(HttpStatusCode.OK, (await http.SendRequest(req)).StatusCode);
    }
}
