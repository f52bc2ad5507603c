using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.ServerSentEvents;
using System.Text;
using System.Text.Json;

namespace CodeTether.Bench;

/// <summary>
/// A2A v0.3 over JSON-RPC, side by side: the host (SQLite and/or PostgreSQL) and the <c>@a2a-js/sdk</c> 0.3.14
/// reference server with its in-memory sample agent (<see cref="ReferenceServer"/>), driven by the same load generator.
/// 1. <c>message/send</c> with <c>configuration.blocking=false</c>: C closed-loop clients (own HttpClient each, HTTP/1.1
///    keep-alive) for a fixed duration: requests/s and latency (request sent → whole response read).
/// 2. <c>message/stream</c>: time from sending the request to the first SSE event yielded by <see cref="SseParser"/>;
///    the response is then dropped (connection closed, no drain) — the same for both servers.
/// </summary>
public static class A2aScenario
{
    public sealed record Options(IReadOnlyList<DbKind> Dbs, bool Reference, int Clients, TimeSpan Warmup, TimeSpan Duration,
        int StreamClients, int Streams, int StreamWarmup, int Runs);

    public sealed record Target(string Label, DbKind? Db)
    {
        public string Name => Db switch { DbKind.Sqlite => "CodeTether · SQLite", DbKind.Postgres => "CodeTether · PostgreSQL", _ => "@a2a-js/sdk 0.3.14 reference" };
    }

    public sealed record RunResult(Target Target, int Run, long Sends, double Seconds, long SendErrors, Dist Send,
        IReadOnlyDictionary<string, long> States, Dist StreamFirst, Dist StreamHeaders, long StreamErrors,
        double ServerCpuMsPerSend, double PgCpuMsPerSend, double DriverCpuMsPerSend, long RssKb, string SnapshotBefore, string LoadAfter)
    {
        public double SendsPerSec => Sends / Seconds;
    }

    public static async Task<string> RunAsync(BenchContext ctx, Options o)
    {
        var targets = o.Dbs.Select(d => new Target(d.ToString().ToLowerInvariant(), d)).ToList();
        if (o.Reference) targets.Add(new Target("a2a-js", null));
        var results = new List<RunResult>();
        for (var run = 1; run <= o.Runs; run++)
        {
            // Alternate the order so neither server always gets the quieter or the busier minute.
            var order = run % 2 == 1 ? targets : Enumerable.Reverse(targets).ToList();
            foreach (var t in order)
            {
                Console.Error.WriteLine($"a2a/{t.Label}: run {run}/{o.Runs}");
                var r = await OneRunAsync(ctx, o, t, run);
                results.Add(r);
                Console.Error.WriteLine($"  send: {Stats.F(r.SendsPerSec)} req/s, p50 {Stats.F(r.Send.P50, 2)} ms, p99 {Stats.F(r.Send.P99, 2)} ms, " +
                                        $"{r.SendErrors} errors; stream first event p50 {Stats.F(r.StreamFirst.P50, 2)} ms, p99 {Stats.F(r.StreamFirst.P99, 2)} ms, " +
                                        $"{r.StreamErrors} errors; server CPU {Stats.F(r.ServerCpuMsPerSend, 2)} ms/send; {r.LoadAfter}");
            }
        }
        return Report(ctx, o, targets, results);
    }

    static async Task<RunResult> OneRunAsync(BenchContext ctx, Options o, Target t, int run)
    {
        BenchHost? host = null;
        ReferenceServer? reference = null;
        if (t.Db is { } db) host = await BenchHost.StartAsync(ctx, db, $"a2a-{t.Label}-{run}");
        else reference = await ReferenceServer.StartAsync(ctx, $"a2a-{t.Label}-{run}");
        try
        {
            var baseAddress = host?.BaseAddress ?? reference!.BaseAddress;
            var pid = host?.Pid ?? reference!.Pid;

            // Warm-up (JIT, pools, connections), not measured.
            await SendPhaseAsync(baseAddress, o.Clients, o.Warmup);
            await StreamPhaseAsync(baseAddress, o.StreamClients, o.StreamWarmup);

            var snapshot = BenchContext.MachineSnapshot();
            var cpuServer0 = CpuTime.OfPid(pid);
            var cpuPg0 = CpuTime.OfPostgres();
            var cpuMe0 = CpuTime.OfPid(Environment.ProcessId);
            var send = await SendPhaseAsync(baseAddress, o.Clients, o.Duration);
            var cpuServer = CpuTime.OfPid(pid) - cpuServer0;
            var cpuPg = CpuTime.OfPostgres() - cpuPg0;
            var cpuMe = CpuTime.OfPid(Environment.ProcessId) - cpuMe0;
            var rss = ProcStatus.Read(pid).RssKb;
            // cpuPg is machine-wide (all postgres processes): negative when other sessions' backends exited meanwhile.

            var stream = await StreamPhaseAsync(baseAddress, o.StreamClients, o.Streams);
            var loadAfter = $"loadavg after `{File.ReadAllText("/proc/loadavg").Trim()}`";
            var n = Math.Max(1, send.Ok);
            return new RunResult(t, run, send.Ok, send.Seconds, send.Errors, Dist.Of(send.Latencies), send.States,
                Dist.Of(stream.FirstEvent), Dist.Of(stream.Headers), stream.Errors,
                cpuServer / n, t.Db == DbKind.Postgres && cpuPg >= 0 ? cpuPg / n : double.NaN, cpuMe / n, rss, snapshot, loadAfter);
        }
        finally
        {
            if (host is not null) await host.DisposeAsync();
            if (reference is not null) await reference.DisposeAsync();
        }
    }

    static HttpClient Client(Uri baseAddress, bool drain)
    {
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            AutomaticDecompression = DecompressionMethods.None,
            UseProxy = false,
        };
        // Streams are dropped after their first event: close the connection instead of draining it (the host's stream
        // stays open until the task ends, the reference's ends at once; draining would treat them differently).
        if (!drain) handler.MaxResponseDrainSize = 0;
        var http = new HttpClient(handler) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", BenchHost.Token);
        return http;
    }

    static long _ids;

    static StringContent Body(string method, bool blocking)
    {
        var id = Interlocked.Increment(ref _ids);
        var json = "{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"method\":\"" + method + "\",\"params\":{\"message\":{\"kind\":\"message\",\"role\":\"user\"," +
                   "\"messageId\":\"" + Guid.NewGuid().ToString() + "\",\"parts\":[{\"kind\":\"text\",\"text\":\"bench: say hello\"}]}" +
                   (blocking ? "" : ",\"configuration\":{\"blocking\":false}") + "}}";
        return new StringContent(json, Encoding.UTF8, "application/json");
    }

    sealed record SendResult(long Ok, long Errors, double Seconds, List<double> Latencies, Dictionary<string, long> States);

    /// <summary>C closed-loop clients sending non-blocking <c>message/send</c> until the duration is up.</summary>
    static async Task<SendResult> SendPhaseAsync(Uri baseAddress, int clients, TimeSpan duration)
    {
        var https = Enumerable.Range(0, clients).Select(_ => Client(baseAddress, drain: true)).ToArray();
        try
        {
            long errors = 0;
            var printed = 0;
            var sw = Stopwatch.StartNew();
            var deadline = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
            var perClient = await Task.WhenAll(https.Select(http => Task.Run(async () =>
            {
                var lat = new List<double>(4096);
                var states = new Dictionary<string, long>();
                while (Stopwatch.GetTimestamp() < deadline)
                {
                    using var content = Body("message/send", blocking: false);
                    var t0 = Stopwatch.GetTimestamp();
                    string? state = null, error = null;
                    try
                    {
                        using var r = await http.PostAsync("/a2a/jsonrpc", content);
                        var bytes = await r.Content.ReadAsByteArrayAsync();
                        var t1 = Stopwatch.GetTimestamp();
                        if (r.StatusCode != HttpStatusCode.OK) error = $"HTTP {(int)r.StatusCode} {Encoding.UTF8.GetString(bytes)}";
                        else
                        {
                            using var doc = JsonDocument.Parse(bytes);
                            if (doc.RootElement.TryGetProperty("result", out var res) && res.TryGetProperty("kind", out var kind) &&
                                kind.GetString() == "task" && res.TryGetProperty("status", out var st))
                            {
                                state = st.GetProperty("state").GetString() ?? "?";
                                lat.Add(Stats.Ms(t1 - t0));
                            }
                            else error = Encoding.UTF8.GetString(bytes);
                        }
                    }
                    catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException) { error = ex.Message; }
                    if (state is not null) states[state] = states.GetValueOrDefault(state) + 1;
                    if (error is not null)
                    {
                        Interlocked.Increment(ref errors);
                        if (Interlocked.Increment(ref printed) <= 5) Console.Error.WriteLine($"  message/send: {error}");
                    }
                }
                return (lat, states);
            })));
            sw.Stop();
            var all = perClient.SelectMany(p => p.lat).ToList();
            var merged = perClient.SelectMany(p => p.states).GroupBy(kv => kv.Key).ToDictionary(g => g.Key, g => g.Sum(kv => kv.Value));
            return new SendResult(all.Count, errors, sw.Elapsed.TotalSeconds, all, merged);
        }
        finally
        {
            foreach (var h in https) h.Dispose();
        }
    }

    sealed record StreamResult(List<double> FirstEvent, List<double> Headers, long Errors);

    /// <summary><paramref name="count"/> <c>message/stream</c> calls over C concurrent clients: time to headers, to the first event.</summary>
    static async Task<StreamResult> StreamPhaseAsync(Uri baseAddress, int clients, int count)
    {
        var https = Enumerable.Range(0, clients).Select(_ => Client(baseAddress, drain: false)).ToArray();
        try
        {
            var next = -1;
            long errors = 0;
            var printed = 0;
            var perClient = await Task.WhenAll(https.Select(http => Task.Run(async () =>
            {
                var first = new List<double>();
                var headers = new List<double>();
                while (Interlocked.Increment(ref next) < count)
                {
                    string? error = null;
                    using var req = new HttpRequestMessage(HttpMethod.Post, "/a2a/jsonrpc") { Content = Body("message/stream", blocking: true) };
                    req.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
                    var t0 = Stopwatch.GetTimestamp();
                    try
                    {
                        using var r = await http.SendAsync(req, HttpCompletionOption.ResponseHeadersRead);
                        var th = Stopwatch.GetTimestamp();
                        if (r.StatusCode != HttpStatusCode.OK || r.Content.Headers.ContentType?.MediaType != "text/event-stream")
                            error = $"HTTP {(int)r.StatusCode} {r.Content.Headers.ContentType} {await r.Content.ReadAsStringAsync()}";
                        else
                        {
                            await using var body = await r.Content.ReadAsStreamAsync();
                            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                            string? data = null;
                            await foreach (var item in SseParser.Create(body).EnumerateAsync(cts.Token))
                            {
                                data = item.Data;
                                break;
                            }
                            var t1 = Stopwatch.GetTimestamp();
                            if (data is null) error = "stream ended without an event";
                            else
                            {
                                using var doc = JsonDocument.Parse(data);
                                if (doc.RootElement.TryGetProperty("result", out var res) && res.TryGetProperty("kind", out _))
                                {
                                    first.Add(Stats.Ms(t1 - t0));
                                    headers.Add(Stats.Ms(th - t0));
                                }
                                else error = data;
                            }
                        }
                    }
                    catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or JsonException or IOException) { error = ex.Message; }
                    if (error is not null)
                    {
                        Interlocked.Increment(ref errors);
                        if (Interlocked.Increment(ref printed) <= 5) Console.Error.WriteLine($"  message/stream: {error}");
                    }
                }
                return (first, headers);
            })));
            return new StreamResult(perClient.SelectMany(p => p.first).ToList(), perClient.SelectMany(p => p.headers).ToList(), errors);
        }
        finally
        {
            foreach (var h in https) h.Dispose();
        }
    }

    static string Report(BenchContext ctx, Options o, List<Target> targets, List<RunResult> results)
    {
        var sb = new StringBuilder();
        sb.AppendLine("## a2a · CodeTether vs @a2a-js/sdk reference server");
        sb.AppendLine();
        sb.AppendLine(BenchContext.MachineHeader());
        sb.AppendLine();
        sb.AppendLine($"JSON-RPC `POST /a2a/jsonrpc`, bearer token on both. **message/send** (`blocking=false`): {o.Clients} closed-loop clients " +
                      $"(own HttpClient each, HTTP/1.1 keep-alive), {o.Warmup.TotalSeconds:0} s warm-up, then {o.Duration.TotalSeconds:0} s measured. " +
                      $"**message/stream**: {o.Streams} streams over {o.StreamClients} concurrent clients ({o.StreamWarmup} warm-up), time to the first SSE event, " +
                      $"connection dropped after it. {o.Runs} runs, each on a fresh server (and fresh database), order alternating per run. " +
                      $"Reference: {ReferenceServer.Versions(ctx)}.");
        sb.AppendLine();
        sb.AppendLine("Median of runs per column (per-run values in brackets):");
        sb.AppendLine();
        sb.AppendLine("| server | send req/s | send p50 ms | send p99 ms | stream first event p50 ms | stream first event p99 ms | server CPU ms/send | PG CPU ms/send | errors |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        string Med(Target t, Func<RunResult, double> f, int digits = 1)
        {
            var rs = results.Where(r => r.Target == t).ToList();
            return $"**{Stats.F(Stats.Median(rs.Select(f)), digits)}** ({string.Join(", ", rs.Select(r => Stats.F(f(r), digits)))})";
        }
        foreach (var t in targets)
        {
            var rs = results.Where(r => r.Target == t).ToList();
            sb.AppendLine($"| {t.Name} | {Med(t, r => r.SendsPerSec, 0)} | {Med(t, r => r.Send.P50, 2)} | {Med(t, r => r.Send.P99, 2)} | " +
                          $"{Med(t, r => r.StreamFirst.P50, 2)} | {Med(t, r => r.StreamFirst.P99, 2)} | {Med(t, r => r.ServerCpuMsPerSend, 2)} | " +
                          $"{(t.Db == DbKind.Postgres ? Med(t, r => r.PgCpuMsPerSend, 2) : "–")} | {rs.Sum(r => r.SendErrors + r.StreamErrors)} |");
        }
        sb.AppendLine();
        var refT = targets.FirstOrDefault(t => t.Db is null);
        if (refT is not null)
        {
            double M(Target t, Func<RunResult, double> f) => Stats.Median(results.Where(r => r.Target == t).Select(f));
            var refRps = M(refT, r => r.SendsPerSec);
            var refP99 = M(refT, r => r.Send.P99);
            var refStreamP99 = M(refT, r => r.StreamFirst.P99);
            sb.AppendLine("Goal: ≥ 3× the reference server's `message/send` throughput at a lower p99.");
            sb.AppendLine();
            sb.AppendLine("| server | throughput ÷ reference | send p99 vs reference | stream first-event p99 vs reference | goal |");
            sb.AppendLine("|---|---:|---|---|---|");
            foreach (var t in targets.Where(t => t.Db is not null))
            {
                var ratio = M(t, r => r.SendsPerSec) / refRps;
                var p99 = M(t, r => r.Send.P99);
                var sp99 = M(t, r => r.StreamFirst.P99);
                var met = ratio >= 3 && p99 < refP99;
                sb.AppendLine($"| {t.Name} | {Stats.F(ratio, 2)}× | {Stats.F(p99, 1)} vs {Stats.F(refP99, 1)} ms | {Stats.F(sp99, 1)} vs {Stats.F(refStreamP99, 1)} ms | " +
                              $"{(met ? "✅ met" : "❌ missed")} (≥ 3× {(ratio >= 3 ? "✅" : "❌")}, lower p99 {(p99 < refP99 ? "✅" : "❌")}) |");
            }
            sb.AppendLine();
        }
        sb.AppendLine("Per run:");
        sb.AppendLine();
        sb.AppendLine("| server | run | sends | s | req/s | send errors | task states returned | stream errors | driver CPU ms/send | server RSS MiB after sends |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|---|---:|---:|---:|");
        foreach (var r in results)
            sb.AppendLine($"| {r.Target.Name} | {r.Run} | {r.Sends} | {Stats.F(r.Seconds, 1)} | {Stats.F(r.SendsPerSec, 0)} | {r.SendErrors} | " +
                          $"{string.Join(", ", r.States.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key} {kv.Value}"))} | {r.StreamErrors} | " +
                          $"{Stats.F(r.DriverCpuMsPerSend, 2)} | {Stats.F(r.RssKb / 1024.0, 0)} |");
        sb.AppendLine();
        sb.AppendLine(Dist.Header);
        foreach (var r in results)
        {
            sb.AppendLine(r.Send.Row($"{r.Target.Name} run {r.Run}: message/send"));
            sb.AppendLine(r.StreamHeaders.Row($"{r.Target.Name} run {r.Run}: message/stream → headers"));
            sb.AppendLine(r.StreamFirst.Row($"{r.Target.Name} run {r.Run}: message/stream → first event"));
        }
        sb.AppendLine();
        foreach (var r in results) sb.AppendLine($"- {r.Target.Name} run {r.Run}: before: {r.SnapshotBefore}; {r.LoadAfter}");
        return sb.ToString();
    }
}
