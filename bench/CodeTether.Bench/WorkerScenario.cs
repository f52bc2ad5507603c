using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CodeTether.Shared.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CodeTether.Bench;

/// <summary>
/// The agent worker's own cost: a real <c>codetether worker --executor agent</c> process against the Release host and a
/// local OpenAI-protocol stub scripted to ask for <c>calls</c> cheap <c>read_file</c> calls (<c>per-turn</c> per model
/// answer), then answer. Overhead per tool call = (claimed → completed on the server − time the stub spent serving) ÷ calls.
/// Also: RSS of the idle worker (registered, stream open) after settling, and its CPU time per call.
/// </summary>
public static class WorkerScenario
{
    public sealed record Options(int Calls, int PerTurn, TimeSpan Settle, int Runs);

    sealed record Row(int Run, double TotalMs, double StubMs, int ModelCalls, double CpuMs, ProcStatus Idle, ProcStatus After, string Snapshot);

    public static async Task<string> RunAsync(BenchContext ctx, Options o)
    {
        var rows = new List<Row>();
        for (var run = 1; run <= o.Runs; run++)
        {
            Console.Error.WriteLine($"worker: run {run}/{o.Runs} ({o.Calls} read_file calls, {o.PerTurn} per turn)");
            rows.Add(await RunOnceAsync(ctx, o, run));
        }
        var sb = new StringBuilder();
        sb.AppendLine($"# worker overhead — {o.Calls} read_file calls, {o.PerTurn} per model turn, {o.Runs} runs").AppendLine();
        sb.AppendLine(BenchContext.MachineHeader()).AppendLine();
        sb.AppendLine("| run | claimed→completed ms | stub ms | model calls | overhead ms/tool call | worker CPU ms/tool call | idle RSS MiB | RSS after MiB |");
        sb.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in rows)
            sb.AppendLine($"| {r.Run} | {Stats.F(r.TotalMs)} | {Stats.F(r.StubMs)} | {r.ModelCalls} | {Stats.F((r.TotalMs - r.StubMs) / o.Calls, 2)} | " +
                $"{Stats.F(r.CpuMs / o.Calls, 2)} | {Stats.F(r.Idle.RssKb / 1024.0)} | {Stats.F(r.After.RssKb / 1024.0)} |");
        sb.AppendLine();
        sb.AppendLine($"median overhead ms/tool call: **{Stats.F(Stats.Median(rows.Select(r => (r.TotalMs - r.StubMs) / o.Calls)), 2)}**, " +
            $"median worker CPU ms/tool call: **{Stats.F(Stats.Median(rows.Select(r => r.CpuMs / o.Calls)), 2)}**, " +
            $"median idle worker RSS: **{Stats.F(Stats.Median(rows.Select(r => r.Idle.RssKb / 1024.0)))} MiB**");
        sb.AppendLine().AppendLine("Machine at the start of each run:").AppendLine();
        foreach (var r in rows) sb.AppendLine($"- run {r.Run}: {r.Snapshot}");
        return sb.ToString();
    }

    static async Task<Row> RunOnceAsync(BenchContext ctx, Options o, int run)
    {
        var repo = Directory.CreateTempSubdirectory("codetether-bench-worker-repo-").FullName;
        var data = Directory.CreateTempSubdirectory("codetether-bench-worker-data-").FullName;
        for (var i = 0; i < 10; i++) File.WriteAllText(Path.Combine(repo, $"f{i}.txt"), string.Concat(Enumerable.Range(1, 20).Select(l => $"line {l} of file {i}\n")));
        await using var host = await BenchHost.StartAsync(ctx, DbKind.Sqlite, $"worker-{run}");
        await using var stub = await OpenAIStub.StartAsync(o.Calls, o.PerTurn);
        using var admin = host.Client();
        using var reg = await admin.PostAsJsonAsync("/v1/agent/codebases", new RegisterCodebaseRequest { Name = "bench-worker", Path = repo }, Api.Json);
        await Api.EnsureAsync(reg, "register codebase");
        var codebase = (await reg.Content.ReadFromJsonAsync<CodebaseDto>(Api.Json))!.Id;

        var workerId = $"bench-agent-{run}";
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { ctx.HostDll, "worker", "--server", host.BaseAddress.ToString(), "--codebases", repo, "--executor", "agent",
                     "--models", "openai:gpt-bench", "--auto-approve", "all", "--max-steps", "100000", "--worker-id", workerId, "--data-dir", data })
            psi.ArgumentList.Add(a);
        psi.Environment["A2A_WORKER_TOKEN"] = BenchHost.Token;
        psi.Environment["OPENAI_API_KEY"] = "sk-bench";
        psi.Environment["OPENAI_BASE_URL"] = new Uri(stub.Url, "/v1").ToString();
        psi.Environment["Logging__LogLevel__Default"] = "Warning";
        using var worker = Process.Start(psi)!;
        worker.OutputDataReceived += (_, _) => { };
        worker.ErrorDataReceived += (_, _) => { };
        worker.BeginOutputReadLine();
        worker.BeginErrorReadLine();
        try
        {
            var deadline = Stopwatch.StartNew();
            while (true)
            {
                using var r = await admin.GetAsync($"/v1/agent/workers/{workerId}");
                if (r.IsSuccessStatusCode && (await r.Content.ReadFromJsonAsync<WorkerDto>(Api.Json))!.Status != WorkerStatuses.Offline) break;
                if (deadline.Elapsed > TimeSpan.FromSeconds(60)) throw new TimeoutException("worker did not come online");
                await Task.Delay(100);
            }
            var snapshot = BenchContext.MachineSnapshot();
            await Task.Delay(o.Settle);
            var idle = ProcStatus.Read(worker.Id);
            var cpuBefore = CpuTime.OfPid(worker.Id);

            using var trigger = await admin.PostAsJsonAsync($"/v1/agent/codebases/{codebase}/trigger",
                new TriggerTaskRequest { Prompt = "bench: read the files", Title = "worker bench" }, Api.Json);
            await Api.EnsureAsync(trigger, "trigger");
            var task = (await trigger.Content.ReadFromJsonAsync<TaskDto>(Api.Json))!;
            TaskDto done;
            while (true)
            {
                using var r = await admin.GetAsync($"/v1/agent/tasks/{task.Id}");
                done = (await r.Content.ReadFromJsonAsync<TaskDetailDto>(Api.Json))!.Task;
                if (TaskStatuses.IsTerminal(done.Status)) break;
                await Task.Delay(50);
            }
            var cpu = CpuTime.OfPid(worker.Id) - cpuBefore;
            var after = ProcStatus.Read(worker.Id);
            if (done.Status != TaskStatuses.Completed) throw new InvalidOperationException($"task {done.Status}: {done.Error}");
            var total = (done.CompletedAt!.Value - done.ClaimedAt!.Value).TotalMilliseconds;
            return new Row(run, total, stub.ServiceMs, stub.Served, cpu, idle, after, snapshot);
        }
        finally
        {
            if (!worker.HasExited) worker.Kill(entireProcessTree: true);
            await worker.WaitForExitAsync();
            try { Directory.Delete(repo, true); Directory.Delete(data, true); } catch (IOException) { }
        }
    }

    /// <summary>A minimal OpenAI chat-completions endpoint: <c>turns</c> answers with read_file calls, then a final text.</summary>
    sealed class OpenAIStub : IAsyncDisposable
    {
        WebApplication _app = null!;
        int _served;
        long _ticks;
        int _calls, _perTurn;

        public Uri Url { get; private set; } = null!;
        public int Served => Volatile.Read(ref _served);
        public double ServiceMs => Stats.Ms(Interlocked.Read(ref _ticks));

        public static async Task<OpenAIStub> StartAsync(int calls, int perTurn)
        {
            var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = ["--urls", "http://127.0.0.1:0"] });
            builder.Logging.ClearProviders();
            var stub = new OpenAIStub { _app = builder.Build(), _calls = calls, _perTurn = perTurn };
            stub._app.MapPost("/v1/chat/completions", stub.AnswerAsync);
            await stub._app.StartAsync();
            stub.Url = new Uri(stub._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
            return stub;
        }

        async Task AnswerAsync(HttpContext ctx)
        {
            var started = Stopwatch.GetTimestamp();
            using var body = await JsonDocument.ParseAsync(ctx.Request.Body);
            var n = Interlocked.Increment(ref _served);
            var first = (n - 1) * _perTurn;
            var count = Math.Clamp(_calls - first, 0, _perTurn);
            var message = new JsonObject { ["role"] = "assistant", ["content"] = count == 0 ? "read them all" : null };
            if (count > 0)
                message["tool_calls"] = new JsonArray([.. Enumerable.Range(first, count).Select(i => (JsonNode)new JsonObject
                {
                    ["id"] = $"call_{i}",
                    ["type"] = "function",
                    ["function"] = new JsonObject { ["name"] = "read_file", ["arguments"] = $"{{\"path\":\"f{i % 10}.txt\"}}" },
                })]);
            await ctx.Response.WriteAsJsonAsync(new JsonObject
            {
                ["id"] = $"chatcmpl-{n}",
                ["object"] = "chat.completion",
                ["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
                ["model"] = body.RootElement.GetProperty("model").GetString(),
                ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["message"] = message, ["finish_reason"] = count > 0 ? "tool_calls" : "stop" }),
                ["usage"] = new JsonObject { ["prompt_tokens"] = 100, ["completion_tokens"] = 10, ["total_tokens"] = 110 },
            });
            Interlocked.Add(ref _ticks, Stopwatch.GetTimestamp() - started);
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
