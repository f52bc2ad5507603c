using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using Npgsql;

namespace CodeTether.Bench;

public enum DbKind { Sqlite, Postgres }

/// <summary>
/// The real host as a child process (<c>dotnet codetether.dll serve --port P</c>, Release build) on a free loopback
/// port, with a fresh data directory and, for PostgreSQL, a fresh database that is dropped afterwards.
/// </summary>
public sealed class BenchHost : IAsyncDisposable
{
    public const string Token = "benchtoken";
    public const string PgServer = "Host=127.0.0.1;Port=5432;Username=postgres;Password=postgres";

    readonly Process _process;
    readonly string _dataDir;
    readonly string? _pgName;
    readonly StreamWriter _log;

    BenchHost(Process process, Uri baseAddress, string dataDir, string? pgName, StreamWriter log, string logPath)
    {
        _process = process;
        BaseAddress = baseAddress;
        _dataDir = dataDir;
        _pgName = pgName;
        _log = log;
        LogPath = logPath;
    }

    public Uri BaseAddress { get; }
    public int Pid => _process.Id;
    public string LogPath { get; }

    public static async Task<BenchHost> StartAsync(BenchContext ctx, DbKind db, string label,
        IReadOnlyDictionary<string, string>? extraEnv = null)
    {
        var dll = ctx.HostDll;
        if (!File.Exists(dll))
            throw new FileNotFoundException($"Host not built: {dll}. Run `dotnet build -c Release CodeTether.sln` first (or pass --host-dll).");
        var port = FreePort();
        var dataDir = Directory.CreateTempSubdirectory("codetether-bench-").FullName;
        string? pgName = null;
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = dataDir,
        };
        psi.ArgumentList.Add(dll);
        psi.ArgumentList.Add("serve");
        psi.ArgumentList.Add("--port");
        psi.ArgumentList.Add(port.ToString());
        foreach (var k in new[] { "DATABASE_URL", "ASPNETCORE_URLS", "A2A_REDIS_URL", "CODETETHER_ADMIN_TOKEN", "DOTNET_gcServer" })
            psi.Environment.Remove(k);
        psi.Environment["CODETETHER_DATA_DIR"] = dataDir;
        psi.Environment["A2A_AUTH_TOKENS"] = "bench:" + Token;
        psi.Environment["Logging__LogLevel__Default"] = "Warning";
        psi.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        if (db == DbKind.Postgres)
        {
            pgName = "ct_bench_" + Guid.NewGuid().ToString("N")[..12];
            await using (var conn = new NpgsqlConnection(PgServer))
            {
                await conn.OpenAsync();
                await using (var cmd = new NpgsqlCommand($"CREATE DATABASE \"{pgName}\"", conn))
                    await cmd.ExecuteNonQueryAsync();
                foreach (var (k, v) in ctx.PgSettings)
                {
                    if (!System.Text.RegularExpressions.Regex.IsMatch(k, "^[a-z_.]+$") || !System.Text.RegularExpressions.Regex.IsMatch(v, "^[A-Za-z0-9_.]+$"))
                        throw new ArgumentException($"--pg-setting {k}={v}: only plain names and values");
                    await using var set = new NpgsqlCommand($"ALTER DATABASE \"{pgName}\" SET {k} = '{v}'", conn);
                    await set.ExecuteNonQueryAsync();
                }
            }
            psi.Environment["DATABASE_URL"] = $"postgresql://postgres:postgres@127.0.0.1:5432/{pgName}";
        }
        foreach (var (k, v) in ctx.HostEnv.Concat(extraEnv ?? new Dictionary<string, string>())) psi.Environment[k] = v;

        Directory.CreateDirectory(ctx.ResultsDir);
        var logPath = Path.Combine(ctx.ResultsDir, $"host-{label}.log");
        var log = new StreamWriter(logPath, append: false) { AutoFlush = true };
        var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start dotnet");
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine("out: " + e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine("err: " + e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var host = new BenchHost(process, new Uri($"http://127.0.0.1:{port}"), dataDir, pgName, log, logPath);
        try { await host.WaitHealthyAsync(TimeSpan.FromSeconds(60)); }
        catch { await host.DisposeAsync(); throw; }
        return host;
    }

    async Task WaitHealthyAsync(TimeSpan timeout)
    {
        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < timeout)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"host exited with {_process.ExitCode}; see {LogPath}");
            try
            {
                using var r = await http.GetAsync("/v1/health");
                if (r.IsSuccessStatusCode) return;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(100);
        }
        throw new TimeoutException($"host not healthy within {timeout}; see {LogPath}");
    }

    /// <summary>An authenticated client with its own connection pool (HTTP/1.1 keep-alive).</summary>
    public HttpClient Client(string? workerId = null, TimeSpan? timeout = null)
    {
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            AutomaticDecompression = DecompressionMethods.None,
            UseProxy = false,
        };
        var http = new HttpClient(handler) { BaseAddress = BaseAddress, Timeout = timeout ?? TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        if (workerId is not null) http.DefaultRequestHeaders.Add("X-Worker-ID", workerId);
        return http;
    }

    /// <summary>VmRSS, VmHWM (kB) and thread count of the host process.</summary>
    public ProcStatus ReadStatus() => ProcStatus.Read(_process.Id);

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token);
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or OperationCanceledException) { }
        _process.Dispose();
        lock (_log) _log.Dispose();
        try { Directory.Delete(_dataDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        if (_pgName is not null)
        {
            NpgsqlConnection.ClearAllPools();
            await using var conn = new NpgsqlConnection(PgServer);
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{_pgName}\" WITH (FORCE)", conn);
            await cmd.ExecuteNonQueryAsync();
        }
    }

    internal static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }
}

public sealed record ProcStatus(long RssKb, long HwmKb, int Threads)
{
    public static ProcStatus Read(int pid)
    {
        long rss = 0, hwm = 0;
        var threads = 0;
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:")) rss = Kb(line);
            else if (line.StartsWith("VmHWM:")) hwm = Kb(line);
            else if (line.StartsWith("Threads:")) threads = int.Parse(line["Threads:".Length..].Trim());
        }
        return new ProcStatus(rss, hwm, threads);
    }

    static long Kb(string line) => long.Parse(line.Split(':', 2)[1].Trim().Split(' ')[0]);
}

/// <summary>CPU time (utime+stime, ms) of a process, and of all PostgreSQL processes, from /proc.</summary>
public static class CpuTime
{
    static readonly double MsPerTick = 1000.0 / 100; // USER_HZ is 100 on Linux

    public static double OfPid(int pid)
    {
        try { return Parse(File.ReadAllText($"/proc/{pid}/stat")); }
        catch (IOException) { return 0; }
    }

    public static double OfPostgres()
    {
        double sum = 0;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out _)) continue;
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                if (stat.Contains("(postgres)")) sum += Parse(stat);
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return sum;
    }

    static double Parse(string stat)
    {
        var f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(f[11]) + long.Parse(f[12])) * MsPerTick; // fields 14 and 15 (utime, stime)
    }
}
