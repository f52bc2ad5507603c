using System.Diagnostics;
using System.Text.Json;
using CodeTether.Api.Realtime;
using CodeTether.Shared.Contracts;
using CodeTether.Testing;

namespace CodeTether.Api.Tests.Processes;

/// <summary>
/// The proof of the coding agent: the real host (in-process, SQLite) + the real worker process
/// (<c>codetether worker --executor agent</c>) + a local LLM stub speaking the OpenAI or the Anthropic protocol, scripted
/// to read a file, fix it, run the tests of a small real Python project in a temp git repo, and commit.
/// Asserts on the repo's real state, on the events the server recorded, and on what the model was sent.
/// </summary>
public sealed class AgentEndToEndTests : IAsyncLifetime
{
    const string Secret = "sk-e2e-secret-value-0123456789";
    ApiHost _host = null!;
    string _repo = null!;
    string _workerData = null!;

    public async ValueTask InitializeAsync()
    {
        _host = await ApiHost.StartAsync(DbKind.Sqlite);
        _repo = Directory.CreateTempSubdirectory("codetether-agent-repo-").FullName;
        _workerData = Directory.CreateTempSubdirectory("codetether-agent-data-").FullName;
        File.WriteAllText(Path.Combine(_repo, "calc.py"), "def add(a, b):\n    return a - b\n");
        File.WriteAllText(Path.Combine(_repo, "test_calc.py"),
            "import unittest\nfrom calc import add\n\nclass AddTests(unittest.TestCase):\n    def test_add(self):\n        self.assertEqual(add(2, 3), 5)\n\nif __name__ == '__main__':\n    unittest.main()\n");
        Git("init", "-q", "-b", "main");
        Git("add", "-A");
        Git("-c", "user.name=Test", "-c", "user.email=test@example.com", "commit", "-qm", "initial");
    }

    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync();
        Directory.Delete(_repo, recursive: true);
        Directory.Delete(_workerData, recursive: true);
    }

    string Git(params string[] args)
    {
        var psi = new ProcessStartInfo("git") { WorkingDirectory = _repo, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"git {string.Join(' ', args)} failed: {output}");
        return output.Trim();
    }

    static readonly LlmTurn[] Script =
    [
        LlmTurn.Tool("read_file", new { path = "calc.py" }),
        LlmTurn.Tool("edit", new { path = "calc.py", old_string = "return a - b", new_string = "return a + b" }),
        LlmTurn.Tool("run_tests", new { }),
        LlmTurn.Tool("git_commit", new { message = "Fix add(): it subtracted" }),
        LlmTurn.Say("Fixed add() in calc.py (it subtracted); the tests pass and the fix is committed."),
    ];

    async Task WaitOnlineAsync(string workerId)
    {
        using var sub = _host.Service<IEventBus>().Subscribe(e => e.Worker is { } w && w.WorkerId == workerId && w.Status == WorkerStatuses.Online);
        var res = await _host.Client().GetAsync($"/v1/agent/workers/{workerId}", TestContext.Current.CancellationToken);
        if (res.IsSuccessStatusCode && (await res.ReadAsync<WorkerDto>()).Status != WorkerStatuses.Offline) return;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await sub.Reader.ReadAsync(cts.Token);
    }

    [Theory]
    [InlineData("openai", "openai:gpt-test")]
    [InlineData("anthropic", "anthropic:claude-test")]
    public async Task Agent_ReadsEditsTestsAndCommits_ThroughTheRealHostAndWorker(string protocol, string model)
    {
        await using var llm = await LlmStub.StartAsync(Script);
        var http = _host.Client();
        var codebase = await http.CreateCodebaseAsync(_repo);
        await using var events = await SseClient.OpenAsync(http, $"/v1/agent/codebases/{codebase.Id}/events");

        var env = new Dictionary<string, string?> { ["A2A_WORKER_TOKEN"] = ApiHost.WorkerToken };
        if (protocol == "openai")
        {
            env["OPENAI_API_KEY"] = Secret;
            env["OPENAI_BASE_URL"] = new Uri(llm.Url, "/v1").ToString();
        }
        else
        {
            env["ANTHROPIC_API_KEY"] = Secret;
            env["ANTHROPIC_BASE_URL"] = llm.Url.ToString().TrimEnd('/');
        }
        var workerId = "agent-" + protocol;
        await using var worker = CodeTetherProcess.Start(
            ["worker", "--server", _host.BaseAddress.ToString(), "--codebases", _repo, "--executor", "agent", "--models", model,
             "--auto-approve", "all", "--worker-id", workerId, "--data-dir", _workerData], env);
        await WaitOnlineAsync(workerId);

        var registered = await (await http.GetAsync($"/v1/agent/workers/{workerId}", TestContext.Current.CancellationToken)).ReadAsync<WorkerDto>();
        Assert.Contains(model, registered.Models);
        Assert.Contains("balanced", registered.Models);

        var task = await http.TriggerAsync(codebase.Id, $"The add() function is broken ({Secret} must never show). Fix it, run the tests, commit.",
            new { model, session_id = "ses-e2e-" + protocol });
        var seen = await events.UntilAsync(e => e.Type == "status" && e.Json.GetProperty("task_id").GetString() == task.Id
            && TaskStatuses.IsTerminal(e.Json.GetProperty("status").GetString()!), TimeSpan.FromSeconds(120));

        // The repo's real state
        Assert.Equal("def add(a, b):\n    return a + b\n", File.ReadAllText(Path.Combine(_repo, "calc.py")));
        Assert.Equal("Fix add(): it subtracted", Git("log", "-1", "--format=%s"));
        Assert.Equal("", Git("status", "--porcelain"));
        Assert.Equal("2", Git("rev-list", "--count", "HEAD"));

        // The task and the events the server recorded
        var detail = await http.GetTaskAsync(task.Id);
        Assert.True(detail.Task.Status == TaskStatuses.Completed, $"task {detail.Task.Status}: {detail.Task.Error}\n{worker.Output}");
        Assert.StartsWith("Fixed add() in calc.py", detail.Task.Result);
        Assert.Contains("[usage] model " + model + " · 500 input + 100 output tokens", detail.Task.Result);
        var steps = seen.Where(e => e.Json.GetProperty("task_id").GetString() == task.Id && e.Type != "status")
            .Select(e => (e.Type, Data: e.Json.GetProperty("data"))).ToList();
        Assert.Equal(["read_file", "edit", "run_tests", "git_commit"],
            steps.Where(s => s.Type == "tool_call").Select(s => s.Data.GetProperty("name").GetString()));
        var results = steps.Where(s => s.Type == "tool_result").Select(s => s.Data).ToList();
        Assert.All(results, r => Assert.True(r.GetProperty("ok").GetBoolean(), r.GetRawText()));
        Assert.Contains("tests PASSED", results[2].GetProperty("output").GetString());
        var diff = Assert.Single(steps, s => s.Type == "diff").Data;
        Assert.Equal("calc.py", diff.GetProperty("path").GetString());
        Assert.Contains("-    return a - b\n+    return a + b", diff.GetProperty("diff").GetString());
        var usage = Assert.Single(steps, s => s.Type == "usage").Data;
        Assert.Equal((500, 100, 5), (usage.GetProperty("input_tokens").GetInt32(), usage.GetProperty("output_tokens").GetInt32(), usage.GetProperty("model_calls").GetInt32()));
        Assert.Contains(steps, s => s.Type == "message" && s.Data.GetProperty("text").GetString()!.StartsWith("Fixed add()", StringComparison.Ordinal));
        Assert.DoesNotContain(Secret, string.Join("\n", seen.Select(e => e.Data)));

        // What the model saw: the key in the vendor's header, the tool results fed back in the vendor's format
        var requests = llm.Requests.ToList();
        Assert.Equal(5, requests.Count);
        Assert.All(requests, r => Assert.Equal(protocol, r.Protocol));
        // both SDKs send the key as a bearer token (Anthropic 13.x documents ApiKey as "sent as Authorization: Bearer")
        Assert.Equal("Bearer " + Secret, requests[0].Authorization);
        Assert.Contains("return a - b", requests[1].Raw);          // read_file's result
        Assert.Contains("tests PASSED", requests[3].Raw);          // run_tests' result
        Assert.Contains("edit", requests[0].Raw);                  // the tool declarations
        Assert.Contains("git_worktree", requests[0].Raw);

        // The session: stored locally and synced to the server
        var sessions = await (await http.GetAsync($"/v1/agent/codebases/{codebase.Id}/sessions", TestContext.Current.CancellationToken)).ReadAsync<List<SessionDto>>();
        var session = Assert.Single(sessions);
        Assert.Equal("ses-e2e-" + protocol, session.Id);
        var messages = await (await http.GetAsync($"/v1/agent/sessions/{session.Id}/messages", TestContext.Current.CancellationToken)).ReadAsync<List<SessionMessageDto>>();
        Assert.Equal(["user", "assistant", "tool", "assistant", "tool", "assistant", "tool", "assistant", "tool", "assistant"], messages.Select(m => m.Role));
        Assert.DoesNotContain(Secret, JsonSerializer.Serialize(messages));
        Assert.True(File.Exists(Path.Combine(_workerData, "worker", "sessions", session.Id + ".jsonl")));
    }
}
