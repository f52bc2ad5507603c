using CodeTether.Shared.Contracts;
using CodeTether.Testing;
using Microsoft.Playwright;

namespace CodeTether.E2E;

/// <summary>
/// Every page, empty and full, at 1280 and 390 px wide, saved under artifacts/e2e/screenshots (looked at by a person).
/// Runs against its own host signed in with the local one-time link (<c>/login?token=</c>).
/// </summary>
public sealed class ScreenshotTests : IAsyncLifetime
{
    ApiHost _host = null!;
    IPlaywright _pw = null!;
    IBrowser _browser = null!;
    string Base => _host.BaseAddress.ToString().TrimEnd('/');

    public async ValueTask InitializeAsync()
    {
        _host = await ApiHost.StartAsync();
        _pw = await Playwright.CreateAsync();
        _browser = await Browser.LaunchAsync(_pw);
    }

    public async ValueTask DisposeAsync()
    {
        await _browser.DisposeAsync();
        _pw.Dispose();
        await _host.DisposeAsync();
    }

    async Task<IPage> SignedInAsync(int width, string token)
    {
        var ctx = await Browser.ContextAsync(_browser, width, width < 600 ? 844 : 860);
        var page = await ctx.NewPageAsync();
        await page.GotoAsync($"{Base}/login?token={Uri.EscapeDataString(token)}");
        await Browser.WaitForCircuitAsync(page);
        return page;
    }

    async Task ShootAsync(IPage page, string path, string name, string? waitFor = null)
    {
        await page.GotoAsync(Base + path);
        await Browser.WaitForCircuitAsync(page);
        if (waitFor is not null) await page.WaitForSelectorAsync(waitFor, new() { Timeout = 15_000 });
        await page.WaitForFunctionAsync("() => !document.querySelector('.mud-progress-linear-bar.mud-progress-indeterminate')", null, new() { Timeout = 15_000 });
        await Browser.ShotAsync(page, name);
    }

    [Fact]
    public async Task EveryPage_EmptyAndFull_NarrowAndWide()
    {
        // The link printed at start signs in; a wrong one does not.
        var anon = await (await Browser.ContextAsync(_browser)).NewPageAsync();
        var bad = await anon.GotoAsync($"{Base}/login?token=wrong");
        Assert.Equal(401, bad!.Status);
        await Browser.ShotAsync(anon, "login-invalid-link");
        await anon.GotoAsync($"{Base}/tasks");
        Assert.Contains("Sign in to CodeTether", await anon.ContentAsync());

        var widths = new[] { 1280, 390 };
        foreach (var w in widths)
        {
            var page = await SignedInAsync(w, _host.AdminToken);
            await ShootAsync(page, "/", $"overview-empty-{w}", "[data-testid=empty-state]");
            await ShootAsync(page, "/codebases", $"codebases-empty-{w}", "[data-testid=empty-state]");
            await ShootAsync(page, "/tasks", $"tasks-empty-{w}", "[data-testid=empty-state]");
            await ShootAsync(page, "/workers", $"workers-empty-{w}", "[data-testid=empty-state]");
            await ShootAsync(page, "/sessions", $"sessions-empty-{w}", "[data-testid=empty-state]");
            await ShootAsync(page, "/tasks/does-not-exist", $"task-notfound-{w}", "[data-testid=empty-state]");
            await page.Context.CloseAsync();
        }

        // Fill it: a codebase, a worker process, tasks that complete and fail, a synced session.
        var http = _host.Client();
        var repo = Directory.CreateTempSubdirectory("codetether-shots-").FullName;
        var codebase = await http.CreateCodebaseAsync("payments-service", repo);
        await http.CreateCodebaseAsync("web-frontend", "/srv/repos/web-frontend");
        await using var worker = CodeTetherProcess.Start(
            ["worker", "--server", _host.BaseAddress.ToString(), "--codebases", repo, "--executor", "shell", "--worker-id", "build-box-1", "--grace", "1"],
            new Dictionary<string, string?> { ["A2A_WORKER_TOKEN"] = ApiHost.WorkerToken });
        var ok = await http.TriggerAsync(codebase.Id, "echo 'running the test suite'; echo '42 passed'", "Run the test suite");
        var fail = await http.TriggerAsync(codebase.Id, "echo 'lint: 3 problems' >&2; exit 3", "Lint the code");
        await http.WaitForStatusAsync(ok.Id, TaskStatuses.Completed, TimeSpan.FromSeconds(60));
        await http.WaitForStatusAsync(fail.Id, TaskStatuses.Failed, TimeSpan.FromSeconds(60));
        var queued = await http.TriggerAsync((await http.CreateCodebaseAsync("docs-site", "/srv/repos/docs")).Id, "Write the changelog for 2.0", "Changelog for 2.0");
        var workerHttp = _host.Client(ApiHost.WorkerToken);
        (await workerHttp.PostJsonAsync($"/v1/agent/codebases/{codebase.Id}/sessions/sync", new
        {
            worker_id = "build-box-1",
            sessions = new[]
            {
                new
                {
                    id = "ses-demo-1", title = "Fix flaky payment retry test", agent = "build", task_id = ok.Id,
                    messages = new object[]
                    {
                        new { id = "m1", role = "user", content = "The retry test fails one run in ten. Find out why." },
                        new { id = "m2", role = "assistant", content = "The test sleeps 100 ms but the backoff jitter can reach 150 ms. I will inject a fake clock." },
                        new { id = "m3", role = "tool", content = "edit tests/RetryTests.cs (+12 -3)" },
                        new { id = "m4", role = "assistant", content = "Done: the test now uses FakeTimeProvider and passed 200 runs in a row." },
                    },
                },
            },
        })).EnsureSuccessStatusCode();

        foreach (var w in widths)
        {
            var page = await SignedInAsync(w, _host.AdminToken);
            await ShootAsync(page, "/", $"overview-full-{w}", "[data-testid=activity-feed]");
            await ShootAsync(page, "/codebases", $"codebases-full-{w}", "[data-testid=codebase-table]");
            await ShootAsync(page, $"/codebases/{codebase.Id}", $"codebase-detail-{w}", "[data-testid=task-rows]");
            await ShootAsync(page, "/tasks", $"tasks-full-{w}", $"text=Run the test suite");
            await ShootAsync(page, $"/tasks?status=failed", $"tasks-filtered-{w}", $"text=Lint the code");
            await ShootAsync(page, $"/tasks/{ok.Id}", $"task-detail-completed-{w}", "[data-testid=task-result]");
            await ShootAsync(page, $"/tasks/{fail.Id}", $"task-detail-failed-{w}", "[data-testid=task-error]");
            await ShootAsync(page, $"/tasks/{queued.Id}", $"task-detail-queued-{w}", "[data-testid=timeline]");
            await ShootAsync(page, "/workers", $"workers-full-{w}", "[data-testid=worker-table]");
            await ShootAsync(page, "/workers/build-box-1", $"worker-detail-{w}", "[data-testid=task-rows]");
            await ShootAsync(page, "/sessions", $"sessions-full-{w}", "[data-testid=session-table]");
            await ShootAsync(page, "/sessions/ses-demo-1", $"session-detail-{w}", "[data-testid=transcript]");
            await ShootAsync(page, "/codebases", $"codebase-dialog-{w}", "[data-testid=codebase-table]");
            await page.ClickAsync("#register-codebase");
            await page.WaitForSelectorAsync("[data-testid=codebase-dialog]");
            await page.ClickAsync("#codebase-save");
            await page.WaitForSelectorAsync("text=Name is required.");
            await Browser.ShotAsync(page, $"codebase-dialog-{w}");
            await page.Keyboard.PressAsync("Escape");
            await page.WaitForSelectorAsync("[data-testid=codebase-dialog]", new() { State = WaitForSelectorState.Detached });
            await ShootAsync(page, "/codebases", $"trigger-dialog-{w}", "[data-testid=codebase-table]");
            await page.Locator(".trigger-button").First.ClickAsync();
            await page.WaitForSelectorAsync("[data-testid=trigger-dialog]");
            await page.ClickAsync("#trigger-submit");
            await page.WaitForSelectorAsync("text=A prompt is required.");
            await Browser.ShotAsync(page, $"trigger-dialog-{w}");
            await page.Context.CloseAsync();
        }

        // Dark theme and a viewer's read-only view.
        var dark = await SignedInAsync(1280, _host.AdminToken);
        await dark.ClickAsync("#theme-toggle");
        await Browser.ShotAsync(dark, "overview-dark-1280");
        var viewer = await SignedInAsync(1280, ApiHost.ViewerToken);
        await ShootAsync(viewer, "/codebases", "codebases-viewer-1280", "[data-testid=read-only]");
        Assert.True(await viewer.IsDisabledAsync("#register-codebase"));
    }
}
