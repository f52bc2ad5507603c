using System.Collections.Concurrent;
using System.Text.Json;
using CodeTether.Shared.Contracts;
using CodeTether.Shared.Events;
using CodeTether.Worker.Agent;
using CodeTether.Worker.Providers;
using CodeTether.Worker.Sessions;
using CodeTether.Worker.Tests.Fakes;
using CodeTether.Worker.Tools;
using Microsoft.Extensions.AI;

namespace CodeTether.Worker.Tests.Agent;

public sealed class AgentExecutorTests : IDisposable
{
    private const string Secret = "sk-unit-secret-987654321";
    private readonly TempDirectory _codebase = new();
    private readonly TempDirectory _data = new();
    private readonly CancellationTokenSource _timeout = TestTimeout.Create();
    private readonly ConcurrentQueue<TaskStep> _steps = new();
    private readonly ModelCatalog _models = ModelCatalog.Build(["openai:gpt-test"], k => k == "OPENAI_API_KEY" ? "k" : null);

    public void Dispose()
    {
        _codebase.Dispose();
        _data.Dispose();
        _timeout.Dispose();
    }

    private AgentExecutor Agent(ScriptedChatClient chat, string approve = AutoApproveModes.All, int maxSteps = 10, SessionStore? sessions = null) =>
        new(new AgentSettings
        {
            Models = _models,
            AutoApprove = approve,
            MaxSteps = maxSteps,
            Redactor = new SecretRedactor([("OPENAI_API_KEY", Secret)]),
        }, _ => chat, sessions);

    private Task<TaskOutcome> RunAsync(AgentExecutor agent, string prompt = "do it", string agentName = "build", string? model = null, string? session = null) =>
        agent.ExecuteAsync(TaskContexts.Create(FakeCodeTetherServer.NewTask("t-agent", prompt) with { Agent = agentName, Model = model, SessionId = session },
            [_codebase.Path], _steps), _timeout.Token);

    private List<(string Type, JsonElement Data)> Steps => [.. _steps.Select(s => (s.Type!, s.Data!.Value))];

    private IEnumerable<JsonElement> Of(string type) => Steps.Where(s => s.Type == type).Select(s => s.Data);

    [Fact]
    public async Task Execute_RunsToolsUntilTheModelAnswers_AndStreamsEveryStep()
    {
        File.WriteAllText(Path.Combine(_codebase.Path, "a.txt"), "old\n");
        var chat = new ScriptedChatClient(
            ScriptedChatClient.Call("read_file", new { path = "a.txt" }, text: "Let me look."),
            ScriptedChatClient.Call("write_file", new { path = "a.txt", content = "new\n" }),
            ScriptedChatClient.Reply("Replaced old with new."));

        var outcome = await RunAsync(Agent(chat));

        Assert.Equal(TaskStatuses.Completed, outcome.Status);
        Assert.StartsWith("Replaced old with new.\n\n[usage] model openai:gpt-test · 30 input + 6 output tokens · 3 model calls, 2 tool calls · cost unknown for this model", outcome.Result);
        Assert.Equal("new\n", File.ReadAllText(Path.Combine(_codebase.Path, "a.txt")));
        Assert.Equal([TaskEventTypes.Message, TaskEventTypes.ToolCall, TaskEventTypes.ToolResult, TaskEventTypes.ToolCall, TaskEventTypes.ToolResult,
            TaskEventTypes.Diff, TaskEventTypes.Message, TaskEventTypes.Usage], Steps.Select(s => s.Type));
        Assert.Equal("a.txt", Of(TaskEventTypes.ToolCall).First().GetProperty("arguments").GetProperty("path").GetString());
        Assert.Contains("1| old", Of(TaskEventTypes.ToolResult).First().GetProperty("output").GetString());
        Assert.Contains("-old\n+new", Of(TaskEventTypes.Diff).Single().GetProperty("diff").GetString());
        var usage = Of(TaskEventTypes.Usage).Single();
        Assert.Equal((30, 6, 36), (usage.GetProperty("input_tokens").GetInt32(), usage.GetProperty("output_tokens").GetInt32(), usage.GetProperty("total_tokens").GetInt32()));
        Assert.Equal(JsonValueKind.Null, usage.GetProperty("cost_usd").ValueKind); // no list price for "gpt-test"
    }

    [Fact]
    public async Task Execute_ToolResultsGoBackToTheModel_AsFunctionResults()
    {
        File.WriteAllText(Path.Combine(_codebase.Path, "a.txt"), "content-xyz\n");
        var chat = new ScriptedChatClient(ScriptedChatClient.Call("read_file", new { path = "a.txt" }), ScriptedChatClient.Reply("done"));

        await RunAsync(Agent(chat));

        var second = chat.Calls[1].Messages;
        var result = Assert.Single(second[^1].Contents.OfType<FunctionResultContent>());
        Assert.Contains("content-xyz", result.Result?.ToString());
        Assert.Equal(ChatRole.Tool, second[^1].Role);
        Assert.Equal(ChatRole.System, second[0].Role);
    }

    [Theory]
    [InlineData(AutoApproveModes.All, true, true)]
    [InlineData(AutoApproveModes.Safe, true, false)]
    [InlineData(AutoApproveModes.None, false, false)]
    public async Task Approval_DecidesWhichCallsRun(string mode, bool readRuns, bool writeRuns)
    {
        File.WriteAllText(Path.Combine(_codebase.Path, "a.txt"), "x\n");
        var chat = new ScriptedChatClient(
            ScriptedChatClient.Call("read_file", new { path = "a.txt" }),
            ScriptedChatClient.Call("write_file", new { path = "b.txt", content = "y" }),
            ScriptedChatClient.Reply("done"));

        await RunAsync(Agent(chat, mode));

        var results = Of(TaskEventTypes.ToolResult).ToList();
        Assert.Equal([readRuns, writeRuns], results.Select(r => r.GetProperty("approved").GetBoolean()));
        Assert.Equal(writeRuns, File.Exists(Path.Combine(_codebase.Path, "b.txt")));
        if (!writeRuns)
        {
            Assert.StartsWith("not approved: 'write_file'", results[1].GetProperty("output").GetString());
            var told = Of(TaskEventTypes.Message).Single(m => m.TryGetProperty("tool", out var t) && t.GetString() == "write_file");
            Assert.Contains("--auto-approve all", told.GetProperty("text").GetString());
        }
    }

    [Fact]
    public async Task PlanAgent_IsOfferedOnlyReadOnlyTools_AndCannotCallOthers()
    {
        var chat = new ScriptedChatClient(ScriptedChatClient.Call("write_file", new { path = "x", content = "y" }), ScriptedChatClient.Reply("plan"));

        await RunAsync(Agent(chat), agentName: "plan");

        var offered = chat.Calls[0].Options!.Tools!.Select(t => t.Name).ToList();
        Assert.Contains("read_file", offered);
        Assert.DoesNotContain("write_file", offered);
        Assert.DoesNotContain("shell", offered);
        Assert.Contains("unknown tool 'write_file'", Of(TaskEventTypes.ToolResult).Single().GetProperty("output").GetString());
        Assert.False(File.Exists(Path.Combine(_codebase.Path, "x")));
    }

    [Fact]
    public async Task Execute_UnknownAgentOrModel_FailsClearly()
    {
        var chat = new ScriptedChatClient(ScriptedChatClient.Reply("x"));

        Assert.Equal("unknown agent 'wizard': this worker runs build, plan or explore", (await RunAsync(Agent(chat), agentName: "wizard")).Error);
        Assert.StartsWith("model 'nope' is not available on this worker (it serves openai:gpt-test", (await RunAsync(Agent(chat), model: "nope")).Error);
        Assert.Empty(chat.Calls);
    }

    [Fact]
    public async Task Execute_StopsAtTheStepLimit()
    {
        var chat = new ScriptedChatClient(ScriptedChatClient.Call("todo_read", new { }));

        var outcome = await RunAsync(Agent(chat, maxSteps: 3));

        Assert.Equal(TaskStatuses.Failed, outcome.Status);
        Assert.Equal("step limit reached: 3 model calls without a final answer", outcome.Error);
        Assert.Equal(3, chat.Calls.Count);
        Assert.Single(Of(TaskEventTypes.Usage));
    }

    [Fact]
    public async Task AskUser_PostsTheQuestion_AndFailsAsInputRequired()
    {
        var chat = new ScriptedChatClient(ScriptedChatClient.Call("ask_user", new { question = "Postgres or SQLite?" }));

        var outcome = await RunAsync(Agent(chat), session: "ses-1");

        Assert.Equal(TaskStatuses.Failed, outcome.Status);
        Assert.StartsWith("input required: Postgres or SQLite? (this server has no input-required round-trip yet; answer with a follow-up task on session ses-1)", outcome.Error);
        Assert.Contains(Of(TaskEventTypes.Message), m => m.GetProperty("text").GetString() == "Postgres or SQLite?");
    }

    [Fact]
    public async Task Secrets_AreRedactedFromStepsResultsAndWhatTheModelSees()
    {
        File.WriteAllText(Path.Combine(_codebase.Path, "env.txt"), $"KEY={Secret}\n");
        var chat = new ScriptedChatClient(ScriptedChatClient.Call("read_file", new { path = "env.txt" }), ScriptedChatClient.Reply($"The key is {Secret}"));

        var outcome = await RunAsync(Agent(chat));

        var everything = string.Join("\n", Steps.Select(s => s.Data.GetRawText())) + outcome.Result;
        Assert.DoesNotContain(Secret, everything);
        Assert.Contains("[REDACTED:OPENAI_API_KEY]", everything);
        Assert.DoesNotContain(Secret, chat.Calls[1].Messages[^1].Contents.OfType<FunctionResultContent>().Single().Result?.ToString());
    }

    [Fact]
    public async Task Sessions_AreStoredAsJsonl_AndAFollowUpContinuesTheHistory()
    {
        var store = new SessionStore(_data.Path);
        var first = new ScriptedChatClient(ScriptedChatClient.Call("todo_read", new { }), ScriptedChatClient.Reply("first answer"));
        await RunAsync(Agent(first, sessions: store), prompt: "first question", session: "ses-follow");
        var second = new ScriptedChatClient(ScriptedChatClient.Reply("second answer"));

        await RunAsync(Agent(second, sessions: store), prompt: "second question", session: "ses-follow");

        var sent = second.Calls[0].Messages;
        Assert.Equal(["system", "user", "assistant", "tool", "assistant", "user"], sent.Select(m => m.Role.Value));
        Assert.Equal("first question", sent[1].Text);
        Assert.Equal("first answer", sent[4].Text);
        var stored = await store.LoadAsync("ses-follow", _timeout.Token);
        Assert.Equal(["user", "assistant", "tool", "assistant", "user", "assistant"], stored.Select(m => m.Role));
        Assert.Equal(stored.Count, stored.Select(m => m.Id).Distinct().Count());
        Assert.Equal(6, File.ReadAllLines(Path.Combine(_data.Path, "ses-follow.jsonl")).Length);
    }
}
