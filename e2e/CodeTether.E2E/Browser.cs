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

    public static Task<IBrowserContext> ContextAsync(IBrowser browser, int width = 1280, int height = 860) =>
        browser.NewContextAsync(new() { ViewportSize = new() { Width = width, Height = height }, Locale = "en-US" });

    /// <summary>The Blazor circuit is up: clicks before that would be lost on the prerendered page.</summary>
    public static async Task WaitForCircuitAsync(IPage page)
    {
        await page.WaitForFunctionAsync("() => window.Blazor !== undefined && document.querySelector('.mud-layout') !== null",
            null, new() { Timeout = 30_000 });
        // The first interactive render replaces the prerendered markup; the theme toggle only reacts once it is live.
        await page.WaitForFunctionAsync("() => !!(window.Blazor && window.Blazor._internal)", null, new() { Timeout = 30_000 });
        await page.WaitForTimeoutAsync(300);
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
