using System.Diagnostics;

namespace CodeTether.Bench;

/// <summary>
/// The <c>@a2a-js/sdk</c> 0.3.14 reference server (<c>bench/a2a/server.mjs</c>: DefaultRequestHandler, InMemoryTaskStore,
/// the in-memory sample agent, the SDK's Express JSON-RPC handler) as a child process on a free loopback port.
/// Runs <c>npm ci</c> in <c>bench/a2a</c> first when its node_modules are missing.
/// </summary>
public sealed class ReferenceServer : IAsyncDisposable
{
    readonly Process _process;
    readonly StreamWriter _log;

    ReferenceServer(Process process, Uri baseAddress, StreamWriter log, string logPath)
    {
        _process = process;
        BaseAddress = baseAddress;
        _log = log;
        LogPath = logPath;
    }

    public Uri BaseAddress { get; }
    public int Pid => _process.Id;
    public string LogPath { get; }

    public static string Folder(BenchContext ctx) =>
        Path.Combine(BenchContext.FindRepoRoot() ?? Path.GetDirectoryName(Path.GetDirectoryName(ctx.ResultsDir))!, "bench", "a2a");

    /// <summary>`node --version` and the installed SDK/express versions, for the report.</summary>
    public static string Versions(BenchContext ctx)
    {
        var dir = Folder(ctx);
        static string Pkg(string dir, string name)
        {
            var p = Path.Combine(dir, "node_modules", name, "package.json");
            if (!File.Exists(p)) return "?";
            using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(p));
            return doc.RootElement.GetProperty("version").GetString() ?? "?";
        }
        var node = "?";
        try
        {
            using var p = Process.Start(new ProcessStartInfo("node", "--version") { RedirectStandardOutput = true })!;
            node = p.StandardOutput.ReadToEnd().Trim();
            p.WaitForExit();
        }
        catch (System.ComponentModel.Win32Exception) { }
        return $"Node {node}, @a2a-js/sdk {Pkg(dir, "@a2a-js/sdk")}, express {Pkg(dir, "express")}";
    }

    public static async Task EnsureInstalledAsync(BenchContext ctx)
    {
        var dir = Folder(ctx);
        if (!File.Exists(Path.Combine(dir, "server.mjs"))) throw new FileNotFoundException($"{dir}/server.mjs not found");
        if (Directory.Exists(Path.Combine(dir, "node_modules", "@a2a-js", "sdk")) && Directory.Exists(Path.Combine(dir, "node_modules", "express"))) return;
        Console.Error.WriteLine($"a2a: npm ci in {dir}");
        var psi = new ProcessStartInfo("npm") { WorkingDirectory = dir, UseShellExecute = false };
        foreach (var a in new[] { "ci", "--no-audit", "--no-fund" }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start npm");
        await p.WaitForExitAsync();
        if (p.ExitCode != 0) throw new InvalidOperationException($"npm ci in {dir} failed ({p.ExitCode})");
    }

    public static async Task<ReferenceServer> StartAsync(BenchContext ctx, string label)
    {
        await EnsureInstalledAsync(ctx);
        var dir = Folder(ctx);
        var port = BenchHost.FreePort();
        var psi = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = dir,
        };
        foreach (var a in new[] { "server.mjs", "--port", port.ToString(), "--token", BenchHost.Token }) psi.ArgumentList.Add(a);
        psi.Environment["NODE_ENV"] = "production";

        Directory.CreateDirectory(ctx.ResultsDir);
        var logPath = Path.Combine(ctx.ResultsDir, $"host-{label}.log");
        var log = new StreamWriter(logPath, append: false) { AutoFlush = true };
        var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start node");
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine("out: " + e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine("err: " + e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new ReferenceServer(process, new Uri($"http://127.0.0.1:{port}"), log, logPath);
        try { await server.WaitReadyAsync(TimeSpan.FromSeconds(30)); }
        catch { await server.DisposeAsync(); throw; }
        return server;
    }

    async Task WaitReadyAsync(TimeSpan timeout)
    {
        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < timeout)
        {
            if (_process.HasExited) throw new InvalidOperationException($"reference server exited with {_process.ExitCode}; see {LogPath}");
            try
            {
                using var r = await http.GetAsync("/.well-known/agent-card.json");
                if (r.IsSuccessStatusCode) return;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(100);
        }
        throw new TimeoutException($"reference server not ready within {timeout}; see {LogPath}");
    }

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
    }
}
