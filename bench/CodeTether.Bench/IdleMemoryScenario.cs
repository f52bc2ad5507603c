using System.Text;

namespace CodeTether.Bench;

/// <summary>RSS of an idle host after it settles, with 0 and then with N connected idle workers.</summary>
public static class IdleMemoryScenario
{
    public sealed record Options(DbKind Db, int Workers, TimeSpan Settle, int Runs, IReadOnlyList<string> GcModes);

    sealed record Row(string Gc, int Run, ProcStatus Idle, ProcStatus WithWorkers, string Snapshot);

    public static async Task<string> RunAsync(BenchContext ctx, Options o)
    {
        var rows = new List<Row>();
        var db = o.Db.ToString().ToLowerInvariant();
        foreach (var gc in o.GcModes)
        {
            for (var run = 1; run <= o.Runs; run++)
            {
                Console.Error.WriteLine($"idle-memory/{db}: gc {gc}, run {run}/{o.Runs}");
                var env = gc == "workstation" ? new Dictionary<string, string> { ["DOTNET_gcServer"] = "0" } : null;
                await using var host = await BenchHost.StartAsync(ctx, o.Db, $"idle-memory-{db}-{gc}-{run}", env);
                var snapshot = BenchContext.MachineSnapshot();
                await Task.Delay(o.Settle);
                var idle = host.ReadStatus();

                using var admin = host.Client();
                var codebase = await Api.CreateCodebaseAsync(admin, "idle");
                var workers = new List<StreamWorker>();
                try
                {
                    for (var w = 0; w < o.Workers; w++)
                    {
                        var worker = new StreamWorker(host, $"bench-idle-{w:D2}");
                        await Api.RegisterWorkerAsync(admin, worker.Id, codebase);
                        await worker.ConnectAsync(TimeSpan.FromSeconds(15));
                        workers.Add(worker);
                    }
                    await Task.Delay(o.Settle);
                    var busy = host.ReadStatus();
                    rows.Add(new Row(gc, run, idle, busy, snapshot));
                    Console.Error.WriteLine($"  RSS idle {idle.RssKb / 1024.0:F1} MiB, with {o.Workers} workers {busy.RssKb / 1024.0:F1} MiB");
                }
                finally
                {
                    foreach (var w in workers) await w.DisposeAsync();
                }
            }
        }

        var sb = new StringBuilder();
        sb.AppendLine($"## idle-memory · {db}");
        sb.AppendLine();
        sb.AppendLine(BenchContext.MachineHeader());
        sb.AppendLine();
        sb.AppendLine($"Host started, settled {o.Settle.TotalSeconds:F0} s, then VmRSS read from /proc/<pid>/status; then {o.Workers} idle workers " +
                      $"registered with their streams open, settled {o.Settle.TotalSeconds:F0} s, read again. `default` GC = the host's " +
                      "runtimeconfig (Server GC, as for every Web SDK app); `workstation` = same host with `DOTNET_gcServer=0`. " +
                      "Managed heap size is not reported: no dotnet-counters/diagnostics client on this machine.");
        sb.AppendLine();
        sb.AppendLine($"| GC | RSS idle MiB (median) | RSS with {o.Workers} workers MiB (median) | per-run idle / with workers MiB | threads idle / with workers | peak RSS MiB |");
        sb.AppendLine("|---|---:|---:|---|---|---:|");
        foreach (var g in rows.GroupBy(r => r.Gc))
        {
            sb.AppendLine($"| {g.Key} | {Mib(Stats.Median(g.Select(r => (double)r.Idle.RssKb)))} | {Mib(Stats.Median(g.Select(r => (double)r.WithWorkers.RssKb)))} | " +
                          $"{string.Join("; ", g.Select(r => $"{Mib(r.Idle.RssKb)} / {Mib(r.WithWorkers.RssKb)}"))} | " +
                          $"{string.Join("; ", g.Select(r => $"{r.Idle.Threads} / {r.WithWorkers.Threads}"))} | " +
                          $"{Mib(g.Max(r => r.WithWorkers.HwmKb))} |");
        }
        sb.AppendLine();
        foreach (var r in rows) sb.AppendLine($"- {r.Gc} run {r.Run} machine: {r.Snapshot}");
        return sb.ToString();
    }

    static string Mib(double kb) => Stats.F(kb / 1024.0);
}
