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
    public async Task Approval_DecidesWhichCallsRunAndWhichWaitForTheUser(string mode, bool readRuns, bool writeRuns)
    {
        File.WriteAllText(Path.Combine(_codebase.Path, "a.txt"), "x\n");
        var chat = new ScriptedChatClient(
            ScriptedChatClient.Call("read_file", new { path = "a.txt" }),
            ScriptedChatClient.Call("write_file", new { path = "b.txt", content = "y" }),
            ScriptedChatClient.Reply("done"));

        var outcome = await RunAsync(Agent(chat, mode, sessions: new SessionStore(_data.Path)));

        var waitsFor = !readRuns ? "read_file" : !writeRuns ? "write_file" : null;
        Assert.Equal(waitsFor is null ? TaskStatuses.Completed : TaskStatuses.InputRequired, outcome.Status);
        Assert.Equal(writeRuns, File.Exists(Path.Combine(_codebase.Path, "b.txt")));
        Assert.Equal(readRuns ? 1 : 0, Of(TaskEventTypes.ToolResult).Count(r => r.GetProperty("name").GetString() == "read_file"));
        if (waitsFor is not null)
        {
            Assert.StartsWith($"Approve tool call '{waitsFor}'", outcome.Question);
            var asked = Of(TaskEventTypes.Message).Single(m => m.TryGetProperty("kind", out var k) && k.GetString() == "approval_required");
            Assert.Equal((waitsFor, outcome.Question), (asked.GetProperty("tool").GetString(), asked.GetProperty("text").GetString()));
            Assert.Equal(Of(TaskEventTypes.ToolCall).Count(), Of(TaskEventTypes.ToolResult).Count() + 1); // the pending call has no result yet
        }
    }

    [Fact]
    public async Task Approval_Approved_RunsThePendingCall_AndContinuesTheSessionWithTheAnswer()
    {
        var store = new SessionStore(_data.Path);
        var chat = new ScriptedChatClient(
            ScriptedChatClient.Call("write_file", new { path = "b.txt", content = "y\n" }, text: "I will write b.txt."),
            ScriptedChatClient.Reply("b.txt written."));

        var paused = await RunAsync(Agent(chat, AutoApproveModes.Safe, sessions: store), prompt: "create b.txt");

        Assert.Equal(TaskStatuses.InputRequired, paused.Status);
        Assert.Equal("""Approve tool call 'write_file' (changes files or runs commands) with arguments {"path":"b.txt","content":"y\n"}? The worker runs with --auto-approve safe. Answer "approve" (or "yes") to run it; any other answer skips it and is passed on to the agent.""", paused.Question);
        Assert.False(File.Exists(Path.Combine(_codebase.Path, "b.txt")));
        var header = await store.LoadHeaderAsync("task-t-agent", _timeout.Token);
        Assert.Equal(("t-agent", PendingInput.ApprovalKind, "write_file"), (header!.Pending!.TaskId, header.Pending.Kind, header.Pending.Tool));
        Assert.Single(chat.Calls);

        // The resumed task: same id, the answer as its prompt, a fresh executor (as after a worker restart).
        var outcome = await RunAsync(Agent(chat, AutoApproveModes.Safe, sessions: store), prompt: "Approve.");

        Assert.Equal(TaskStatuses.Completed, outcome.Status);
        Assert.StartsWith("b.txt written.", outcome.Result);
        Assert.Equal("y\n", File.ReadAllText(Path.Combine(_codebase.Path, "b.txt")));
        var sent = chat.Calls[1].Messages;
        Assert.Equal(["system", "user", "assistant", "tool", "user"], sent.Select(m => m.Role.Value));
        Assert.Equal("create b.txt", sent[1].Text);
        Assert.Contains("created b.txt", sent[3].Contents.OfType<FunctionResultContent>().Single().Result?.ToString());
        Assert.Equal("Approve.", sent[4].Text);
        var result = Of(TaskEventTypes.ToolResult).Single();
        Assert.True(result.GetProperty("approved").GetBoolean());
        Assert.Contains(Of(TaskEventTypes.Message), m => m.TryGetProperty("kind", out var k) && k.GetString() == "approved");
        Assert.Null((await store.LoadHeaderAsync("task-t-agent", _timeout.Token))!.Pending);
        Assert.Equal(["user", "assistant", "tool", "user", "assistant"], (await store.LoadAsync("task-t-agent", _timeout.Token)).Select(m => m.Role));
    }

    [Fact]
    public async Task Approval_AnyOtherAnswer_SkipsThePendingCall_AndTheModelGetsTheAnswer()
    {
        var store = new SessionStore(_data.Path);
        var chat = new ScriptedChatClient(
            ScriptedChatClient.Call("shell", new { command = "rm -rf build" }),
            ScriptedChatClient.Reply("Understood, not deleting."));
        await RunAsync(Agent(chat, AutoApproveModes.Safe, sessions: store));

        var outcome = await RunAsync(Agent(chat, AutoApproveModes.Safe, sessions: store), prompt: "no, keep the build folder");

        Assert.Equal(TaskStatuses.Completed, outcome.Status);
        var declined = chat.Calls[1].Messages[^2].Contents.OfType<FunctionResultContent>().Single().Result?.ToString();
        Assert.StartsWith("not approved: the user declined 'shell' (their answer: \"no, keep the build folder\"", declined);
        Assert.Equal("no, keep the build folder", chat.Calls[1].Messages[^1].Text);
        var result = Of(TaskEventTypes.ToolResult).Single();
        Assert.False(result.GetProperty("approved").GetBoolean());
    }

    [Fact]
    public async Task Approval_RemainingCallsOfTheTurn_RunAfterTheAnswer_AndCanAskAgain()
    {
        var store = new SessionStore(_data.Path);
        var turn = new ChatResponse(new ChatMessage(ChatRole.Assistant, [
            new FunctionCallContent("c1", "write_file", new Dictionary<string, object?> { ["path"] = "one.txt", ["content"] = "1" }),
            new FunctionCallContent("c2", "read_file", new Dictionary<string, object?> { ["path"] = "one.txt" }),
            new FunctionCallContent("c3", "write_file", new Dictionary<string, object?> { ["path"] = "two.txt", ["content"] = "2" }),
        ]));
        var chat = new ScriptedChatClient(turn, ScriptedChatClient.Reply("both written"));
        Assert.Equal(TaskStatuses.InputRequired, (await RunAsync(Agent(chat, AutoApproveModes.Safe, sessions: store))).Status);

        var second = await RunAsync(Agent(chat, AutoApproveModes.Safe, sessions: store), prompt: "yes");

        Assert.Equal(TaskStatuses.InputRequired, second.Status);
        Assert.StartsWith("Approve tool call 'write_file'", second.Question);
        Assert.Contains("two.txt", second.Question);
        Assert.True(File.Exists(Path.Combine(_codebase.Path, "one.txt")));
        Assert.Single(chat.Calls);

        var third = await RunAsync(Agent(chat, AutoApproveModes.Safe, sessions: store), prompt: "yes");

        Assert.Equal(TaskStatuses.Completed, third.Status);
        Assert.Equal("2", File.ReadAllText(Path.Combine(_codebase.Path, "two.txt")));
        var sent = chat.Calls[1].Messages;
        Assert.Equal(["c1", "c2", "c3"], sent.Where(m => m.Role == ChatRole.Tool).SelectMany(m => m.Contents.OfType<FunctionResultContent>()).Select(r => r.CallId));
        Assert.Equal("yes", sent[^1].Text);
    }

    [Fact]
    public async Task AskUser_WaitsForInput_AndTheAnswerContinuesTheSession()
    {
        var store = new SessionStore(_data.Path);
        var chat = new ScriptedChatClient(
            ScriptedChatClient.Call("ask_user", new { question = "Postgres or SQLite?" }),
            ScriptedChatClient.Reply("Going with SQLite."));

        var paused = await RunAsync(Agent(chat, AutoApproveModes.None, sessions: store), session: "ses-1");

        Assert.Equal(TaskStatuses.InputRequired, paused.Status);
        Assert.Equal("Postgres or SQLite?", paused.Question);
        Assert.Contains(Of(TaskEventTypes.Message), m => m.GetProperty("text").GetString() == "Postgres or SQLite?" && m.GetProperty("kind").GetString() == "question");

        var outcome = await RunAsync(Agent(chat, AutoApproveModes.None, sessions: store), prompt: "SQLite", session: "ses-1");

        Assert.Equal(TaskStatuses.Completed, outcome.Status);
        var sent = chat.Calls[1].Messages;
        Assert.Equal("The user answered: SQLite", sent[^2].Contents.OfType<FunctionResultContent>().Single().Result?.ToString());
        Assert.Equal(("user", "SQLite"), (sent[^1].Role.Value, sent[^1].Text));
    }

    [Fact]
    public async Task Pending_OfAnotherTask_IsNotResumed_AndItsOpenTurnIsDropped()
    {
        var store = new SessionStore(_data.Path);
        var chat = new ScriptedChatClient(ScriptedChatClient.Call("write_file", new { path = "x", content = "y" }), ScriptedChatClient.Reply("ok"));
        await RunAsync(Agent(chat, AutoApproveModes.Safe, sessions: store), prompt: "first", session: "ses-2");

        var other = new ScriptedChatClient(ScriptedChatClient.Reply("fresh"));
        var outcome = await Agent(other, AutoApproveModes.Safe, sessions: store).ExecuteAsync(TaskContexts.Create(
            FakeCodeTetherServer.NewTask("t-other", "second") with { SessionId = "ses-2" }, [_codebase.Path], _steps), _timeout.Token);

        Assert.Equal(TaskStatuses.Completed, outcome.Status);
        Assert.Equal(["system", "user", "user"], other.Calls[0].Messages.Select(m => m.Role.Value));
        Assert.False(File.Exists(Path.Combine(_codebase.Path, "x")));
    }

    [Fact]
    public async Task Approval_Question_IsRedacted()
    {
        var chat = new ScriptedChatClient(ScriptedChatClient.Call("shell", new { command = $"curl -H 'Authorization: {Secret}' x" }));

        var outcome = await RunAsync(Agent(chat, AutoApproveModes.Safe));

        Assert.DoesNotContain(Secret, outcome.Question);
        Assert.Contains("[REDACTED:OPENAI_API_KEY]", outcome.Question);
        Assert.DoesNotContain(Secret, string.Join("\n", Steps.Select(st => st.Data.GetRawText())));
    }

    [Theory]
    [InlineData("approve", true)]
    [InlineData("Yes", true)]
    [InlineData("y", true)]
    [InlineData("Approved.", true)]
    [InlineData("yes, go ahead", true)]
    [InlineData("no", false)]
    [InlineData("yesterday", false)]
    [InlineData("do not approve", false)]
    [InlineData("", false)]
    public void IsApproval_AcceptsYesOrApprove(string answer, bool approved) => Assert.Equal(approved, AgentExecutor.IsApproval(answer));

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
