using System.Diagnostics;
using CodeTether.Shared.Contracts;
using CodeTether.Testing;

namespace CodeTether.E2E;

/// <summary>
/// The whole loop in the browser: register a codebase, trigger a task from the dialog, a real worker process
/// (<c>codetether worker --executor shell</c>) runs it, the page follows it live, and a second browser sees it too.
/// </summary>
[Collection(KeycloakDashboardCollection.Name)]
public sealed class LiveTaskTests(KeycloakDashboard d)
{
    [Fact]
    public async Task RegisterTriggerAndWatch_RealWorkerCompletesIt_SecondBrowserSeesItLive()
    {
        var repo = Directory.CreateTempSubdirectory("codetether-e2e-repo-").FullName;
        var name = "e2e-" + Guid.NewGuid().ToString("N")[..6];

        // Browser 1: register the codebase through the dialog (validation first).
        var (ctx1, page) = await d.SignInAsync("alice", "/codebases");
        await using var _1 = ctx1;
        await page.ClickAsync("#register-codebase");
        await page.WaitForSelectorAsync("[data-testid=codebase-dialog]");
        await page.ClickAsync("#codebase-save");
        await page.WaitForSelectorAsync("text=Name is required.");
        await page.FillAsync("#codebase-name", name);
        await page.FillAsync("#codebase-path", "relative/path");
        await page.ClickAsync("#codebase-save");
        await page.WaitForSelectorAsync("text=Use an absolute path");
        await page.FillAsync("#codebase-path", repo);
        await page.ClickAsync("#codebase-save");
        await page.WaitForSelectorAsync($"a:has-text('{name}')");

        // A real worker daemon serving that path.
        await using var worker = CodeTetherProcess.Start(
            ["worker", "--server", d.Host.BaseAddress.ToString(), "--codebases", repo, "--executor", "shell", "--worker-id", "e2e-" + name, "--grace", "1"],
            new Dictionary<string, string?> { ["A2A_WORKER_TOKEN"] = ApiHost.WorkerToken });
        await page.WaitForSelectorAsync($"a.mud-chip:has-text('e2e-{name}'), .mud-chip:has-text('e2e-{name}')", new() { Timeout = 30_000 });

        // Browser 2 watches the task grid. A marker on its window proves it is never reloaded: what it shows comes live.
        var (ctx2, watcher) = await d.SignInAsync("alice", "/tasks");
        await using var _2 = ctx2;
        await watcher.EvaluateAsync("() => { window.__ctNoReload = true; }");

        // Trigger from the dialog.
        await page.ClickAsync($"button[aria-label='Trigger an agent on {name}']");
        await page.WaitForSelectorAsync("[data-testid=trigger-dialog]");
        await page.ClickAsync("#trigger-submit");
        await page.WaitForSelectorAsync("text=A prompt is required.");
        var title = "say hello " + name;
        await page.FillAsync("#trigger-prompt", $"echo hello-from-{name}; sleep 2; echo done-{name}");
        await page.FillAsync("#trigger-title", title);
        await page.ClickAsync("#trigger-submit");
        await page.WaitForURLAsync(u => u.Contains("/tasks/"), new() { Timeout = 30_000 });
        var sw = Stopwatch.StartNew();
        // Live, without a reload. How fast is measured in bench/ (`dashboard`: event → screen, p95 242 ms against the
        // issue's 1 s), not asserted here: on a CI box shared with the API suite a wall-clock bound only measures load.
        await watcher.WaitForSelectorAsync($"text={title}", new() { Timeout = 10_000 });
        TestContext.Current.TestOutputHelper?.WriteLine($"second browser saw the new task {sw.ElapsedMilliseconds} ms after the first browser left the dialog");
        var taskId = page.Url.Split("/tasks/")[1];

        // The task page follows the states live (no reload) while the worker runs the command.
        await Browser.WaitForCircuitAsync(page);
        var seen = new List<string>();
        var until = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < until)
        {
            var status = await page.GetAttributeAsync("[data-testid=task-status] .ct-status", "data-status");
            if (status is not null && (seen.Count == 0 || seen[^1] != status)) seen.Add(status);
            if (status == TaskStatuses.Completed) break;
            await page.WaitForTimeoutAsync(50);
        }
        Assert.Equal(TaskStatuses.Completed, seen[^1]);
        Assert.Contains(TaskStatuses.Running, seen);
        await page.WaitForSelectorAsync($"[data-testid=steps] >> text=hello-from-{name}");
        await page.WaitForSelectorAsync("[data-testid=task-result]");
        var phases = await page.InnerTextAsync("[data-testid=attempt] [data-testid=phases]");
        Assert.Contains("waiting", phases);
        Assert.Contains("running", phases);

        // The second browser follows the task to its end state, still without a reload.
        var grid = await watcher.WaitForSelectorAsync($"tr:has-text('{title}') [data-status={TaskStatuses.Completed}]", new() { Timeout = 10_000 });
        Assert.NotNull(grid);
        Assert.True(await watcher.EvaluateAsync<bool>("() => window.__ctNoReload === true"), "the second browser was reloaded");

        var detail = await d.Host.Client().GetTaskAsync(taskId);
        Assert.Equal(TaskStatuses.Completed, detail.Task.Status);
        Assert.Equal("e2e-" + name, detail.Task.WorkerId);
        await Browser.ShotAsync(page, "flow-task-completed-1280");
    }
}
