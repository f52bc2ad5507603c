using System.CommandLine;
using CodeTether.Bench;

// codetether-bench: load driver for the host (see bench/README.md).
var root = new RootCommand("CodeTether load driver: starts the Release host as a child process and drives it over HTTP + SSE.");

var dbOption = new Option<string>("--db") { Description = "sqlite, postgres or both.", DefaultValueFactory = _ => "sqlite" };
dbOption.AcceptOnlyFromAmong("sqlite", "postgres", "both");
var hostDll = new Option<string?>("--host-dll") { Description = "The host's dll (default: <repo>/CodeTether.Api/bin/Release/net10.0/codetether.dll)." };
var results = new Option<string?>("--results") { Description = "Folder for the markdown results and host logs (default: <repo>/bench/results)." };
var runsOption = new Option<int>("--runs") { Description = "Runs per figure (fresh host each); the report gives the median of runs.", DefaultValueFactory = _ => 2 };
var hostEnv = new Option<string[]>("--host-env") { Description = "Extra KEY=VALUE environment for the host (repeatable), e.g. for EF command logging.", AllowMultipleArgumentsPerToken = false };
var pgSetting = new Option<string[]>("--pg-setting") { Description = "Diagnostics: KEY=VALUE set on the fresh PostgreSQL database (ALTER DATABASE ... SET), e.g. synchronous_commit=off." };
foreach (var o in new Option[] { dbOption, hostDll, results, runsOption, hostEnv, pgSetting }) { o.Recursive = true; root.Options.Add(o); }

BenchContext Context(ParseResult p)
{
    var repo = BenchContext.FindRepoRoot();
    var dll = p.GetValue(hostDll) ?? (repo is null ? null : Path.Combine(repo, "CodeTether.Api", "bin", "Release", "net10.0", "codetether.dll"))
        ?? throw new InvalidOperationException("Cannot find the repository (CodeTether.sln); pass --host-dll and --results.");
    var res = p.GetValue(results) ?? Path.Combine(repo ?? Directory.GetCurrentDirectory(), "bench", "results");
    var env = (p.GetValue(hostEnv) ?? []).Select(e => e.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv.Length > 1 ? kv[1] : "");
    var pg = (p.GetValue(pgSetting) ?? []).Select(e => e.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv.Length > 1 ? kv[1] : "");
    return new BenchContext(Path.GetFullPath(dll), Path.GetFullPath(res), env, pg);
}

IEnumerable<DbKind> Dbs(ParseResult p) => p.GetValue(dbOption) switch
{
    "postgres" => [DbKind.Postgres],
    "both" => [DbKind.Sqlite, DbKind.Postgres],
    _ => [DbKind.Sqlite],
};

static string Name(string scenario, DbKind db) => $"{scenario}-{db.ToString().ToLowerInvariant()}";

// latency
var latWorkers = new Option<int>("--workers") { Description = "Idle workers with open streams.", DefaultValueFactory = _ => 10 };
var latWarmup = new Option<int>("--warmup") { Description = "Warm-up tasks (not measured).", DefaultValueFactory = _ => 50 };
var latSamples = new Option<int>("--samples", "-n") { Description = "Measured tasks.", DefaultValueFactory = _ => 1000 };
var latency = new Command("latency", "Submit → task_available latency with idle workers on open streams.") { latWorkers, latWarmup, latSamples };
latency.SetAction(async (p, ct) =>
{
    var ctx = Context(p);
    foreach (var db in Dbs(p))
    {
        var md = await LatencyScenario.RunAsync(ctx, new(db, p.GetValue(latWorkers), p.GetValue(latWarmup), p.GetValue(latSamples),
            p.GetValue(runsOption), TimeSpan.FromSeconds(10)));
        ctx.Write(Name("latency", db), md);
    }
    return 0;
});
root.Subcommands.Add(latency);

// claims
var clTasks = new Option<int>("--tasks", "-m") { Description = "Tasks waiting in submitted before the workers start.", DefaultValueFactory = _ => 5000 };
var clWorkers = new Option<int>("--workers") { Description = "Competing worker loops.", DefaultValueFactory = _ => 8 };
var clPage = new Option<int>("--page") { Description = "limit of each pending list.", DefaultValueFactory = _ => 50 };
var clVerify = new Option<int>("--verify") { Description = "Timelines to check via GET /v1/agent/tasks/{id} (0 = all).", DefaultValueFactory = _ => 0 };
var claims = new Command("claims", "Competing claims on a backlog: claims/s, 409s, exactly-once check.") { clTasks, clWorkers, clPage, clVerify };
claims.SetAction(async (p, ct) =>
{
    var ctx = Context(p);
    var failed = false;
    foreach (var db in Dbs(p))
    {
        var md = await ClaimsScenario.RunAsync(ctx, new(db, p.GetValue(clTasks), p.GetValue(clWorkers), p.GetValue(runsOption),
            p.GetValue(clPage), p.GetValue(clVerify)));
        ctx.Write(Name("claims", db), md);
        failed |= md.Contains("zero double claims ❌");
    }
    return failed ? 1 : 0;
});
root.Subcommands.Add(claims);

// idle-memory
var memWorkers = new Option<int>("--workers") { Description = "Idle workers for the second reading.", DefaultValueFactory = _ => 10 };
var memSettle = new Option<int>("--settle") { Description = "Seconds to settle before each reading.", DefaultValueFactory = _ => 10 };
var memGc = new Option<string>("--gc") { Description = "default (the host's runtimeconfig: Server GC), workstation (DOTNET_gcServer=0) or both.", DefaultValueFactory = _ => "both" };
memGc.AcceptOnlyFromAmong("default", "workstation", "both");
var idle = new Command("idle-memory", "RSS of an idle host, with 0 and with N connected idle workers.") { memWorkers, memSettle, memGc };
idle.SetAction(async (p, ct) =>
{
    var ctx = Context(p);
    var gc = p.GetValue(memGc) == "both" ? new[] { "default", "workstation" } : [p.GetValue(memGc)!];
    foreach (var db in Dbs(p))
    {
        var md = await IdleMemoryScenario.RunAsync(ctx, new(db, p.GetValue(memWorkers), TimeSpan.FromSeconds(p.GetValue(memSettle)),
            p.GetValue(runsOption), gc));
        ctx.Write(Name("idle-memory", db), md);
    }
    return 0;
});
root.Subcommands.Add(idle);

// a2a
var a2aClients = new Option<int>("--clients", "-c") { Description = "Concurrent message/send clients.", DefaultValueFactory = _ => 16 };
var a2aDuration = new Option<int>("--duration") { Description = "Seconds of measured message/send load per run.", DefaultValueFactory = _ => 20 };
var a2aWarmup = new Option<int>("--warmup") { Description = "Seconds of message/send warm-up per run (not measured).", DefaultValueFactory = _ => 5 };
var a2aStreamClients = new Option<int>("--stream-clients") { Description = "Concurrent message/stream clients.", DefaultValueFactory = _ => 4 };
var a2aStreams = new Option<int>("--streams") { Description = "Measured message/stream calls per run.", DefaultValueFactory = _ => 1000 };
var a2aStreamWarmup = new Option<int>("--stream-warmup") { Description = "Warm-up message/stream calls per run.", DefaultValueFactory = _ => 100 };
var a2aReference = new Option<bool>("--reference") { Description = "Also run the @a2a-js/sdk 0.3.14 reference server (bench/a2a/server.mjs).", DefaultValueFactory = _ => true };
var a2a = new Command("a2a", "A2A JSON-RPC: non-blocking message/send req/s + latency, message/stream first-event latency; host vs the @a2a-js/sdk reference server.")
    { a2aClients, a2aDuration, a2aWarmup, a2aStreamClients, a2aStreams, a2aStreamWarmup, a2aReference };
a2a.SetAction(async (p, ct) =>
{
    var ctx = Context(p);
    var md = await A2aScenario.RunAsync(ctx, new(Dbs(p).ToList(), p.GetValue(a2aReference), p.GetValue(a2aClients),
        TimeSpan.FromSeconds(p.GetValue(a2aWarmup)), TimeSpan.FromSeconds(p.GetValue(a2aDuration)),
        p.GetValue(a2aStreamClients), p.GetValue(a2aStreams), p.GetValue(a2aStreamWarmup), p.GetValue(runsOption)));
    ctx.Write("a2a-" + p.GetValue(dbOption), md);
    return 0;
});
root.Subcommands.Add(a2a);

// dashboard
var dbTasks = new Option<int>("--tasks", "-m") { Description = "Tasks in the grid.", DefaultValueFactory = _ => 10_000 };
var dbNavs = new Option<int>("--navigations") { Description = "Timed navigations to /tasks per run (new tab each).", DefaultValueFactory = _ => 3 };
var dbWarmup = new Option<int>("--warmup") { Description = "Warm-up events (not measured).", DefaultValueFactory = _ => 10 };
var dbSamples = new Option<int>("--samples", "-n") { Description = "Measured events per run.", DefaultValueFactory = _ => 100 };
var dbChromium = new Option<string>("--chromium") { Description = "Chromium executable.", DefaultValueFactory = _ => "/usr/bin/chromium" };
var dashboard = new Command("dashboard", "Task grid first render over N tasks and event-to-screen latency, in headless Chromium.") { dbTasks, dbNavs, dbWarmup, dbSamples, dbChromium };
dashboard.SetAction(async (p, ct) =>
{
    var ctx = Context(p);
    foreach (var db in Dbs(p))
    {
        var md = await DashboardScenario.RunAsync(ctx, new(db, p.GetValue(dbTasks), p.GetValue(runsOption), p.GetValue(dbNavs),
            p.GetValue(dbWarmup), p.GetValue(dbSamples), p.GetValue(dbChromium)!));
        ctx.Write(Name("dashboard", db), md);
    }
    return 0;
});
root.Subcommands.Add(dashboard);

// worker
var wkCalls = new Option<int>("--calls") { Description = "read_file calls in the task.", DefaultValueFactory = _ => 200 };
var wkPerTurn = new Option<int>("--per-turn") { Description = "Tool calls per model answer.", DefaultValueFactory = _ => 1 };
var wkSettle = new Option<int>("--settle") { Description = "Seconds the idle worker settles before its RSS is read.", DefaultValueFactory = _ => 10 };
var workerCmd = new Command("worker", "Agent worker overhead per tool call against a local OpenAI stub, and idle worker RSS.") { wkCalls, wkPerTurn, wkSettle };
workerCmd.SetAction(async (p, ct) =>
{
    var ctx = Context(p);
    var md = await WorkerScenario.RunAsync(ctx, new(p.GetValue(wkCalls), p.GetValue(wkPerTurn), TimeSpan.FromSeconds(p.GetValue(wkSettle)), p.GetValue(runsOption)));
    ctx.Write($"worker-{p.GetValue(wkPerTurn)}-per-turn", md);
    return 0;
});
root.Subcommands.Add(workerCmd);

return await root.Parse(args).InvokeAsync();
