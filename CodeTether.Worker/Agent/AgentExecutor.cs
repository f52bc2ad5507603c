using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using CodeTether.Shared.Client;
using CodeTether.Shared.Contracts;
using CodeTether.Shared.Events;
using CodeTether.Worker.Providers;
using CodeTether.Worker.Sessions;
using CodeTether.Worker.Tools;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CodeTether.Worker.Agent;

/// <summary>Settings of the agent executor, resolved from the worker's flags.</summary>
public sealed record AgentSettings
{
    public required ModelCatalog Models { get; init; }
    public string AutoApprove { get; init; } = AutoApproveModes.Safe;
    public ToolSettings Tools { get; init; } = new();
    /// <summary>Model calls per task before it fails with "step limit reached".</summary>
    public int MaxSteps { get; init; } = 50;
    public IReadOnlyDictionary<string, McpServerConfig> McpServers { get; init; } = new Dictionary<string, McpServerConfig>();
    public SecretRedactor Redactor { get; init; } = new([]);
    public string WorkerId { get; init; } = "worker";
}

/// <summary>
/// <c>--executor agent</c>: a coding agent. An explicit loop over an <see cref="IChatClient"/> — call the model with the
/// agent's tools; run each tool call it asks for (through the approval policy, confined to the codebase root); feed the
/// results back; repeat until the model answers without tool calls — streaming every step to the server
/// (<c>message</c>, <c>tool_call</c>, <c>tool_result</c>, <c>diff</c>, <c>usage</c>). Agents: <c>build</c> (all tools),
/// <c>plan</c> and <c>explore</c> (read-only tools). The transcript goes to the local <see cref="SessionStore"/> and is
/// synced to the server; a task with a <c>session_id</c> continues that session.
/// </summary>
public sealed partial class AgentExecutor(
    AgentSettings settings,
    Func<ModelRef, IChatClient> chatFactory,
    SessionStore? sessions = null,
    CodeTetherClient? server = null,
    ILogger<AgentExecutor>? logger = null,
    TimeProvider? time = null,
    ILoggerFactory? loggers = null) : ITaskExecutor
{
    /// <summary>Characters of a tool's output copied into its <c>tool_result</c> step (the model gets up to the tool's cap).</summary>
    public const int StepOutputChars = 4000;

    private readonly ILogger _logger = logger ?? NullLogger<AgentExecutor>.Instance;
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly ApprovalPolicy _approval = new(settings.AutoApprove);

    public async Task<TaskOutcome> ExecuteAsync(TaskContext ctx, CancellationToken ct)
    {
        var task = ctx.Task;
        var agent = string.IsNullOrWhiteSpace(task.Agent) ? AgentNames.Default : task.Agent.Trim().ToLowerInvariant();
        if (agent is not (AgentNames.Build or AgentNames.Plan or AgentNames.Explore))
            return TaskOutcome.Failed($"unknown agent '{task.Agent}': this worker runs build, plan or explore");
        if (settings.Models.Resolve(task.Model) is not { } model)
            return TaskOutcome.Failed(string.IsNullOrWhiteSpace(task.Model)
                ? "no model configured on this worker (set --models or a provider key such as ANTHROPIC_API_KEY)"
                : $"model '{task.Model}' is not available on this worker (it serves {string.Join(", ", settings.Models.Advertised)})");
        IChatClient chat;
        try
        {
            chat = chatFactory(model);
        }
        catch (ArgumentException ex)
        {
            return TaskOutcome.Failed(ex.Message);
        }
        if (ctx.ResolveWorkingDirectory() is not { } directory)
            return TaskOutcome.Failed("no codebase directory on this worker to work in");

        var root = new CodebaseRoot(directory);
        var toolSettings = settings.Tools with { HiddenEnvironment = [.. settings.Tools.HiddenEnvironment.Union(settings.Redactor.Names)] };
        await using var toolCtx = new ToolContext(root, toolSettings, chat);
        await using var mcp = settings.McpServers.Count == 0
            ? new McpToolSource()
            : await McpToolSource.ConnectAsync(settings.McpServers, loggers, ct).ConfigureAwait(false);
        foreach (var failure in mcp.Failures) await StepAsync(ctx, TaskEventTypes.Message, new JsonObject { ["role"] = "system", ["text"] = "MCP server unavailable: " + failure }).ConfigureAwait(false);
        var tools = ToolSet.For(agent, toolSettings, mcp.Tools);
        var byName = tools.ToDictionary(t => t.Name, StringComparer.Ordinal);

        var sessionId = string.IsNullOrWhiteSpace(task.SessionId) ? "task-" + task.Id : task.SessionId;
        var header = sessions is null ? null : await sessions.LoadHeaderAsync(sessionId, ct).ConfigureAwait(false);
        var history = sessions is null ? [] : await sessions.LoadAsync(sessionId, ct).ConfigureAwait(false);
        var messages = new List<ChatMessage> { new(ChatRole.System, SystemPrompt(agent, root, tools)) };
        // A resumed task (the user answered its question or approval): continue the open turn of its session.
        var resume = header?.Pending is { } p && p.TaskId == task.Id ? p : null;
        var past = SessionStore.ToChat(history, keepOpenTurn: resume is not null);
        if (resume is not null && !CanResume(past, resume)) (resume, past) = (null, SessionStore.ToChat(history));
        messages.AddRange(past);
        var firstNew = messages.Count;
        if (resume is null) messages.Add(new ChatMessage(ChatRole.User, task.Prompt));

        var usage = new Usage(model);
        var options = new ChatOptions { Tools = [.. tools.Select(t => (AITool)t.Declaration)], ToolMode = ChatToolMode.Auto };
        Log.Starting(_logger, task.Id, agent, model.Id, tools.Count, history.Count);
        var run = new LoopState(ctx, chat, messages, options, byName, toolCtx, usage);
        TaskOutcome outcome;
        try
        {
            if (resume is not null)
            {
                Log.Resuming(_logger, task.Id, resume.Kind, resume.Tool);
                outcome = await ResumeAsync(run, resume, task.Prompt, ct).ConfigureAwait(false)
                    ?? await LoopAsync(run, ct).ConfigureAwait(false);
            }
            else
            {
                outcome = await LoopAsync(run, ct).ConfigureAwait(false);
            }
        }
        finally
        {
            usage.SubInput = toolCtx.SubInputTokens;
            usage.SubOutput = toolCtx.SubOutputTokens;
            await StepAsync(ctx, TaskEventTypes.Usage, usage.ToJson()).ConfigureAwait(false);
            // Saved before the worker tells the server (input-required): a quick answer finds the pending state on disk.
            await SaveAndSyncAsync(task, agent, sessionId, history.Count, messages.Skip(firstNew), run.Pause).ConfigureAwait(false);
        }
        var usageLine = $"\n\n[usage] {usage.Summary}";
        return outcome with { Result = (outcome.Result ?? "") + usageLine };
    }

    /// <summary>One run's loop state.</summary>
    private sealed record LoopState(TaskContext Ctx, IChatClient Chat, List<ChatMessage> Messages, ChatOptions Options,
        Dictionary<string, AgentTool> Tools, ToolContext ToolCtx, Usage Usage)
    {
        public string? LastText { get; set; }
        /// <summary>Set when the run stops to wait for the user.</summary>
        public PendingInput? Pause { get; set; }
    }

    /// <summary>How a call is decided: by the approval policy, or by the user's answer to an approval request.</summary>
    private enum Decision { Policy, Approved, Declined }

    private static bool CanResume(List<ChatMessage> past, PendingInput pending) =>
        SessionStore.OpenTurn(past) is { } open && Unanswered(past, open).FirstOrDefault()?.CallId == pending.CallId;

    private static List<FunctionCallContent> Unanswered(List<ChatMessage> messages, int open)
    {
        var answered = messages.Skip(open + 1).SelectMany(m => m.Contents.OfType<FunctionResultContent>()).Select(r => r.CallId).ToHashSet();
        return [.. messages[open].Contents.OfType<FunctionCallContent>().Where(c => !answered.Contains(c.CallId))];
    }

    /// <summary><c>yes</c>, <c>y</c>, <c>approve</c>, <c>approved</c> (any case, trailing punctuation ignored) approve; anything else declines.</summary>
    public static bool IsApproval(string answer)
    {
        var first = answer.Trim().Split((char[])[' ', '\n', '\t', ',', ':', ';'], 2, StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? "";
        return first.TrimEnd('.', '!').ToLowerInvariant() is "yes" or "y" or "approve" or "approved";
    }

    /// <summary>
    /// Continues the open turn with the user's answer: the pending call runs (approved) or is skipped (declined), or gets
    /// the answer (<c>ask_user</c>); the turn's remaining calls run through the policy; then the answer becomes the next
    /// user message. Returns an outcome when the turn has to wait for the user again, else null (the loop goes on).
    /// </summary>
    private async Task<TaskOutcome?> ResumeAsync(LoopState run, PendingInput pending, string answer, CancellationToken ct)
    {
        var remaining = Unanswered(run.Messages, SessionStore.OpenTurn(run.Messages)!.Value);
        var results = new List<AIContent>();
        var first = remaining[0];
        if (pending.Kind == PendingInput.QuestionKind)
        {
            results.Add(new FunctionResultContent(first.CallId, settings.Redactor.Redact($"The user answered: {answer}")));
        }
        else
        {
            var approved = IsApproval(answer);
            await StepAsync(run.Ctx, TaskEventTypes.Message, new JsonObject
            {
                ["role"] = "user", ["kind"] = approved ? "approved" : "declined", ["tool"] = first.Name, ["text"] = answer,
            }).ConfigureAwait(false);
            var (result, pause) = await RunToolAsync(run, first, approved ? Decision.Approved : Decision.Declined, answer, ct).ConfigureAwait(false);
            if (result is not null) results.Add(result);
            if (pause is not null) return Pause(run, results, pause);
        }
        foreach (var call in remaining.Skip(1))
        {
            var (result, pause) = await RunToolAsync(run, call, Decision.Policy, null, ct).ConfigureAwait(false);
            if (result is not null) results.Add(result);
            if (pause is not null) return Pause(run, results, pause);
        }
        run.Messages.Add(new ChatMessage(ChatRole.Tool, results));
        run.Messages.Add(new ChatMessage(ChatRole.User, answer));
        return null;
    }

    private TaskOutcome Pause(LoopState run, List<AIContent> results, PendingInput pending)
    {
        if (results.Count > 0) run.Messages.Add(new ChatMessage(ChatRole.Tool, results));
        run.Pause = pending;
        return TaskOutcome.InputRequired(settings.Redactor.Redact(pending.Question),
            run.LastText is null ? null : settings.Redactor.Redact(run.LastText));
    }

    private async Task<TaskOutcome> LoopAsync(LoopState run, CancellationToken ct)
    {
        for (var step = 1; step <= settings.MaxSteps; step++)
        {
            var response = await run.Chat.GetResponseAsync(run.Messages, run.Options, ct).ConfigureAwait(false);
            run.Usage.Add(response.Usage);
            run.Messages.AddRange(response.Messages);
            if (response.Text is { Length: > 0 } text)
            {
                run.LastText = text;
                await StepAsync(run.Ctx, TaskEventTypes.Message, new JsonObject { ["role"] = "assistant", ["text"] = text }).ConfigureAwait(false);
            }
            var calls = response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().ToList();
            if (calls.Count == 0) return TaskOutcome.Completed(settings.Redactor.Redact(run.LastText ?? "(the agent finished without a summary)"));

            var results = new List<AIContent>();
            foreach (var call in calls)
            {
                ct.ThrowIfCancellationRequested();
                var (result, pause) = await RunToolAsync(run, call, Decision.Policy, null, ct).ConfigureAwait(false);
                if (result is not null) results.Add(result);
                if (pause is not null) return Pause(run, results, pause);
            }
            run.Messages.Add(new ChatMessage(ChatRole.Tool, results));
            await run.Ctx.ProgressAsync(null, $"step {step}: {string.Join(", ", calls.Select(c => c.Name))}", ct).ConfigureAwait(false);
        }
        return TaskOutcome.Failed($"step limit reached: {settings.MaxSteps} model calls without a final answer", run.LastText);
    }

    /// <summary>
    /// Runs one call (or refuses it) and posts its steps. Returns the result for the model, or — when the call has to wait
    /// for the user (an approval, or <c>ask_user</c>'s question) — no result and what the session waits for.
    /// </summary>
    private async Task<(FunctionResultContent? Result, PendingInput? Pause)> RunToolAsync(LoopState run, FunctionCallContent call,
        Decision decision, string? answer, CancellationToken ct)
    {
        var (ctx, tools, toolCtx) = (run.Ctx, run.Tools, run.ToolCtx);
        var arguments = JsonSerializer.SerializeToNode(call.Arguments ?? new Dictionary<string, object?>(), AIJsonUtilities.DefaultOptions);
        if (decision == Decision.Policy)
            await StepAsync(ctx, TaskEventTypes.ToolCall, new JsonObject { ["id"] = call.CallId, ["name"] = call.Name, ["arguments"] = arguments?.DeepClone() }).ConfigureAwait(false);

        var started = Stopwatch.GetTimestamp();
        var approved = true;
        ToolResult result;
        if (!tools.TryGetValue(call.Name, out var tool))
            result = ToolResult.Error($"unknown tool '{call.Name}'; available tools: {string.Join(", ", tools.Keys)}");
        else if (call.Exception is not null)
            result = ToolResult.Error($"the arguments are not valid JSON ({call.Exception.Message}); call {call.Name} again with a JSON object");
        else if (decision == Decision.Policy && tool.Name != AskUserTool && _approval.NeedsApproval(tool))
        {
            var question = settings.Redactor.Redact(_approval.Question(tool, arguments?.ToJsonString() ?? "{}"));
            await StepAsync(ctx, TaskEventTypes.Message, new JsonObject
            {
                ["role"] = "system", ["kind"] = "approval_required", ["id"] = call.CallId, ["tool"] = tool.Name, ["arguments"] = arguments, ["text"] = question,
            }).ConfigureAwait(false);
            return (null, new PendingInput(ctx.Task.Id, PendingInput.ApprovalKind, call.CallId, tool.Name, question));
        }
        else if (decision == Decision.Declined)
        {
            approved = false;
            result = new ToolResult(ApprovalPolicy.DeclinedMessage(tool, answer ?? ""), IsError: true);
        }
        else
        {
            result = await tool.InvokeAsync(new ToolArgs(call.Arguments), toolCtx, ct).ConfigureAwait(false);
        }
        run.Usage.ToolCalls++;
        var elapsedMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        var text = settings.Redactor.Redact(ShellTools.Cap(result.Text, toolCtx.Settings.OutputCap));
        Log.ToolRan(_logger, ctx.Task.Id, call.Name, !result.IsError, approved, (long)elapsedMs, text.Length);
        await StepAsync(ctx, TaskEventTypes.ToolResult, new JsonObject
        {
            ["id"] = call.CallId,
            ["name"] = call.Name,
            ["ok"] = !result.IsError,
            ["approved"] = approved,
            ["duration_ms"] = Math.Round(elapsedMs, 1),
            ["output"] = text.Length > StepOutputChars ? text[..StepOutputChars] + $"… [{text.Length - StepOutputChars} more characters]" : text,
        }).ConfigureAwait(false);
        foreach (var diff in result.Diffs)
            await StepAsync(ctx, TaskEventTypes.Diff, new JsonObject { ["path"] = diff.Path, ["diff"] = diff.Diff, ["tool"] = call.Name }).ConfigureAwait(false);
        if (toolCtx.InputRequest is { } asked)
        {
            toolCtx.InputRequest = null;
            var question = settings.Redactor.Redact(asked);
            await StepAsync(ctx, TaskEventTypes.Message, new JsonObject { ["role"] = "assistant", ["kind"] = "question", ["id"] = call.CallId, ["text"] = question }).ConfigureAwait(false);
            return (null, new PendingInput(ctx.Task.Id, PendingInput.QuestionKind, call.CallId, call.Name, question));
        }
        return (new FunctionResultContent(call.CallId, text), null);
    }

    private const string AskUserTool = "ask_user";

    private ValueTask StepAsync(TaskContext ctx, string type, JsonObject data)
    {
        var redacted = settings.Redactor.Redact(data)!;
        return ctx.ReportAsync(new TaskStep { Type = type, Data = JsonSerializer.SerializeToElement(redacted) });
    }

    private async Task SaveAndSyncAsync(TaskDto task, string agent, string sessionId, int seq, IEnumerable<ChatMessage> newMessages,
        PendingInput? pending)
    {
        if (sessions is null) return;
        try
        {
            var now = _time.GetUtcNow();
            var previous = await sessions.LoadHeaderAsync(sessionId, CancellationToken.None).ConfigureAwait(false);
            var header = new StoredSession(sessionId, task.CodebaseId, previous?.Title ?? Title(task), agent, task.Id,
                previous?.CreatedAt ?? now, now, pending);
            var stored = newMessages.Select(m => SessionStore.FromChat($"{sessionId}-{++seq:D5}", m, task.Id, now, settings.Redactor.Redact)).ToList();
            var all = await sessions.AppendAsync(header, stored, CancellationToken.None).ConfigureAwait(false);
            if (server is null || task.CodebaseId == CodebaseIds.Global) return;
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await server.SyncSessionsAsync(task.CodebaseId,
                new SessionSyncRequest { WorkerId = settings.WorkerId, Sessions = [SessionStore.ToSync(header, all)] }, timeout.Token).ConfigureAwait(false);
            Log.Synced(_logger, task.Id, sessionId, all.Count);
        }
        catch (Exception ex)
        {
            Log.SyncFailed(_logger, task.Id, sessionId, ex.Message);
        }
    }

    private static string Title(TaskDto task)
    {
        var t = string.IsNullOrWhiteSpace(task.Title) ? task.Prompt : task.Title;
        t = t.Split('\n', 2)[0].Trim();
        return t.Length > 80 ? t[..80] + "…" : t;
    }

    public static string SystemPrompt(string agent, CodebaseRoot root, IReadOnlyList<AgentTool> tools)
    {
        var role = agent switch
        {
            AgentNames.Plan => "You are CodeTether's plan agent. You may only read the code (read-only tools). Study the codebase and answer with a concrete, step-by-step implementation plan naming files and functions. Do not try to change anything.",
            AgentNames.Explore => "You are CodeTether's explore agent. You may only read the code (read-only tools). Answer the question precisely, citing file paths and line numbers.",
            _ => "You are CodeTether's build agent, a careful senior software engineer. Make the requested change with the tools: read before you edit, keep changes minimal, run the tests, and commit when asked or when the task says so.",
        };
        return $"""
            {role}
            The codebase is at {root.Path}. Every path you pass to a tool is relative to it; you cannot leave it.
            Tools: {string.Join(", ", tools.Select(t => t.Name))}.
            A tool result starting with "error:" or "not approved:" explains what went wrong; adapt instead of repeating the same call.
            When you are done, reply without calling tools: a short summary of what you did and what the user should know.
            """;
    }

    /// <summary>Token counts of one task (main loop and sub-calls) and the cost estimate.</summary>
    private sealed class Usage(ModelRef model)
    {
        public long Input, Output, SubInput, SubOutput;
        public int Calls, ToolCalls;

        public void Add(UsageDetails? usage)
        {
            Calls++;
            Input += usage?.InputTokenCount ?? 0;
            Output += usage?.OutputTokenCount ?? 0;
        }

        private decimal? Cost => ModelPricing.EstimateUsd(model, Input + SubInput, Output + SubOutput);

        public JsonObject ToJson() => new()
        {
            ["model"] = model.Id,
            ["input_tokens"] = Input + SubInput,
            ["output_tokens"] = Output + SubOutput,
            ["total_tokens"] = Input + SubInput + Output + SubOutput,
            ["model_calls"] = Calls,
            ["tool_calls"] = ToolCalls,
            ["sub_input_tokens"] = SubInput,
            ["sub_output_tokens"] = SubOutput,
            ["cost_usd"] = Cost,
        };

        public string Summary =>
            $"model {model.Id} · {Input + SubInput} input + {Output + SubOutput} output tokens · {Calls} model calls, {ToolCalls} tool calls · " +
            (Cost is { } c ? $"est. ${c:0.######}" : "cost unknown for this model");
    }

    private static partial class Log
    {
        [LoggerMessage(400, LogLevel.Information, "Task {TaskId}: agent {Agent} on {Model} with {ToolCount} tools ({HistoryCount} messages of history)")]
        public static partial void Starting(ILogger logger, string taskId, string agent, string model, int toolCount, int historyCount);

        [LoggerMessage(401, LogLevel.Debug, "Task {TaskId}: tool {Tool} ok={Ok} approved={Approved} in {ElapsedMs} ms ({Chars} chars)")]
        public static partial void ToolRan(ILogger logger, string taskId, string tool, bool ok, bool approved, long elapsedMs, int chars);

        [LoggerMessage(402, LogLevel.Information, "Task {TaskId}: session {SessionId} synced ({Count} messages)")]
        public static partial void Synced(ILogger logger, string taskId, string sessionId, int count);

        [LoggerMessage(404, LogLevel.Information, "Task {TaskId}: resuming its session with the user's answer ({Kind} for {Tool})")]
        public static partial void Resuming(ILogger logger, string taskId, string kind, string tool);

        [LoggerMessage(403, LogLevel.Warning, "Task {TaskId}: saving or syncing session {SessionId} failed: {Reason}")]
        public static partial void SyncFailed(ILogger logger, string taskId, string sessionId, string reason);
    }
}
