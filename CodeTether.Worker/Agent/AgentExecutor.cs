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
        var history = sessions is null ? [] : await sessions.LoadAsync(sessionId, ct).ConfigureAwait(false);
        var messages = new List<ChatMessage> { new(ChatRole.System, SystemPrompt(agent, root, tools)) };
        messages.AddRange(SessionStore.ToChat(history));
        var firstNew = messages.Count;
        messages.Add(new ChatMessage(ChatRole.User, task.Prompt));

        var usage = new Usage(model);
        var options = new ChatOptions { Tools = [.. tools.Select(t => (AITool)t.Declaration)], ToolMode = ChatToolMode.Auto };
        Log.Starting(_logger, task.Id, agent, model.Id, tools.Count, history.Count);
        TaskOutcome outcome;
        try
        {
            outcome = await LoopAsync(ctx, chat, messages, options, byName, toolCtx, usage, ct).ConfigureAwait(false);
        }
        finally
        {
            usage.SubInput = toolCtx.SubInputTokens;
            usage.SubOutput = toolCtx.SubOutputTokens;
            await StepAsync(ctx, TaskEventTypes.Usage, usage.ToJson()).ConfigureAwait(false);
            await SaveAndSyncAsync(task, agent, sessionId, history.Count, messages.Skip(firstNew)).ConfigureAwait(false);
        }
        var usageLine = $"\n\n[usage] {usage.Summary}";
        return outcome with { Result = (outcome.Result ?? "") + usageLine };
    }

    private async Task<TaskOutcome> LoopAsync(TaskContext ctx, IChatClient chat, List<ChatMessage> messages, ChatOptions options,
        Dictionary<string, AgentTool> tools, ToolContext toolCtx, Usage usage, CancellationToken ct)
    {
        string? lastText = null;
        for (var step = 1; step <= settings.MaxSteps; step++)
        {
            var response = await chat.GetResponseAsync(messages, options, ct).ConfigureAwait(false);
            usage.Add(response.Usage);
            messages.AddRange(response.Messages);
            if (response.Text is { Length: > 0 } text)
            {
                lastText = text;
                await StepAsync(ctx, TaskEventTypes.Message, new JsonObject { ["role"] = "assistant", ["text"] = text }).ConfigureAwait(false);
            }
            var calls = response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().ToList();
            if (calls.Count == 0) return TaskOutcome.Completed(settings.Redactor.Redact(lastText ?? "(the agent finished without a summary)"));

            var results = new List<AIContent>();
            foreach (var call in calls)
            {
                results.Add(await RunToolAsync(ctx, call, tools, toolCtx, usage, ct).ConfigureAwait(false));
            }
            messages.Add(new ChatMessage(ChatRole.Tool, results));
            if (toolCtx.InputRequest is { } question)
            {
                await StepAsync(ctx, TaskEventTypes.Message, new JsonObject { ["role"] = "assistant", ["kind"] = "question", ["text"] = question }).ConfigureAwait(false);
                return TaskOutcome.Failed(
                    $"input required: {settings.Redactor.Redact(question)} (this server has no input-required round-trip yet; answer with a follow-up task on session {ctx.Task.SessionId ?? "task-" + ctx.Task.Id})",
                    lastText);
            }
            await ctx.ProgressAsync(null, $"step {step}: {string.Join(", ", calls.Select(c => c.Name))}", ct).ConfigureAwait(false);
        }
        return TaskOutcome.Failed($"step limit reached: {settings.MaxSteps} model calls without a final answer", lastText);
    }

    private async Task<FunctionResultContent> RunToolAsync(TaskContext ctx, FunctionCallContent call, Dictionary<string, AgentTool> tools,
        ToolContext toolCtx, Usage usage, CancellationToken ct)
    {
        usage.ToolCalls++;
        var arguments = JsonSerializer.SerializeToNode(call.Arguments ?? new Dictionary<string, object?>(), AIJsonUtilities.DefaultOptions);
        await StepAsync(ctx, TaskEventTypes.ToolCall, new JsonObject { ["id"] = call.CallId, ["name"] = call.Name, ["arguments"] = arguments }).ConfigureAwait(false);

        var started = Stopwatch.GetTimestamp();
        var approved = true;
        ToolResult result;
        if (!tools.TryGetValue(call.Name, out var tool))
            result = ToolResult.Error($"unknown tool '{call.Name}'; available tools: {string.Join(", ", tools.Keys)}");
        else if (call.Exception is not null)
            result = ToolResult.Error($"the arguments are not valid JSON ({call.Exception.Message}); call {call.Name} again with a JSON object");
        else if (_approval.NeedsApproval(tool))
        {
            approved = false;
            result = new ToolResult(_approval.ModelMessage(tool), IsError: true);
            await StepAsync(ctx, TaskEventTypes.Message, new JsonObject { ["role"] = "system", ["kind"] = "approval_required", ["tool"] = tool.Name, ["text"] = _approval.UserMessage(tool) }).ConfigureAwait(false);
        }
        else
        {
            result = await tool.InvokeAsync(new ToolArgs(call.Arguments), toolCtx, ct).ConfigureAwait(false);
        }
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
        return new FunctionResultContent(call.CallId, text);
    }

    private ValueTask StepAsync(TaskContext ctx, string type, JsonObject data)
    {
        var redacted = settings.Redactor.Redact(data)!;
        return ctx.ReportAsync(new TaskStep { Type = type, Data = JsonSerializer.SerializeToElement(redacted) });
    }

    private async Task SaveAndSyncAsync(TaskDto task, string agent, string sessionId, int seq, IEnumerable<ChatMessage> newMessages)
    {
        if (sessions is null) return;
        try
        {
            var now = _time.GetUtcNow();
            var previous = await sessions.LoadHeaderAsync(sessionId, CancellationToken.None).ConfigureAwait(false);
            var header = new StoredSession(sessionId, task.CodebaseId, previous?.Title ?? Title(task), agent, task.Id,
                previous?.CreatedAt ?? now, now);
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

        [LoggerMessage(403, LogLevel.Warning, "Task {TaskId}: saving or syncing session {SessionId} failed: {Reason}")]
        public static partial void SyncFailed(ILogger logger, string taskId, string sessionId, string reason);
    }
}
