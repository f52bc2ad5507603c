using System.Net;
using CodeTether.Shared.Contracts;
using CodeTether.Testing;

namespace CodeTether.Api.Tests.Codebases;

/// <summary>The codebase routes, under both of their names (the original's clients say "workspaces").</summary>
public sealed class CodebasesTests : IAsyncLifetime
{
    ApiHost _host = null!;
    HttpClient _http = null!;

    public async ValueTask InitializeAsync()
    {
        _host = await ApiHost.StartAsync();
        _http = _host.Client(ApiHost.OperatorToken);
    }

    public async ValueTask DisposeAsync() => await _host.DisposeAsync();

    public static TheoryData<string> Prefixes => new() { "/v1/agent/codebases", "/v1/agent/workspaces" };

    static string NewPath() => "/srv/repos/" + Guid.NewGuid().ToString("N")[..8];

    async Task<List<CodebaseDto>> ListAsync(string prefix = "/v1/agent/codebases")
    {
        var res = await _http.Get(prefix);
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        return await res.ReadAsync<List<CodebaseDto>>();
    }

    [Theory, MemberData(nameof(Prefixes))]
    public async Task Register_NewPath_Returns201WithLocationAndId(string prefix)
    {
        var path = NewPath();
        var res = await _http.PostJsonAsync(prefix, new { name = "api", path, description = "the API" });

        Assert.Equal(HttpStatusCode.Created, res.StatusCode);
        var created = await res.ReadAsync<CodebaseDto>();
        Assert.False(string.IsNullOrEmpty(created.Id));
        Assert.Equal("api", created.Name);
        Assert.Equal(path, created.Path);
        Assert.Equal("the API", created.Description);
        Assert.NotNull(res.Headers.Location);
        Assert.EndsWith("/" + created.Id, res.Headers.Location!.OriginalString);

        var fetched = await _http.Get(res.Headers.Location);
        Assert.Equal(HttpStatusCode.OK, fetched.StatusCode);
        Assert.Equal(created.Id, (await fetched.ReadAsync<CodebaseDto>()).Id);
    }

    [Theory, MemberData(nameof(Prefixes))]
    public async Task Register_SamePathTwice_Returns200WithSameId(string prefix)
    {
        var path = NewPath();
        var first = await (await _http.PostJsonAsync(prefix, new { name = "one", path })).ReadAsync<CodebaseDto>();

        var again = await _http.PostJsonAsync(prefix, new { name = "other name", path = path + "/" });

        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(first.Id, (await again.ReadAsync<CodebaseDto>()).Id);
        Assert.Single(await ListAsync(prefix), c => c.Path == path);
    }

    [Theory, MemberData(nameof(Prefixes))]
    public async Task ListAndGet_AfterRegistering_ShowTheCodebase(string prefix)
    {
        var a = await (await _http.PostJsonAsync(prefix, new { name = "alpha", path = NewPath() })).ReadAsync<CodebaseDto>();
        var b = await (await _http.PostJsonAsync(prefix, new { name = "beta", path = NewPath() })).ReadAsync<CodebaseDto>();

        var list = await ListAsync(prefix);
        Assert.Equal(["alpha", "beta"], list.Select(c => c.Name).ToArray());

        var one = await _http.Get($"{prefix}/{b.Id}");
        Assert.Equal(HttpStatusCode.OK, one.StatusCode);
        var dto = await one.ReadAsync<CodebaseDto>();
        Assert.Equal(b.Path, dto.Path);
        Assert.Equal("beta", dto.Name);
        Assert.NotEqual(a.Id, dto.Id);
    }

    [Theory, MemberData(nameof(Prefixes))]
    public async Task Update_NamePathDescription_AreChanged(string prefix)
    {
        var cb = await (await _http.PostJsonAsync(prefix, new { name = "old", path = NewPath() })).ReadAsync<CodebaseDto>();
        var newPath = NewPath();

        var res = await _http.Patch($"{prefix}/{cb.Id}", new { name = "new", path = newPath, description = "desc" });

        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        var updated = await res.ReadAsync<CodebaseDto>();
        Assert.Equal(("new", newPath, "desc"), (updated.Name, updated.Path, updated.Description));
        var read = await (await _http.Get($"{prefix}/{cb.Id}")).ReadAsync<CodebaseDto>();
        Assert.Equal(("new", newPath, "desc"), (read.Name, read.Path, read.Description));
    }

    [Theory, MemberData(nameof(Prefixes))]
    public async Task Update_OnlyName_KeepsPathAndDescription(string prefix)
    {
        var path = NewPath();
        var cb = await (await _http.PostJsonAsync(prefix, new { name = "old", path, description = "keep" })).ReadAsync<CodebaseDto>();

        var res = await _http.Patch($"{prefix}/{cb.Id}", new { name = "renamed" });

        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        var read = await (await _http.Get($"{prefix}/{cb.Id}")).ReadAsync<CodebaseDto>();
        Assert.Equal(("renamed", path, "keep"), (read.Name, read.Path, read.Description));
    }

    [Theory, MemberData(nameof(Prefixes))]
    public async Task Update_ToPathOfAnotherCodebase_Returns409AndChangesNothing(string prefix)
    {
        var a = await (await _http.PostJsonAsync(prefix, new { name = "a", path = NewPath() })).ReadAsync<CodebaseDto>();
        var b = await (await _http.PostJsonAsync(prefix, new { name = "b", path = NewPath() })).ReadAsync<CodebaseDto>();

        var res = await _http.Patch($"{prefix}/{b.Id}", new { name = "b2", path = a.Path });

        await res.IsProblemAsync(HttpStatusCode.Conflict, "codebase-path-taken");
        var read = await (await _http.Get($"{prefix}/{b.Id}")).ReadAsync<CodebaseDto>();
        Assert.Equal(("b", b.Path), (read.Name, read.Path));
    }

    [Theory, MemberData(nameof(Prefixes))]
    public async Task Update_UnknownId_Returns404(string prefix)
    {
        var res = await _http.Patch($"{prefix}/nope", new { name = "x" });
        await res.IsProblemAsync(HttpStatusCode.NotFound, "not-found");
    }

    [Theory, MemberData(nameof(Prefixes))]
    public async Task Delete_Existing_Returns204ThenGetReturns404(string prefix)
    {
        var cb = await (await _http.PostJsonAsync(prefix, new { name = "gone", path = NewPath() })).ReadAsync<CodebaseDto>();

        var del = await _http.Delete($"{prefix}/{cb.Id}");

        Assert.Equal(HttpStatusCode.NoContent, del.StatusCode);
        await (await _http.Get($"{prefix}/{cb.Id}")).IsProblemAsync(HttpStatusCode.NotFound, "not-found");
        await (await _http.Delete($"{prefix}/{cb.Id}")).IsProblemAsync(HttpStatusCode.NotFound, "not-found");
        Assert.DoesNotContain(await ListAsync(prefix), c => c.Id == cb.Id);
    }

    [Theory, MemberData(nameof(Prefixes))]
    public async Task Get_UnknownId_Returns404Problem(string prefix)
    {
        var json = await (await _http.Get($"{prefix}/does-not-exist")).IsProblemAsync(HttpStatusCode.NotFound, "not-found");
        Assert.Contains("does-not-exist", json.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Codebase_RegisteredAsWorkspace_IsVisibleAsCodebaseAndViceVersa()
    {
        var ws = await (await _http.PostJsonAsync("/v1/agent/workspaces", new { name = "ws", path = NewPath() })).ReadAsync<CodebaseDto>();
        var cb = await (await _http.PostJsonAsync("/v1/agent/codebases", new { name = "cb", path = NewPath() })).ReadAsync<CodebaseDto>();

        Assert.Equal(HttpStatusCode.OK, (await _http.Get($"/v1/agent/codebases/{ws.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _http.Get($"/v1/agent/workspaces/{cb.Id}")).StatusCode);
    }

    [Theory, MemberData(nameof(Prefixes))]
    public async Task Trigger_OnCodebase_Returns202WithLocation(string prefix)
    {
        var cb = await (await _http.PostJsonAsync(prefix, new { name = "t", path = NewPath() })).ReadAsync<CodebaseDto>();

        var res = await _http.PostJsonAsync($"{prefix}/{cb.Id}/trigger", new { prompt = "do it", title = "T", priority = 5 });

        Assert.Equal(HttpStatusCode.Accepted, res.StatusCode);
        var task = await res.ReadAsync<TaskDto>();
        Assert.Equal(cb.Id, task.CodebaseId);
        Assert.Equal(("T", 5, TaskStatuses.Submitted), (task.Title, task.Priority, task.Status));
        Assert.Equal($"/v1/agent/tasks/{task.Id}", res.Headers.Location?.OriginalString);
        Assert.Equal(task.Id, (await _http.GetTaskAsync(task.Id)).Task.Id);
    }

    [Theory, MemberData(nameof(Prefixes))]
    public async Task Trigger_UnknownCodebase_Returns404AndCreatesNoTask(string prefix)
    {
        var res = await _http.PostJsonAsync($"{prefix}/nope/trigger", new { prompt = "do it" });

        await res.IsProblemAsync(HttpStatusCode.NotFound, "not-found");
        Assert.Empty((await (await _http.Get("/v1/agent/tasks")).ReadAsync<TaskPage>()).Tasks);
    }

    [Fact]
    public async Task Trigger_WithoutPrompt_Returns400OnPromptAndCreatesNoTask()
    {
        var cb = await _http.CreateCodebaseAsync(NewPath());

        var res = await _http.PostJsonAsync($"/v1/agent/codebases/{cb.Id}/trigger", new { title = "no prompt" });

        await res.IsValidationProblemAsync("prompt");
        Assert.Empty((await (await _http.Get("/v1/agent/tasks")).ReadAsync<TaskPage>()).Tasks);
    }

    public static TheoryData<string, string> InvalidPaths => new()
    {
        { "empty", "" },
        { "blank", "   " },
        { "relative", "srv/repos/app" },
        { "dot-relative", "./app" },
        { "dotdot", "/srv/repos/../etc" },
        { "trailing dotdot", "/srv/repos/.." },
        { "dot segment", "/srv/./repos" },
        { "control char", "/srv/re\u0001pos" },
        { "newline", "/srv/repos\n/x" },
        { "too long", "/" + new string('a', 1024) },
    };

    [Theory, MemberData(nameof(InvalidPaths))]
    public async Task Register_InvalidPath_Returns400OnPathAndCreatesNothing(string why, string path)
    {
        foreach (var prefix in new[] { "/v1/agent/codebases", "/v1/agent/workspaces" })
        {
            var res = await _http.PostJsonAsync(prefix, new { name = "bad " + why, path });
            await res.IsValidationProblemAsync("path");
        }
        Assert.Empty(await ListAsync());
    }

    [Fact]
    public async Task Register_MissingPath_Returns400OnPath()
    {
        await (await _http.PostJsonAsync("/v1/agent/codebases", new { name = "no path" })).IsValidationProblemAsync("path");
        Assert.Empty(await ListAsync());
    }

    [Fact]
    public async Task Register_MissingName_Returns400OnName()
    {
        await (await _http.PostJsonAsync("/v1/agent/codebases", new { path = NewPath() })).IsValidationProblemAsync("name");
        Assert.Empty(await ListAsync());
    }

    [Fact]
    public async Task Register_PathOfExactly1024Characters_IsAccepted()
    {
        var path = "/" + new string('a', 1023);
        var res = await _http.PostJsonAsync("/v1/agent/codebases", new { name = "long", path });
        Assert.Equal(HttpStatusCode.Created, res.StatusCode);
    }

    [Theory, MemberData(nameof(InvalidPaths))]
    public async Task Update_InvalidPath_Returns400OnPathAndKeepsTheOldPath(string why, string path)
    {
        var cb = await _http.CreateCodebaseAsync(NewPath(), name: "keep");

        var res = await _http.Patch($"/v1/agent/codebases/{cb.Id}", new { path, name = "renamed " + why });

        await res.IsValidationProblemAsync("path");
        var read = await (await _http.Get($"/v1/agent/codebases/{cb.Id}")).ReadAsync<CodebaseDto>();
        Assert.Equal(("keep", cb.Path), (read.Name, read.Path));
    }

    [Fact]
    public async Task Register_WindowsAbsolutePath_IsAccepted()
    {
        var res = await _http.PostJsonAsync("/v1/agent/codebases", new { name = "win", path = @"C:\src\app" });
        Assert.Equal(HttpStatusCode.Created, res.StatusCode);
    }

}
