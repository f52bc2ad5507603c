using System.Net;
using CodeTether.Shared.Contracts;
using CodeTether.Testing;

namespace CodeTether.Api.Tests.Tasks;

/// <summary>The REST task routes: create, list and page, read with timeline, cancel, retry.</summary>
public sealed class TasksApiTests : IAsyncLifetime
{
    ApiHost _host = null!;
    HttpClient _http = null!;

    public async ValueTask InitializeAsync()
    {
        _host = await ApiHost.StartAsync();
        _http = _host.Client(ApiHost.OperatorToken);
    }

    public async ValueTask DisposeAsync() => await _host.DisposeAsync();

    async Task<TaskPage> ListAsync(string query = "")
    {
        var res = await _http.Get("/v1/agent/tasks" + query);
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        return await res.ReadAsync<TaskPage>();
    }

    async Task<TaskDto> CreateAsync(object body)
    {
        var res = await _http.PostJsonAsync("/v1/agent/tasks", body);
        Assert.True(res.StatusCode == HttpStatusCode.Accepted, await res.BodyAsync());
        return await res.ReadAsync<TaskDto>();
    }

    [Fact]
    public async Task Create_WithCodebaseId_Returns202WithLocationOnThatCodebase()
    {
        var cb = await _http.CreateCodebaseAsync();

        var res = await _http.PostJsonAsync("/v1/agent/tasks", new { prompt = "fix it\nplease", codebase_id = cb.Id, agent = "plan", model = "m1" });

        Assert.Equal(HttpStatusCode.Accepted, res.StatusCode);
        var task = await res.ReadAsync<TaskDto>();
        Assert.Equal($"/v1/agent/tasks/{task.Id}", res.Headers.Location?.OriginalString);
        Assert.Equal(cb.Id, task.CodebaseId);
        Assert.Equal(("fix it", "plan", "m1", TaskStatuses.Submitted, 1), (task.Title, task.Agent, task.Model, task.Status, task.Attempt));
    }

    [Fact]
    public async Task Create_WithWorkspaceId_UsesThatCodebase()
    {
        var cb = await _http.CreateCodebaseAsync();
        var task = await CreateAsync(new { prompt = "p", workspace_id = cb.Id });
        Assert.Equal(cb.Id, task.CodebaseId);
    }

    [Fact]
    public async Task Create_WithCodebasePath_ResolvesTheCodebase()
    {
        var cb = await _http.CreateCodebaseAsync("/srv/repos/by-path");
        var task = await CreateAsync(new { prompt = "p", codebase_path = "/srv/repos/by-path/" });
        Assert.Equal(cb.Id, task.CodebaseId);
    }

    [Fact]
    public async Task Create_WithNoCodebase_GoesToGlobal()
    {
        var task = await CreateAsync(new { prompt = "anything" });
        Assert.Equal(CodebaseIds.Global, task.CodebaseId);
        Assert.Equal("build", task.Agent);
    }

    [Fact]
    public async Task Create_WithUnknownCodebaseId_Returns404AndCreatesNothing()
    {
        var res = await _http.PostJsonAsync("/v1/agent/tasks", new { prompt = "p", codebase_id = "unknown" });
        await res.IsProblemAsync(HttpStatusCode.NotFound, "not-found");
        Assert.Empty((await ListAsync()).Tasks);
    }

    [Fact]
    public async Task Create_WithUnknownWorkspaceOrPath_Returns404AndCreatesNothing()
    {
        await (await _http.PostJsonAsync("/v1/agent/tasks", new { prompt = "p", workspace_id = "unknown" })).IsProblemAsync(HttpStatusCode.NotFound, "not-found");
        await (await _http.PostJsonAsync("/v1/agent/tasks", new { prompt = "p", codebase_path = "/no/such/repo" })).IsProblemAsync(HttpStatusCode.NotFound, "not-found");
        Assert.Empty((await ListAsync()).Tasks);
    }

    [Fact]
    public async Task Create_WithRelativeCodebasePath_Returns400AndCreatesNothing()
    {
        var res = await _http.PostJsonAsync("/v1/agent/tasks", new { prompt = "p", codebase_path = "../etc" });
        await res.IsProblemAsync(HttpStatusCode.BadRequest, "invalid-request");
        Assert.Empty((await ListAsync()).Tasks);
    }

    [Theory]
    [InlineData("{\"codebase_id\":\"global\"}", "prompt")]
    [InlineData("{\"prompt\":\"   \"}", "prompt")]
    [InlineData("{\"prompt\":\"p\",\"priority\":5000}", "priority")]
    [InlineData("{\"prompt\":\"p\",\"agent\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}", "agent")]
    public async Task Create_InvalidFields_Returns400OnFieldAndCreatesNothing(string json, string field)
    {
        var res = await _http.PostRaw("/v1/agent/tasks", json);
        await res.IsValidationProblemAsync(field);
        Assert.Empty((await ListAsync()).Tasks);
    }

    [Fact]
    public async Task List_FiltersByCodebaseWorkspaceAndStatus()
    {
        var a = await _http.CreateCodebaseAsync();
        var b = await _http.CreateCodebaseAsync();
        var ta = await _http.TriggerAsync(a.Id);
        var tb = await _http.TriggerAsync(b.Id);
        var cancelled = await _http.TriggerAsync(b.Id);
        Assert.Equal(HttpStatusCode.OK, (await _http.Post($"/v1/agent/tasks/{cancelled.Id}/cancel")).StatusCode);

        Assert.Equal([ta.Id], (await ListAsync($"?codebase_id={a.Id}")).Tasks.Select(t => t.Id));
        Assert.Equal([cancelled.Id, tb.Id], (await ListAsync($"?workspace_id={b.Id}")).Tasks.Select(t => t.Id));
        Assert.Equal([cancelled.Id], (await ListAsync("?status=cancelled")).Tasks.Select(t => t.Id));
        Assert.Equal([tb.Id, ta.Id], (await ListAsync("?status=submitted")).Tasks.Select(t => t.Id));
        Assert.Equal([tb.Id, ta.Id], (await ListAsync("?status=pending")).Tasks.Select(t => t.Id));
        Assert.Equal([tb.Id], (await ListAsync($"?status=pending&codebase_id={b.Id}")).Tasks.Select(t => t.Id));
    }

    [Fact]
    public async Task List_ByWorkerId_ShowsTheTasksItClaimed()
    {
        var cb = await _http.CreateCodebaseAsync();
        await _http.RegisterWorkerAsync("w-list", cb.Id);
        var claimed = await _http.TriggerAsync(cb.Id);
        await _http.TriggerAsync(cb.Id);
        Assert.Equal(HttpStatusCode.OK, (await _http.ClaimAsync(claimed.Id, "w-list")).StatusCode);

        Assert.Equal([claimed.Id], (await ListAsync("?worker_id=w-list")).Tasks.Select(t => t.Id));
        Assert.Empty((await ListAsync("?worker_id=someone-else")).Tasks);
    }

    [Fact]
    public async Task List_PagingWithCursor_WalksAllTasksOnceNewestFirst()
    {
        var created = new List<string>();
        for (var i = 0; i < 7; i++) created.Add((await CreateAsync(new { prompt = $"task {i}" })).Id);

        var seen = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await ListAsync("?limit=3" + (cursor is null ? "" : $"&cursor={cursor}"));
            Assert.True(page.Tasks.Count <= 3);
            seen.AddRange(page.Tasks.Select(t => t.Id));
            cursor = page.NextCursor;
            pages++;
        } while (cursor is not null && pages < 10);

        Assert.Equal(3, pages);
        Assert.Equal(Enumerable.Reverse(created).ToList(), seen);
    }

    [Fact]
    public async Task List_PagingOverTasksCreatedConcurrently_ReturnsEachOnceInCreationOrder()
    {
        // Many tasks share a millisecond here: paging must not depend on ids being ordered within one.
        var created = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => CreateAsync(new { prompt = $"burst {i}" })));

        var seen = new List<TaskDto>();
        string? cursor = null;
        do
        {
            var page = await ListAsync("?limit=7" + (cursor is null ? "" : $"&cursor={Uri.EscapeDataString(cursor)}"));
            seen.AddRange(page.Tasks);
            cursor = page.NextCursor;
        } while (cursor is not null);

        Assert.Equal(created.Select(t => t.Id).Order(), seen.Select(t => t.Id).Order());
        Assert.Equal(seen.Count, seen.Select(t => t.Id).Distinct().Count());
        Assert.Equal(seen.OrderByDescending(t => t.CreatedAt).ThenByDescending(t => t.Id, StringComparer.Ordinal).Select(t => t.Id),
            seen.Select(t => t.Id));
    }

    [Fact]
    public async Task List_LastPageExactlyFull_HasNoNextCursor()
    {
        for (var i = 0; i < 2; i++) await CreateAsync(new { prompt = $"task {i}" });
        var page = await ListAsync("?limit=2");
        Assert.Equal(2, page.Tasks.Count);
        Assert.Null(page.NextCursor);
    }

    [Theory]
    [InlineData("?status=bogus")]
    [InlineData("?status=COMPLETED")]
    [InlineData("?limit=0")]
    [InlineData("?limit=501")]
    [InlineData("?limit=-1")]
    [InlineData("?limit=abc")]
    public async Task List_InvalidStatusOrLimit_Returns400Problem(string query)
    {
        var res = await _http.Get("/v1/agent/tasks" + query);
        await res.IsProblemAsync(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Get_ReturnsTaskWithTimeline()
    {
        var task = await CreateAsync(new { prompt = "p" });
        var detail = await _http.GetTaskAsync(task.Id);
        Assert.Equal(task.Id, detail.Task.Id);
        Assert.Equal("p", detail.Task.Prompt);
        var first = Assert.Single(detail.Timeline);
        Assert.Equal(("status", TaskStatuses.Submitted, task.Id), (first.Type, first.Status, first.TaskId));
    }

    [Fact]
    public async Task Cancel_PendingTask_IsCancelledAndSecondCancelReturns409()
    {
        var task = await CreateAsync(new { prompt = "p" });

        var res = await _http.PostJsonAsync($"/v1/agent/tasks/{task.Id}/cancel", new { reason = "changed my mind" });

        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        var cancelled = await res.ReadAsync<TaskDto>();
        Assert.Equal(TaskStatuses.Cancelled, cancelled.Status);
        Assert.Equal("changed my mind", cancelled.Error);
        var detail = await _http.GetTaskAsync(task.Id);
        Assert.Equal(TaskStatuses.Cancelled, detail.Task.Status);
        Assert.Equal([TaskStatuses.Submitted, TaskStatuses.Cancelled], detail.Timeline.Select(e => e.Status));

        await (await _http.Post($"/v1/agent/tasks/{task.Id}/cancel")).IsProblemAsync(HttpStatusCode.Conflict, "invalid-task-state");
    }

    [Fact]
    public async Task Cancel_WithMalformedReasonBody_Returns400AndLeavesTaskPending()
    {
        var task = await CreateAsync(new { prompt = "p" });
        var res = await _http.PostRaw($"/v1/agent/tasks/{task.Id}/cancel", "{\"reason\":");
        await res.IsProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal(TaskStatuses.Submitted, (await _http.GetTaskAsync(task.Id)).Task.Status);
    }

    [Fact]
    public async Task Cancel_CompletedTask_Returns409()
    {
        var cb = await _http.CreateCodebaseAsync();
        await _http.RegisterWorkerAsync("w", cb.Id);
        var task = await _http.TriggerAsync(cb.Id);
        Assert.Equal(HttpStatusCode.OK, (await _http.ClaimAsync(task.Id, "w")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _http.ReleaseAsync(task.Id, "w")).StatusCode);

        await (await _http.Post($"/v1/agent/tasks/{task.Id}/cancel")).IsProblemAsync(HttpStatusCode.Conflict, "invalid-task-state");
        Assert.Equal(TaskStatuses.Completed, (await _http.GetTaskAsync(task.Id)).Task.Status);
    }

    [Fact]
    public async Task Retry_CancelledTask_GoesBackToSubmittedWithNextAttempt()
    {
        var task = await CreateAsync(new { prompt = "p" });
        await _http.Post($"/v1/agent/tasks/{task.Id}/cancel");

        var res = await _http.Post($"/v1/agent/tasks/{task.Id}/retry");

        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        var retried = await res.ReadAsync<TaskDto>();
        Assert.Equal((TaskStatuses.Submitted, 2), (retried.Status, retried.Attempt));
        Assert.Null(retried.Error);
        var detail = await _http.GetTaskAsync(task.Id);
        Assert.Equal([TaskStatuses.Submitted, TaskStatuses.Cancelled, TaskStatuses.Submitted], detail.Timeline.Select(e => e.Status));
    }

    [Fact]
    public async Task Retry_FailedTaskWithEligibleWorkerOnline_IsRoutedWithNextAttempt()
    {
        var cb = await _http.CreateCodebaseAsync();
        await _http.RegisterWorkerAsync("w", cb.Id);
        var task = await _http.TriggerAsync(cb.Id);
        Assert.Equal(HttpStatusCode.OK, (await _http.ClaimAsync(task.Id, "w")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _http.ReleaseAsync(task.Id, "w", status: "failed", error: "boom")).StatusCode);
        Assert.Equal("boom", (await _http.GetTaskAsync(task.Id)).Task.Error);

        var res = await _http.Post($"/v1/agent/tasks/{task.Id}/retry");

        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        var retried = await res.ReadAsync<TaskDto>();
        Assert.Equal((TaskStatuses.Routed, 2), (retried.Status, retried.Attempt));
        Assert.Null(retried.Error);
        Assert.Equal(HttpStatusCode.OK, (await _http.ClaimAsync(task.Id, "w")).StatusCode);
    }

    [Fact]
    public async Task Retry_PendingOrCompletedTask_Returns409AndChangesNothing()
    {
        var pending = await CreateAsync(new { prompt = "p" });
        await (await _http.Post($"/v1/agent/tasks/{pending.Id}/retry")).IsProblemAsync(HttpStatusCode.Conflict, "invalid-task-state");
        var after = (await _http.GetTaskAsync(pending.Id)).Task;
        Assert.Equal((TaskStatuses.Submitted, 1), (after.Status, after.Attempt));

        var cb = await _http.CreateCodebaseAsync();
        await _http.RegisterWorkerAsync("w", cb.Id);
        var done = await _http.TriggerAsync(cb.Id);
        await _http.ClaimAsync(done.Id, "w");
        await (await _http.Post($"/v1/agent/tasks/{done.Id}/retry")).IsProblemAsync(HttpStatusCode.Conflict, "invalid-task-state");
        await _http.ReleaseAsync(done.Id, "w");
        await (await _http.Post($"/v1/agent/tasks/{done.Id}/retry")).IsProblemAsync(HttpStatusCode.Conflict, "invalid-task-state");
        Assert.Equal(TaskStatuses.Completed, (await _http.GetTaskAsync(done.Id)).Task.Status);
    }

    [Theory]
    [InlineData("GET", "/v1/agent/tasks/nope")]
    [InlineData("GET", "/v1/agent/tasks/nope/events")]
    [InlineData("POST", "/v1/agent/tasks/nope/cancel")]
    [InlineData("POST", "/v1/agent/tasks/nope/retry")]
    public async Task UnknownTaskId_Returns404Problem(string method, string path)
    {
        var res = await _http.SendRequest(new HttpRequestMessage(new HttpMethod(method), path));
        await res.IsProblemAsync(HttpStatusCode.NotFound, "not-found");
    }

    [Fact]
    public async Task Events_OfTask_ReplaysStatusEventsWithIds()
    {
        var task = await CreateAsync(new { prompt = "p" });
        await _http.Post($"/v1/agent/tasks/{task.Id}/cancel");

        await using var sse = await SseClient.OpenAsync(_http, $"/v1/agent/tasks/{task.Id}/events");
        var seen = await sse.UntilAsync(e => e.Type == "status" && e.Json.GetProperty("status").GetString() == TaskStatuses.Cancelled);

        Assert.All(seen, e => Assert.False(string.IsNullOrEmpty(e.Id)));
        Assert.Equal("text/event-stream", sse.Response.Content.Headers.ContentType?.MediaType);
    }
}
