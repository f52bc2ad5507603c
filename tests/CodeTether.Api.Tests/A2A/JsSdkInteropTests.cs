using System.Diagnostics;
using System.Text.Json.Nodes;
using CodeTether.Api.Realtime;
using CodeTether.Shared.Contracts;
using CodeTether.Testing;

namespace CodeTether.Api.Tests.A2A;

/// <summary>
/// Clients we did not write: the official <c>@a2a-js/sdk</c> 0.3.14 (native v0.3) and 1.x (v1.0 with its legacy v0.3 layer),
/// installed from <c>e2e/a2a-js</c>'s lock file, drive a real host with a real worker daemon
/// (<c>codetether worker --executor shell</c>): card, blocking and non-blocking send, get, cancel (twice), a missing task,
/// stream, resubscribe and push config set/get with delivery to a local receiver.
/// </summary>
public sealed class JsSdkInteropTests : IAsyncLifetime
{
    ApiHost _host = null!;
    string _repo = null!;
    CodeTetherProcess _worker = null!;
    string _codebase = null!;

    public async ValueTask InitializeAsync()
    {
        _host = await ApiHost.StartAsync(DbKind.Sqlite, new Dictionary<string, string?>
        {
            ["A2A:Push:AllowedHosts:0"] = "127.0.0.1",
            ["A2A:Push:InitialBackoff"] = "00:00:00.050",
        });
        _repo = Directory.CreateTempSubdirectory("codetether-a2a-repo-").FullName;
        _codebase = (await _host.Client().CreateCodebaseAsync(_repo)).Id;
        using var online = _host.Service<IEventBus>().Subscribe(e => e.Worker is { WorkerId: "js-worker", Status: WorkerStatuses.Online });
        _worker = CodeTetherProcess.Start(
            ["worker", "--server", _host.BaseAddress.ToString(), "--codebases", _repo, "--executor", "shell", "--worker-id", "js-worker", "--grace", "1"],
            new Dictionary<string, string?> { ["A2A_WORKER_TOKEN"] = ApiHost.WorkerToken });
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await online.Reader.ReadAsync(cts.Token);
    }

    public async ValueTask DisposeAsync()
    {
        await _worker.DisposeAsync();
        await _host.DisposeAsync();
        Directory.Delete(_repo, recursive: true);
    }

    static string PackageDir()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "CodeTether.sln"))) return Path.Combine(dir.FullName, "e2e", "a2a-js");
        throw new InvalidOperationException("repository root not found");
    }

    static async Task<string> RunAsync(string file, string args, string dir, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo(file, args) { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try { await p.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException) { p.Kill(entireProcessTree: true); throw new TimeoutException($"{file} {args} timed out: {await stderr}"); }
        Assert.True(p.ExitCode == 0, $"{file} {args} exited {p.ExitCode}: {await stderr}");
        return await stdout;
    }

    static readonly SemaphoreSlim Install = new(1, 1);

    static async Task EnsureInstalledAsync(string dir)
    {
        await Install.WaitAsync();
        try
        {
            if (!Directory.Exists(Path.Combine(dir, "node_modules", "@a2a-js", "sdk")) || !Directory.Exists(Path.Combine(dir, "node_modules", "a2a-sdk-v1")))
                await RunAsync("npm", "ci --no-audit --no-fund", dir, TimeSpan.FromMinutes(3));
        }
        finally { Install.Release(); }
    }

    [Theory]
    [InlineData("v03", "JSONRPC")]
    [InlineData("v03", "HTTP+JSON")]
    [InlineData("v1", "JSONRPC")]
    public async Task OfficialJsClient_DrivesEveryMethod(string sdk, string transport)
    {
        var dir = PackageDir();
        await EnsureInstalledAsync(dir);
        await using var receiver = await WebhookReceiver.StartAsync();
        var json = await RunAsync("node",
            $"interop.mjs --sdk {sdk} --transport {transport} --base {_host.BaseAddress.ToString().TrimEnd('/')} --token {ApiHost.OperatorToken} --codebase {_codebase} --hook {receiver.Url}",
            dir, TimeSpan.FromSeconds(90));
        var steps = JsonNode.Parse(json)!["steps"]!;
        string Why(string step) => $"{sdk}/{transport} {step}: {steps[step]?.ToJsonString()}";
        bool Ok(string step) => steps[step]?["ok"]?.GetValue<bool>() == true;
        string? Str(string step, string field) => steps[step]?[field]?.GetValue<string>();

        Assert.True(Ok("card"), Why("card"));
        Assert.Equal("0.3.0", Str("card", "protocolVersion"));
        Assert.True(Ok("sendBlocking"), Why("sendBlocking"));
        Assert.Equal("completed", Str("sendBlocking", "state"));
        Assert.Contains("interop-blocking", Str("sendBlocking", "text"));
        Assert.True(Ok("sendNonBlocking"), Why("sendNonBlocking"));
        Assert.Contains(Str("sendNonBlocking", "state"), new[] { "submitted", "working" });
        Assert.True(Ok("getTask"), Why("getTask"));
        Assert.Equal(Str("sendNonBlocking", "taskId"), Str("getTask", "id"));
        Assert.True(Ok("cancelTask"), Why("cancelTask"));
        Assert.Equal("canceled", Str("cancelTask", "state"));
        Assert.False(Ok("cancelAgain"), Why("cancelAgain"));
        Assert.Contains("TaskNotCancelable", Str("cancelAgain", "type"));
        Assert.False(Ok("getMissing"), Why("getMissing"));
        Assert.Contains("TaskNotFound", Str("getMissing", "type"));

        Assert.True(Ok("stream"), Why("stream"));
        var kinds = steps["stream"]!["kinds"]!.AsArray().Select(k => k!.GetValue<string>()).ToList();
        Assert.Equal("task", kinds[0]);
        Assert.Equal("completed", steps["stream"]!["states"]!.AsArray().Last()!.GetValue<string>());
        Assert.Contains("streamed-2", Str("stream", "text"));

        Assert.True(Ok("resubscribe"), Why("resubscribe"));
        Assert.Equal("completed", Str("resubscribe", "finalState"));
        Assert.Equal("completed", steps["resubscribe"]!["states"]!.AsArray().Last()!.GetValue<string>());
        Assert.Contains("resubscribed", Str("resubscribe", "text"));

        Assert.True(Ok("pushConfig"), Why("pushConfig"));
        Assert.Equal(receiver.Url, Str("pushConfig", "setUrl"));
        Assert.Equal(receiver.Url, Str("pushConfig", "getUrl"));
        var pushed = Str("pushConfig", "taskId");
        var (token, _, body) = await receiver.NextAsync(b => b["id"]?.GetValue<string>() == pushed && b["status"]!["state"]!.GetValue<string>() == "canceled");
        Assert.Equal("interop-token", token);
    }
}
