using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace CodeTether.Bench;

/// <summary>Where things are, and what the machine looked like while a scenario ran.</summary>
public sealed class BenchContext(string hostDll, string resultsDir, IReadOnlyDictionary<string, string>? hostEnv = null,
    IReadOnlyDictionary<string, string>? pgSettings = null)
{
    public IReadOnlyDictionary<string, string> PgSettings { get; } = pgSettings ?? new Dictionary<string, string>();
    public IReadOnlyDictionary<string, string> HostEnv { get; } = hostEnv ?? new Dictionary<string, string>();
    public string HostDll { get; } = hostDll;
    public string ResultsDir { get; } = resultsDir;

    /// <summary>The repository root: the first parent folder holding CodeTether.sln.</summary>
    public static string? FindRepoRoot()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var d = new DirectoryInfo(start); d is not null; d = d.Parent)
                if (File.Exists(Path.Combine(d.FullName, "CodeTether.sln"))) return d.FullName;
        }
        return null;
    }

    /// <summary>Load average and the busiest processes right now: "what else was running".</summary>
    public static string MachineSnapshot()
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"loadavg `{File.ReadAllText("/proc/loadavg").Trim()}`");
        try
        {
            var psi = new ProcessStartInfo("ps", "-eo pcpu,rss,comm --sort=-pcpu --no-headers") { RedirectStandardOutput = true };
            using var p = Process.Start(psi)!;
            var top = p.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(l => l.Trim()).Take(5);
            p.WaitForExit();
            sb.Append("; top CPU: ").Append(string.Join(", ", top.Select(t => $"`{System.Text.RegularExpressions.Regex.Replace(t, @"\s+", " ")}`")));
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException) { }
        return sb.ToString();
    }

    public static string MachineHeader()
    {
        var mem = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal:")).Split(':')[1].Trim();
        var cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name"))?.Split(':', 2)[1].Trim() ?? "?";
        return $"{DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC · {Environment.ProcessorCount} cores ({cpu}) · MemTotal {mem} · " +
               $".NET {Environment.Version} · {System.Runtime.InteropServices.RuntimeInformation.OSDescription}";
    }

    /// <summary>Writes the markdown to stdout and to results/&lt;name&gt;.md.</summary>
    public void Write(string name, string markdown)
    {
        Console.WriteLine(markdown);
        Directory.CreateDirectory(ResultsDir);
        var path = Path.Combine(ResultsDir, name + ".md");
        File.WriteAllText(path, markdown);
        Console.WriteLine($"(written to {path})");
    }
}

public static class Stats
{
    /// <summary>Nearest-rank percentile of an already sorted array.</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double p)
    {
        if (sorted.Count == 0) return double.NaN;
        var rank = (int)Math.Ceiling(p / 100.0 * sorted.Count);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Count - 1)];
    }

    public static double Median(IEnumerable<double> values)
    {
        var s = values.Order().ToArray();
        if (s.Length == 0) return double.NaN;
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }

    public static double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;

    public static string F(double v, int digits = 1) =>
        double.IsNaN(v) ? "–" : v.ToString("F" + digits, CultureInfo.InvariantCulture);

    public static string N(double v) => v.ToString("N0", CultureInfo.InvariantCulture);
}

/// <summary>Latency summary of one series (ms).</summary>
public sealed record Dist(int Count, double P50, double P90, double P99, double Max, double Mean)
{
    public static Dist Of(IEnumerable<double> ms)
    {
        var s = ms.Order().ToArray();
        return new Dist(s.Length, Stats.Percentile(s, 50), Stats.Percentile(s, 90), Stats.Percentile(s, 99),
            s.Length == 0 ? double.NaN : s[^1], s.Length == 0 ? double.NaN : s.Average());
    }

    public string Row(string label) =>
        $"| {label} | {Count} | {Stats.F(P50, 2)} | {Stats.F(P90, 2)} | {Stats.F(P99, 2)} | {Stats.F(Max, 2)} | {Stats.F(Mean, 2)} |";

    public const string Header = "| series | n | p50 ms | p90 ms | p99 ms | max ms | mean ms |\n|---|---:|---:|---:|---:|---:|---:|";
}
