using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using CodeTether.Shared.Contracts;

namespace CodeTether.Bench;

/// <summary>
/// Competing claims: M tasks wait in <c>submitted</c> (no worker connected while they are created); then W worker
/// loops, each with its own HttpClient, list <c>?status=pending&amp;limit=50</c>, shuffle, and try to claim every listed
/// task, releasing what they win. Measures successful claims per second and 409s; checks that every task was won
/// exactly once, from the driver's tallies and from every task's timeline.
/// </summary>
public static class ClaimsScenario
{
    public sealed record Options(DbKind Db, int Tasks, int Workers, int Runs, int Page, int VerifySample);

    public sealed record RunResult(
        double CreatePerSec, double Seconds, long Wins, long Conflicts, long OtherErrors, long ReleaseErrors, long Lists,
        double ClaimsPerSec, double AttemptsPerSec, Dist WinRtt, Dist ConflictRtt, Dist ListRtt, Dist ReleaseRtt,
        double PerSecMin, double PerSecMedian, double PerSecMax,
        int Unclaimed, int DoubleClaims, int Verified, int TimelineMismatches, string Snapshot,
        double HostCpuMsPerWin, double PgCpuMsPerWin, double DriverCpuMsPerWin);

    public static async Task<string> RunAsync(BenchContext ctx, Options o)
    {
        var runs = new List<RunResult>();
        for (var i = 1; i <= o.Runs; i++)
        {
            Console.Error.WriteLine($"claims/{o.Db.ToString().ToLowerInvariant()}: run {i}/{o.Runs}");
            var r = await OneRunAsync(ctx, o, i);
            runs.Add(r);
            Console.Error.WriteLine($"  {Stats.F(r.ClaimsPerSec)} claims/s, CPU ms/claim host {Stats.F(r.HostCpuMsPerWin, 2)} pg {Stats.F(r.PgCpuMsPerWin, 2)} driver {Stats.F(r.DriverCpuMsPerWin, 2)}, {r.Conflicts} 409s, double claims {r.DoubleClaims}, unclaimed {r.Unclaimed}, timeline mismatches {r.TimelineMismatches}");
        }
        return Report(o, runs);
    }

    static async Task<RunResult> OneRunAsync(BenchContext ctx, Options o, int run)
    {
        var db = o.Db.ToString().ToLowerInvariant();
        await using var host = await BenchHost.StartAsync(ctx, o.Db, $"claims-{db}-{run}");
        using var admin = host.Client();
        var codebase = await Api.CreateCodebaseAsync(admin, "claims");

        // 1. M tasks, nobody registered: they wait in `submitted`.
        var ids = new ConcurrentBag<string>();
        var create = Stopwatch.StartNew();
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
        {
            using var http = host.Client();
            int i;
            while ((i = Interlocked.Increment(ref next)) < o.Tasks)
            {
                using var r = await Api.TriggerAsync(http, codebase, $"claim-{i:D6}");
                await Api.EnsureAsync(r, "trigger");
                var t = (await r.Content.ReadFromJsonAsync<TaskDto>(Api.Json))!;
                if (t.Status != TaskStatuses.Submitted) throw new InvalidOperationException($"task {t.Id} is {t.Status}, expected submitted");
                ids.Add(t.Id);
            }
        }));
        create.Stop();
        var createPerSec = o.Tasks / create.Elapsed.TotalSeconds;

        // 2. Workers registered (no streams), then the competing loops.
        var workerIds = Enumerable.Range(0, o.Workers).Select(w => $"bench-claim-{w:D2}").ToArray();
        foreach (var w in workerIds) await Api.RegisterWorkerAsync(admin, w, codebase);

        var winners = new ConcurrentDictionary<string, ConcurrentBag<string>>();
        long wins = 0, conflicts = 0, other = 0, releaseErrors = 0, lists = 0;
        var perSecond = new ConcurrentDictionary<long, int>();
        var winRtt = new ConcurrentBag<double>();
        var conflictRtt = new ConcurrentBag<double>();
        var listRtt = new ConcurrentBag<double>();
        var releaseRtt = new ConcurrentBag<double>();
        var snapshot = BenchContext.MachineSnapshot();
        var clients = workerIds.Select(w => host.Client(w)).ToArray();
        // Open each client's connection before the clock starts.
        foreach (var c in clients) using (await c.GetAsync("/v1/health")) { }

        var cpuHost0 = CpuTime.OfPid(host.Pid);
        var cpuPg0 = CpuTime.OfPostgres();
        var cpuMe0 = CpuTime.OfPid(Environment.ProcessId);
        var sw = Stopwatch.StartNew();
        await Task.WhenAll(workerIds.Select((workerId, wi) => Task.Run(async () =>
        {
            var http = clients[wi];
            var rng = new Random(wi * 7919 + run);
            var emptyInARow = 0;
            while (true)
            {
                var l0 = Stopwatch.GetTimestamp();
                var page = await http.GetFromJsonAsync<TaskPage>(
                    $"/v1/agent/tasks?status=pending&codebase_id={codebase}&limit={o.Page}", Api.Json);
                listRtt.Add(Stats.Ms(Stopwatch.GetTimestamp() - l0));
                Interlocked.Increment(ref lists);
                var tasks = page!.Tasks.Select(t => t.Id).ToArray();
                if (tasks.Length == 0)
                {
                    if (++emptyInARow >= 2) break; // twice empty: every task is taken (and released)
                    await Task.Delay(20);
                    continue;
                }
                emptyInARow = 0;
                rng.Shuffle(tasks);
                foreach (var id in tasks)
                {
                    var t0 = Stopwatch.GetTimestamp();
                    using var r = await Api.ClaimAsync(http, id, workerId);
                    var ms = Stats.Ms(Stopwatch.GetTimestamp() - t0);
                    if (r.StatusCode == HttpStatusCode.OK)
                    {
                        winners.GetOrAdd(id, _ => []).Add(workerId);
                        Interlocked.Increment(ref wins);
                        perSecond.AddOrUpdate((long)sw.Elapsed.TotalSeconds, 1, (_, n) => n + 1);
                        winRtt.Add(ms);
                        var r0 = Stopwatch.GetTimestamp();
                        using var rel = await Api.ReleaseAsync(http, id, workerId);
                        releaseRtt.Add(Stats.Ms(Stopwatch.GetTimestamp() - r0));
                        if (!rel.IsSuccessStatusCode)
                        {
                            Interlocked.Increment(ref releaseErrors);
                            Console.Error.WriteLine($"  release {id} by {workerId}: HTTP {(int)rel.StatusCode} {await rel.Content.ReadAsStringAsync()}");
                        }
                    }
                    else if (r.StatusCode == HttpStatusCode.Conflict)
                    {
                        Interlocked.Increment(ref conflicts);
                        conflictRtt.Add(ms);
                    }
                    else
                    {
                        Interlocked.Increment(ref other);
                        Console.Error.WriteLine($"  claim {id} by {workerId}: HTTP {(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}");
                    }
                }
            }
        })));
        sw.Stop();
        var cpuHost = CpuTime.OfPid(host.Pid) - cpuHost0;
        var cpuPg = CpuTime.OfPostgres() - cpuPg0;
        var cpuMe = CpuTime.OfPid(Environment.ProcessId) - cpuMe0;
        foreach (var c in clients) c.Dispose();
        var seconds = sw.Elapsed.TotalSeconds;

        // 3. Verification: driver tallies, then every task's timeline (or a sample).
        var all = ids.ToArray();
        var unclaimed = all.Count(id => !winners.ContainsKey(id));
        var doubles = winners.Count(kv => kv.Value.Count != 1);
        var toVerify = o.VerifySample <= 0 || o.VerifySample >= all.Length ? all : new Random(run).GetItems(all, o.VerifySample).Distinct().ToArray();
        var mismatches = 0;
        var vi = -1;
        await Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
        {
            using var http = host.Client();
            int i;
            while ((i = Interlocked.Increment(ref vi)) < toVerify.Length)
            {
                var id = toVerify[i];
                var d = (await http.GetFromJsonAsync<TaskDetailDto>($"/v1/agent/tasks/{id}", Api.Json))!;
                var claims = d.Timeline.Where(e => e.Status == TaskStatuses.Claimed).ToList();
                var winner = winners.TryGetValue(id, out var b) && b.Count == 1 ? b.First() : null;
                if (claims.Count != 1 || d.Task.Status != TaskStatuses.Completed || winner is null ||
                    claims[0].WorkerId != winner || d.Task.WorkerId != winner)
                {
                    if (Interlocked.Increment(ref mismatches) <= 10)
                        Console.Error.WriteLine($"  timeline of {id}: status {d.Task.Status}, {claims.Count} claim events by " +
                                                $"[{string.Join(",", claims.Select(c => c.WorkerId))}], driver winner {winner ?? "(none/several)"}");
                }
            }
        }));

        var buckets = perSecond.Where(kv => kv.Key < (long)seconds).Select(kv => (double)kv.Value).ToList(); // whole seconds only
        return new RunResult(createPerSec, seconds, wins, conflicts, other, releaseErrors, lists,
            wins / seconds, (wins + conflicts + other) / seconds,
            Dist.Of(winRtt), Dist.Of(conflictRtt), Dist.Of(listRtt), Dist.Of(releaseRtt),
            buckets.Count == 0 ? double.NaN : buckets.Min(), Stats.Median(buckets), buckets.Count == 0 ? double.NaN : buckets.Max(),
            unclaimed, doubles, toVerify.Length, mismatches, snapshot,
            cpuHost / wins, o.Db == DbKind.Postgres ? cpuPg / wins : double.NaN, cpuMe / wins);
    }

    static string Report(Options o, List<RunResult> runs)
    {
        var db = o.Db.ToString().ToLowerInvariant();
        var sb = new StringBuilder();
        sb.AppendLine($"## claims · {db}");
        sb.AppendLine();
        sb.AppendLine(BenchContext.MachineHeader());
        sb.AppendLine();
        sb.AppendLine($"{o.Tasks} tasks waiting in `submitted`, {o.Workers} competing worker loops (own HttpClient each, HTTP/1.1 keep-alive): " +
                      $"list `?status=pending&limit={o.Page}`, shuffle, claim each, release (completed) what they win. {runs.Count} runs, fresh host and database each.");
        sb.AppendLine();
        var cps = Stats.Median(runs.Select(r => r.ClaimsPerSec));
        var dbl = runs.Sum(r => r.DoubleClaims + r.TimelineMismatches + r.Unclaimed);
        sb.AppendLine("| successful claims/s (median of runs) | claim attempts/s | 409s per run | double claims | unclaimed | timeline mismatches | target |");
        sb.AppendLine("|---:|---:|---:|---:|---:|---:|---|");
        sb.AppendLine($"| {Stats.F(cps)} | {Stats.F(Stats.Median(runs.Select(r => r.AttemptsPerSec)))} | {Stats.N(Stats.Median(runs.Select(r => (double)r.Conflicts)))} | " +
                      $"{runs.Sum(r => r.DoubleClaims)} | {runs.Sum(r => r.Unclaimed)} | {runs.Sum(r => r.TimelineMismatches)} | " +
                      $"≥ 1,000/s {(cps >= 1000 ? "✅" : "❌")}, zero double claims {(dbl == 0 ? "✅" : "❌")} |");
        sb.AppendLine();
        sb.AppendLine("Per run:");
        sb.AppendLine();
        sb.AppendLine("| run | create tasks/s | claim phase s | wins | 409s | other errors | release errors | list calls | wins/s | attempts/s | wins/s per second: min / median / max | verified timelines |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|");
        for (var i = 0; i < runs.Count; i++)
        {
            var r = runs[i];
            sb.AppendLine($"| {i + 1} | {Stats.F(r.CreatePerSec)} | {Stats.F(r.Seconds, 2)} | {r.Wins} | {r.Conflicts} | {r.OtherErrors} | {r.ReleaseErrors} | {r.Lists} | " +
                          $"{Stats.F(r.ClaimsPerSec)} | {Stats.F(r.AttemptsPerSec)} | {Stats.F(r.PerSecMin, 0)} / {Stats.F(r.PerSecMedian, 0)} / {Stats.F(r.PerSecMax, 0)} | {r.Verified} |");
        }
        sb.AppendLine();
        sb.AppendLine(Dist.Header);
        for (var i = 0; i < runs.Count; i++)
        {
            var r = runs[i];
            sb.AppendLine(r.WinRtt.Row($"run {i + 1}: claim → 200"));
            sb.AppendLine(r.ConflictRtt.Row($"run {i + 1}: claim → 409"));
            sb.AppendLine(r.ReleaseRtt.Row($"run {i + 1}: release"));
            sb.AppendLine(r.ListRtt.Row($"run {i + 1}: list pending"));
        }
        sb.AppendLine();
        sb.AppendLine("CPU time spent during the claim phase, per successful claim (includes its share of 409s, lists and the release; " +
                      "independent of how busy the machine was, unlike claims/s):");
        sb.AppendLine();
        sb.AppendLine("| run | host CPU ms/claim | PostgreSQL CPU ms/claim (all postgres processes) | driver CPU ms/claim | ceiling on 2 cores, claims/s |");
        sb.AppendLine("|---|---:|---:|---:|---:|");
        for (var i = 0; i < runs.Count; i++)
        {
            var r = runs[i];
            var total = r.HostCpuMsPerWin + (double.IsNaN(r.PgCpuMsPerWin) ? 0 : r.PgCpuMsPerWin) + r.DriverCpuMsPerWin;
            sb.AppendLine($"| {i + 1} | {Stats.F(r.HostCpuMsPerWin, 2)} | {Stats.F(r.PgCpuMsPerWin, 2)} | {Stats.F(r.DriverCpuMsPerWin, 2)} | {Stats.F(2000 / total, 0)} |");
        }
        sb.AppendLine();
        for (var i = 0; i < runs.Count; i++) sb.AppendLine($"- run {i + 1} machine: {runs[i].Snapshot}");
        return sb.ToString();
    }
}
