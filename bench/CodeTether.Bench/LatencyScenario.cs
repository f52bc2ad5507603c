using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;

namespace CodeTether.Bench;

/// <summary>
/// Submit → <c>task_available</c>: idle workers on one codebase with their streams open; tasks are submitted one at a
/// time and the time from the start of the submit request to the first worker's offer event is measured. The worker
/// that gets the offer first claims and releases the task (completed), so every worker is idle again before the next.
/// </summary>
public static class LatencyScenario
{
    public sealed record Options(DbKind Db, int Workers, int Warmup, int Samples, int Runs, TimeSpan SampleTimeout);

    sealed class Sample(string title)
    {
        public string Title { get; } = title;
        int _taken;
        public readonly TaskCompletionSource<(long At, string Worker)> Offered = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public readonly TaskCompletionSource Done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public double ClaimMs, ReleaseMs;
        public string? Error;
        public bool Take() => Interlocked.Exchange(ref _taken, 1) == 0;
    }

    public sealed record RunResult(Dist Offer, Dist SubmitRtt, Dist Claim, Dist Release, int Timeouts, int Errors,
        double OfferBeforeResponsePct, int WorkersUsed, double Seconds, string Snapshot);

    public static async Task<string> RunAsync(BenchContext ctx, Options o)
    {
        var runs = new List<RunResult>();
        for (var i = 1; i <= o.Runs; i++)
        {
            Console.Error.WriteLine($"latency/{o.Db.ToString().ToLowerInvariant()}: run {i}/{o.Runs}");
            runs.Add(await OneRunAsync(ctx, o, i));
            var r = runs[^1];
            Console.Error.WriteLine($"  offer p50 {Stats.F(r.Offer.P50, 2)} p90 {Stats.F(r.Offer.P90, 2)} p99 {Stats.F(r.Offer.P99, 2)} max {Stats.F(r.Offer.Max, 2)} ms; timeouts {r.Timeouts}");
        }
        return Report(o, runs);
    }

    static async Task<RunResult> OneRunAsync(BenchContext ctx, Options o, int run)
    {
        var db = o.Db.ToString().ToLowerInvariant();
        await using var host = await BenchHost.StartAsync(ctx, o.Db, $"latency-{db}-{run}");
        using var admin = host.Client();
        var codebase = await Api.CreateCodebaseAsync(admin, "latency");

        var pending = new ConcurrentDictionary<string, Sample>();
        var workers = new List<StreamWorker>();
        try
        {
            for (var w = 0; w < o.Workers; w++)
            {
                var worker = new StreamWorker(host, $"bench-lat-{w:D2}");
                await Api.RegisterWorkerAsync(admin, worker.Id, codebase);
                worker.OnOffer = (sw, task, at) =>
                {
                    if (!pending.TryGetValue(task.Title, out var s) || !s.Take()) return;
                    s.Offered.TrySetResult((at, sw.Id));
                    _ = ClaimAndReleaseAsync(sw, task.Id, s);
                };
                await worker.ConnectAsync(TimeSpan.FromSeconds(15));
                workers.Add(worker);
            }
            await Task.Delay(500); // let the connect-time offers (nothing to offer) settle

            using var submitter = host.Client();
            var snapshot = BenchContext.MachineSnapshot();
            var offer = new List<double>();
            var rtt = new List<double>();
            var claim = new List<double>();
            var release = new List<double>();
            var usedWorkers = new HashSet<string>();
            int timeouts = 0, errors = 0, offerFirst = 0;
            var wall = Stopwatch.StartNew();
            for (var i = 0; i < o.Warmup + o.Samples; i++)
            {
                var measured = i >= o.Warmup;
                var s = new Sample($"lat-{run}-{i:D5}");
                pending[s.Title] = s;
                var start = Stopwatch.GetTimestamp();
                using (var res = await Api.TriggerAsync(submitter, codebase, s.Title))
                {
                    var responded = Stopwatch.GetTimestamp();
                    await Api.EnsureAsync(res, "trigger");
                    if (measured)
                    {
                        rtt.Add(Stats.Ms(responded - start));
                        if (s.Offered.Task.IsCompleted) offerFirst++;
                    }
                }
                try
                {
                    var (at, worker) = await s.Offered.Task.WaitAsync(o.SampleTimeout);
                    await s.Done.Task.WaitAsync(o.SampleTimeout);
                    if (!measured) continue;
                    offer.Add(Stats.Ms(at - start));
                    usedWorkers.Add(worker);
                    if (s.Error is not null) { errors++; Console.Error.WriteLine($"  {s.Title}: {s.Error}"); }
                    else { claim.Add(s.ClaimMs); release.Add(s.ReleaseMs); }
                }
                catch (TimeoutException)
                {
                    if (measured) timeouts++;
                    Console.Error.WriteLine($"  {s.Title}: no offer/completion within {o.SampleTimeout.TotalSeconds} s");
                }
                finally { pending.TryRemove(s.Title, out _); }
            }
            wall.Stop();
            return new RunResult(Dist.Of(offer), Dist.Of(rtt), Dist.Of(claim), Dist.Of(release), timeouts, errors,
                o.Samples == 0 ? 0 : 100.0 * offerFirst / o.Samples, usedWorkers.Count, wall.Elapsed.TotalSeconds, snapshot);
        }
        finally
        {
            foreach (var w in workers) await w.DisposeAsync();
        }
    }

    static async Task ClaimAndReleaseAsync(StreamWorker w, string taskId, Sample s)
    {
        try
        {
            var t0 = Stopwatch.GetTimestamp();
            using (var c = await Api.ClaimAsync(w.Http, taskId, w.Id)) await Api.EnsureAsync(c, "claim");
            var t1 = Stopwatch.GetTimestamp();
            using (var r = await Api.ReleaseAsync(w.Http, taskId, w.Id)) await Api.EnsureAsync(r, "release");
            var t2 = Stopwatch.GetTimestamp();
            s.ClaimMs = Stats.Ms(t1 - t0);
            s.ReleaseMs = Stats.Ms(t2 - t1);
        }
        catch (Exception ex) { s.Error = ex.Message; }
        finally { s.Done.TrySetResult(); }
    }

    static string Report(Options o, List<RunResult> runs)
    {
        var db = o.Db.ToString().ToLowerInvariant();
        var sb = new StringBuilder();
        sb.AppendLine($"## latency · {db}");
        sb.AppendLine();
        sb.AppendLine($"{BenchContext.MachineHeader()}");
        sb.AppendLine();
        sb.AppendLine($"{o.Workers} idle workers on one codebase, streams open; warm-up {o.Warmup}, then {o.Samples} tasks submitted one at a time; " +
                      $"{runs.Count} runs, each on a fresh host and {(o.Db == DbKind.Sqlite ? "SQLite file" : "PostgreSQL database")}.");
        sb.AppendLine();
        sb.AppendLine("**submit → first `task_available`** (median of runs per column):");
        sb.AppendLine();
        sb.AppendLine("| p50 ms | p90 ms | p99 ms | max ms | timeouts | target |");
        sb.AppendLine("|---:|---:|---:|---:|---:|---|");
        var p50 = Stats.Median(runs.Select(r => r.Offer.P50));
        var p99 = Stats.Median(runs.Select(r => r.Offer.P99));
        sb.AppendLine($"| {Stats.F(p50, 2)} | {Stats.F(Stats.Median(runs.Select(r => r.Offer.P90)), 2)} | {Stats.F(p99, 2)} | " +
                      $"{Stats.F(Stats.Median(runs.Select(r => r.Offer.Max)), 2)} | {runs.Sum(r => r.Timeouts)} | " +
                      $"p50 ≤ 20 ms {(p50 <= 20 ? "✅" : "❌")}, p99 ≤ 100 ms {(p99 <= 100 ? "✅" : "❌")} |");
        sb.AppendLine();
        sb.AppendLine("Per run:");
        sb.AppendLine();
        sb.AppendLine(Dist.Header);
        for (var i = 0; i < runs.Count; i++)
        {
            var r = runs[i];
            sb.AppendLine(r.Offer.Row($"run {i + 1}: submit → task_available"));
            sb.AppendLine(r.SubmitRtt.Row($"run {i + 1}: submit → 202 response"));
            sb.AppendLine(r.Claim.Row($"run {i + 1}: claim round trip"));
            sb.AppendLine(r.Release.Row($"run {i + 1}: release round trip"));
        }
        sb.AppendLine();
        for (var i = 0; i < runs.Count; i++)
        {
            var r = runs[i];
            sb.AppendLine($"- run {i + 1}: {Stats.F(r.Seconds)} s wall, offer arrived before the 202 in {Stats.F(r.OfferBeforeResponsePct)} % of samples, " +
                          $"{r.WorkersUsed} distinct workers got first offers, {r.Timeouts} timeouts, {r.Errors} claim/release errors; " +
                          $"machine: {r.Snapshot}");
        }
        return sb.ToString();
    }
}
