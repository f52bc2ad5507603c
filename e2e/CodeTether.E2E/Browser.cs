using Microsoft.Playwright;

namespace CodeTether.E2E;

/// <summary>Debian's Chromium driven by Playwright (never <c>playwright install</c>: the browser CDN is unreachable).</summary>
public static class Browser
{
    public static string ExecutablePath =>
        Environment.GetEnvironmentVariable("CHROMIUM_PATH") is { Length: > 0 } p ? p : "/usr/bin/chromium";

    public static Task<IBrowser> LaunchAsync(IPlaywright pw) => pw.Chromium.LaunchAsync(new()
    {
        ExecutablePath = ExecutablePath,
        Headless = true,
        Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
    });

    public static async Task<IBrowserContext> ContextAsync(IBrowser browser, int width = 1280, int height = 860)
    {
        var ctx = await browser.NewContextAsync(new() { ViewportSize = new() { Width = width, Height = height }, Locale = "en-US" });
        ctx.Page += (_, p) =>
        {
            var log = Logs.GetOrAdd(p, _ => []);
            p.Console += (_, m) => { lock (log) log.Add($"console.{m.Type}: {m.Text}"); };
            p.PageError += (_, e) => { lock (log) log.Add("pageerror: " + e); };
            p.RequestFailed += (_, r) => { lock (log) log.Add($"requestfailed: {r.Url} {r.Failure}"); };
            p.Response += (_, r) => { if (r.Status >= 400) lock (log) log.Add($"http {r.Status}: {r.Url}"); };
        };
        return ctx;
    }

    static readonly System.Collections.Concurrent.ConcurrentDictionary<IPage, List<string>> Logs = new();

    /// <summary>The Blazor circuit is up: clicks before that would be lost on the prerendered page.</summary>
    public static async Task WaitForCircuitAsync(IPage page)
    {
        try
        {
            await page.WaitForSelectorAsync("#ct-interactive", new() { State = WaitForSelectorState.Attached, Timeout = 30_000 });
        }
        catch (TimeoutException ex)
        {
            var log = Logs.GetValueOrDefault(page) ?? [];
            lock (log) throw new TimeoutException($"The Blazor circuit of {page.Url} never became interactive. Browser log:\n{string.Join('\n', log)}", ex);
        }
    }

    /// <summary>Where screenshots go: artifacts/e2e/screenshots at the repository root.</summary>
    public static string ArtifactsDir
    {
        get
        {
            var dir = Path.Combine(Repo.Root, "artifacts", "e2e", "screenshots");
            Directory.CreateDirectory(dir);
            return dir;
        }
    }

    public static async Task ShotAsync(IPage page, string name)
    {
        await page.WaitForTimeoutAsync(250); // let transitions settle
        await page.ScreenshotAsync(new() { Path = Path.Combine(ArtifactsDir, name + ".png"), FullPage = true });
    }
}

public static class Repo
{
    public static string Root
    {
        get
        {
            for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
                if (File.Exists(Path.Combine(d.FullName, "CodeTether.sln"))) return d.FullName;
            throw new InvalidOperationException("CodeTether.sln not found above " + AppContext.BaseDirectory);
        }
    }
}
