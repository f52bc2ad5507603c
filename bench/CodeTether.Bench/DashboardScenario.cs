using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Playwright;

namespace CodeTether.Bench;

/// <summary>
/// The dashboard in Debian's Chromium (Playwright, headless): time to first render of the task grid over N tasks, and
/// event-to-screen latency (REST call sent by the driver → the new row's text inserted in the page's DOM).
/// </summary>
public static class DashboardScenario
{
    public sealed record Options(DbKind Db, int Tasks, int Runs, int Navigations, int Warmup, int Samples, string Chromium);

    sealed record Render(int Run, int Nav, double Ttfb, double Interactive, double Rows, string Total);

    // Installed before any page script: timestamps (performance.now(), i.e. ms since navigation start) of the circuit
    // coming up and of the grid's first row with a state chip; and, for the latency figure, the wall-clock time
    // (performance.timeOrigin + now()) at which each marker text first appears in an added node or changed text node.
    const string InitScript = """
        (() => {
          const ct = window.__ct = { seen: {} };
          const re = /lat-\d+-[a-z0-9]+/g;
          const scan = (text) => {
            if (!text) return;
            const m = text.match(re);
            if (!m) return;
            const t = performance.timeOrigin + performance.now();
            for (const k of m) if (!(k in ct.seen)) ct.seen[k] = t;
          };
          new MutationObserver(list => {
            if (ct.rows === undefined && document.querySelector('[data-testid=task-grid] tbody tr .ct-status')) ct.rows = performance.now();
            if (ct.interactive === undefined && document.getElementById('ct-interactive')) ct.interactive = performance.now();
            for (const r of list) {
              if (r.type === 'characterData') scan(r.target.textContent);
              else for (const n of r.addedNodes) scan(n.textContent);
            }
          }).observe(document, { childList: true, subtree: true, characterData: true });
        })();
        """;

    public static async Task<string> RunAsync(BenchContext ctx, Options o)
    {
        var db = o.Db.ToString().ToLowerInvariant();
        var renders = new List<Render>();
        var latencies = new List<double>();
        var seeds = new List<(double Seconds, string Snapshot)>();
        var offsets = new List<double>();
        using var pw = await Playwright.CreateAsync();
        await using var browser = await pw.Chromium.LaunchAsync(new()
        {
            ExecutablePath = o.Chromium, Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
        });

        for (var run = 1; run <= o.Runs; run++)
        {
            Console.Error.WriteLine($"dashboard/{db}: run {run}/{o.Runs}, seeding {o.Tasks} tasks");
            await using var host = await BenchHost.StartAsync(ctx, o.Db, $"dashboard-{db}-{run}");
            var snapshot = BenchContext.MachineSnapshot();
            using var admin = host.Client();
            var codebase = await Api.CreateCodebaseAsync(admin, "grid");
            var sw = Stopwatch.StartNew();
            var next = 0;
            await Task.WhenAll(Enumerable.Range(0, 16).Select(async _ =>
            {
                using var http = host.Client();
                int i;
                while ((i = Interlocked.Increment(ref next)) <= o.Tasks)
                {
                    using var r = await Api.TriggerAsync(http, codebase, $"seeded task {i}");
                    await Api.EnsureAsync(r, "seed");
                }
            }));
            seeds.Add((sw.Elapsed.TotalSeconds, snapshot));
            Console.Error.WriteLine($"  seeded in {sw.Elapsed.TotalSeconds:F1} s");

            await using var context = await browser.NewContextAsync(new() { ViewportSize = new() { Width = 1280, Height = 860 }, Locale = "en-US" });
            await context.AddInitScriptAsync(InitScript);
            var signIn = await context.NewPageAsync();
            await signIn.GotoAsync($"{host.BaseAddress}login?token={BenchHost.Token}");
            await signIn.WaitForSelectorAsync("#ct-interactive", new() { State = WaitForSelectorState.Attached, Timeout = 60_000 });
            await signIn.CloseAsync();

            // Time to first render: a new tab per navigation (its own timeOrigin), nothing else open.
            for (var nav = 1; nav <= o.Navigations; nav++)
            {
                var page = await context.NewPageAsync();
                await page.GotoAsync($"{host.BaseAddress}tasks", new() { WaitUntil = WaitUntilState.Commit });
                await page.WaitForFunctionAsync("() => window.__ct && window.__ct.rows !== undefined && window.__ct.interactive !== undefined",
                    null, new() { Timeout = 120_000, PollingInterval = 20 });
                var ct = await page.EvaluateAsync<double[]>("() => [performance.getEntriesByType('navigation')[0].responseStart, window.__ct.interactive, window.__ct.rows]");
                var total = await page.InnerTextAsync("[data-testid=task-total]", new() { Timeout = 30_000 });
                renders.Add(new Render(run, nav, ct[0], ct[1], ct[2], total));
                Console.Error.WriteLine($"  nav {nav}: ttfb {ct[0]:F0} ms, interactive {ct[1]:F0} ms, rows {ct[2]:F0} ms ({total})");
                await page.CloseAsync();
            }

            // Event → screen: one page on /tasks (newest first); the driver creates a task and the page stamps when its title shows up.
            var live = await context.NewPageAsync();
            await live.GotoAsync($"{host.BaseAddress}tasks");
            await live.WaitForFunctionAsync("() => window.__ct && window.__ct.rows !== undefined && window.__ct.interactive !== undefined", null, new() { Timeout = 120_000 });
            // Clock alignment: browser wall clock (timeOrigin + now) minus the driver's, at the midpoint of the fastest of 20 probes.
            var probes = new List<(double Rtt, double Offset)>();
            for (var i = 0; i < 20; i++)
            {
                var before = NowMs();
                var b = await live.EvaluateAsync<double>("() => performance.timeOrigin + performance.now()");
                var after = NowMs();
                probes.Add((after - before, b - (before + after) / 2));
            }
            var offset = probes.MinBy(p => p.Rtt).Offset;
            offsets.Add(offset);
            Console.Error.WriteLine($"  clock offset browser−driver {offset:F2} ms (probe rtt {probes.Min(p => p.Rtt):F2} ms)");
            using var writer = host.Client();
            var suffix = Guid.NewGuid().ToString("N")[..6];
            for (var i = 0; i < o.Warmup + o.Samples; i++)
            {
                var marker = $"lat-{i}-{suffix}";
                var sent = NowMs();
                using var r = await Api.TriggerAsync(writer, codebase, marker);
                await Api.EnsureAsync(r, "trigger");
                var seen = await (await live.WaitForFunctionAsync($"() => window.__ct.seen['{marker}']", null, new() { Timeout = 30_000, PollingInterval = 5 })).JsonValueAsync<double>();
                if (i >= o.Warmup) latencies.Add(seen - offset - sent);
                await Task.Delay(50);
            }
            var mine = latencies.TakeLast(o.Samples).Order().ToArray();
            Console.Error.WriteLine($"  event→screen p50 {Stats.Percentile(mine, 50):F1} ms, p95 {Stats.Percentile(mine, 95):F1} ms, max {mine[^1]:F1} ms");
        }

        var lat = latencies.Order().ToArray();
        var sb = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        sb.AppendLine($"## dashboard · {db}");
        sb.AppendLine();
        sb.AppendLine(BenchContext.MachineHeader());
        sb.AppendLine();
        sb.AppendLine($"{o.Tasks} tasks seeded through `POST /v1/agent/codebases/{{id}}/trigger` (16 parallel clients); Chromium {browser.Version} headless, 1280×860, " +
                      "signed in with the one-time link. First render: a new tab per navigation to `/tasks`; times are `performance.now()` (ms since navigation start) " +
                      "stamped by a MutationObserver installed before any page script.");
        sb.AppendLine();
        sb.AppendLine("| run | seed s | nav | TTFB ms | circuit interactive ms | **first grid rows ms** | total shown |");
        sb.AppendLine("| ---: | ---: | ---: | ---: | ---: | ---: | --- |");
        foreach (var r in renders)
            sb.AppendLine(inv, $"| {r.Run} | {seeds[r.Run - 1].Seconds:F1} | {r.Nav} | {r.Ttfb:F0} | {r.Interactive:F0} | **{r.Rows:F0}** | {r.Total} |");
        sb.AppendLine();
        sb.AppendLine(inv, $"First grid rows: median {Stats.Median(renders.Select(r => r.Rows)):F0} ms, min {renders.Min(r => r.Rows):F0}, max {renders.Max(r => r.Rows):F0} (n = {renders.Count}).");
        sb.AppendLine();
        sb.AppendLine(inv, $"Event → screen ({lat.Length} samples after {o.Warmup} warm-up, one at a time, 50 ms apart): from just before the driver sends the trigger POST " +
                           $"to the MutationObserver seeing the new task's title in the grid (browser wall clock `performance.timeOrigin + performance.now()`, " +
                           $"aligned to the driver's clock by the fastest of 20 probes: offset {string.Join(" / ", offsets.Select(x => x.ToString("F2", inv)))} ms).");
        sb.AppendLine();
        sb.AppendLine("| p50 ms | p90 ms | **p95 ms** | p99 ms | max ms |");
        sb.AppendLine("| ---: | ---: | ---: | ---: | ---: |");
        sb.AppendLine(inv, $"| {Stats.Percentile(lat, 50):F1} | {Stats.Percentile(lat, 90):F1} | **{Stats.Percentile(lat, 95):F1}** | {Stats.Percentile(lat, 99):F1} | {lat[^1]:F1} |");
        sb.AppendLine();
        foreach (var (s, snap) in seeds) sb.AppendLine($"- machine at start of a run: {snap}");
        return sb.ToString();
    }

    static double NowMs() => (DateTime.UtcNow - DateTime.UnixEpoch).TotalMilliseconds;
}
