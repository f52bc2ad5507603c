using System.Net.Http.Json;
using CodeTether.Shared.Contracts;
using CodeTether.Testing;

namespace CodeTether.E2E;

/// <summary>
/// The agent in the browser: a real worker process runs the LLM agent (<c>--executor agent</c>) against a local endpoint
/// that speaks OpenAI's chat-completions protocol, scripted to write a file; the task page shows the tool call live and
/// the session page shows the synced transcript.
/// </summary>
[Collection(KeycloakDashboardCollection.Name)]
public sealed class AgentTaskTests(KeycloakDashboard d)
{
    [Fact]
    public async Task AgentTask_WithScriptedModel_ShowsToolCallsLiveAndTheTranscript()
    {
        var repo = Directory.CreateTempSubdirectory("codetether-e2e-agent-").FullName;
        var data = Directory.CreateTempSubdirectory("codetether-e2e-agent-data-").FullName;
        var name = "agent-" + Guid.NewGuid().ToString("N")[..6];
        await using var llm = await LlmStub.StartAsync(
        [
            LlmTurn.Tool("write_file", new { path = "NOTES.md", content = $"hello from {name}\n" }),
            LlmTurn.Say($"Wrote NOTES.md for {name}."),
        ]);

        var http = d.Host.Client();
        var codebase = await http.CreateCodebaseAsync(name, repo);
        await using var worker = CodeTetherProcess.Start(
            ["worker", "--server", d.Host.BaseAddress.ToString(), "--codebases", repo, "--executor", "agent", "--models", "openai:gpt-test",
             "--auto-approve", "all", "--worker-id", name, "--data-dir", data],
            new Dictionary<string, string?>
            {
                ["A2A_WORKER_TOKEN"] = ApiHost.WorkerToken,
                ["OPENAI_API_KEY"] = "sk-e2e-not-a-real-key",
                ["OPENAI_BASE_URL"] = new Uri(llm.Url, "/v1").ToString(),
            });
        await worker.WaitForOutputAsync("connected", TimeSpan.FromSeconds(60));

        var (ctx, page) = await d.SignInAsync("alice", "/tasks");
        await using var _ = ctx;
        var session = "ses-" + name;
        var created = await http.PostJsonAsync($"/v1/agent/codebases/{codebase.Id}/trigger",
            new { prompt = "Write NOTES.md saying hello.", model = "openai:gpt-test", session_id = session });
        created.EnsureSuccessStatusCode();
        var task = (await created.Content.ReadFromJsonAsync<TaskDto>(CodeTether.Shared.Json.CodeTetherJson.Options))!;

        await page.GotoAsync($"{d.Host.BaseAddress.ToString().TrimEnd('/')}/tasks/{task.Id}");
        await Browser.WaitForCircuitAsync(page);
        await page.WaitForSelectorAsync($"[data-testid=task-status] .ct-status[data-status={TaskStatuses.Completed}]", new() { Timeout = 90_000 });
        await page.WaitForSelectorAsync("[data-testid=steps] >> text=write_file");
        await page.WaitForSelectorAsync($"[data-testid=task-result] >> text=Wrote NOTES.md for {name}.");
        await Browser.ShotAsync(page, "agent-task-completed-1280");

        Assert.Equal($"hello from {name}\n", File.ReadAllText(Path.Combine(repo, "NOTES.md")));
        Assert.NotEmpty(llm.Requests);

        // The worker synced the conversation: its transcript is on the session page.
        await page.GotoAsync($"{d.Host.BaseAddress.ToString().TrimEnd('/')}/sessions/{session}");
        await page.WaitForSelectorAsync($"[data-testid=transcript] >> text=Wrote NOTES.md for {name}.", new() { Timeout = 30_000 });
        await page.WaitForSelectorAsync("[data-testid=transcript] >> text=Write NOTES.md saying hello.");
        await Browser.ShotAsync(page, "agent-session-transcript-1280");
    }
}
