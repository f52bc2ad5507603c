using CodeTether.Shared.Contracts;
using CodeTether.Testing;

namespace CodeTether.E2E;

/// <summary>
/// A worker (the worker protocol over plain HTTP, as any client would speak it) asks a question; a viewer sees it
/// but cannot answer; an operator answers in the browser and the task goes back to the queue, live on both pages.
/// </summary>
[Collection(KeycloakDashboardCollection.Name)]
public sealed class InputRequiredTests(KeycloakDashboard d)
{
    [Fact]
    public async Task WorkerAsks_ViewerCannotAnswer_OperatorAnswersInTheBrowser_TaskIsQueuedAgain()
    {
        var http = d.Host.Client();
        var workerHttp = d.Host.Client(ApiHost.WorkerToken);
        var name = "ask-" + Guid.NewGuid().ToString("N")[..6];
        var codebase = await http.CreateCodebaseAsync(name, "/srv/e2e/" + name);
        var workerId = "asker-" + name;
        (await workerHttp.PostJsonAsync("/v1/agent/workers/register", new { worker_id = workerId, codebases = new[] { codebase.Id } })).EnsureSuccessStatusCode();
        var task = await http.TriggerAsync(codebase.Id, "deploy the service", "Deploy " + name);
        var claim = await workerHttp.PostJsonAsync($"/v1/worker/tasks/{task.Id}/claim", new { worker_id = workerId });
        Assert.True(claim.IsSuccessStatusCode, await claim.Content.ReadAsStringAsync());
        var fencing = (await claim.ReadAsync<ClaimTaskResponse>()).FencingToken;

        // Both people have the task page open before the question is asked: it must arrive live.
        var (opCtx, op) = await d.SignInAsync("carol", $"/tasks/{task.Id}");
        await using var _1 = opCtx;
        var (viewCtx, viewer) = await d.SignInAsync("bob", $"/tasks/{task.Id}");
        await using var _2 = viewCtx;
        await op.WaitForSelectorAsync("[data-testid=timeline]");

        var question = $"Deploy {name} to staging or production?";
        var asked = await workerHttp.PostJsonAsync($"/v1/worker/tasks/{task.Id}/input-required",
            new { worker_id = workerId, fencing_token = fencing, message = question });
        Assert.True(asked.IsSuccessStatusCode, await asked.Content.ReadAsStringAsync());

        await op.WaitForSelectorAsync($"[data-testid=question]:has-text('{question}')", new() { Timeout = 5_000 });
        await viewer.WaitForSelectorAsync($"[data-testid=question]:has-text('{question}')", new() { Timeout = 5_000 });
        Assert.True(await viewer.IsDisabledAsync("#answer-input"));
        Assert.True(await viewer.IsDisabledAsync("#answer-submit"));
        await Browser.ShotAsync(viewer, "task-input-required-viewer-1280");

        // The server refuses a viewer too (same service as REST).
        var refused = await d.Host.Client(ApiHost.ViewerToken).PostJsonAsync($"/v1/agent/tasks/{task.Id}/resume", new { prompt = "production" });
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, refused.StatusCode);

        await op.ClickAsync("#answer-submit");
        await op.WaitForSelectorAsync("text=An answer is required.");
        await op.FillAsync("#answer-input", "staging, please");
        await Browser.ShotAsync(op, "task-input-required-1280");
        await op.ClickAsync("#answer-submit");

        // Back in the queue: routed, since the worker is still online (submitted if none were).
        await op.WaitForSelectorAsync("[data-testid=task-status] .ct-status[data-status=routed], [data-testid=task-status] .ct-status[data-status=submitted]", new() { Timeout = 5_000 });
        await viewer.WaitForSelectorAsync("[data-testid=task-status] .ct-status[data-status=routed], [data-testid=task-status] .ct-status[data-status=submitted]", new() { Timeout = 5_000 });
        Assert.Equal(0, await op.Locator("[data-testid=input-required]").CountAsync());
        var detail = await http.GetTaskAsync(task.Id);
        Assert.Contains(detail.Task.Status, new[] { TaskStatuses.Routed, TaskStatuses.Submitted });
        Assert.Equal("staging, please", detail.Task.Prompt);
        await op.WaitForSelectorAsync($"[data-testid=timeline] >> text={question}"); // the question stays in the timeline
    }
}
