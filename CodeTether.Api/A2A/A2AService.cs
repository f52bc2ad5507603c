using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CodeTether.Api.Codebases;
using CodeTether.Api.Persistence;
using CodeTether.Api.Realtime;
using CodeTether.Api.Tasks;
using CodeTether.Shared.A2A;
using CodeTether.Shared.Contracts;
using CodeTether.Shared.Events;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace CodeTether.Api.A2A;

/// <summary>
/// The A2A operations, shared by the JSON-RPC and the HTTP+JSON bindings. An A2A message becomes a real task
/// (<see cref="TaskLifecycle"/>); what A2A shows of it is projected from the task's event log (<see cref="A2AProjection"/>).
/// </summary>
public sealed class A2AService(
    CodeTetherDb db, TaskLifecycle lifecycle, Transactions tx, IEventBus bus, PushConfigs push,
    IOptions<A2AOptions> options, IOptions<TaskOptions> taskOptions, TimeProvider clock)
{
    /// <summary>Output modes this agent produces; <c>acceptedOutputModes</c> must accept one of them.</summary>
    public static readonly IReadOnlyList<string> OutputModes = ["text/plain", "application/json"];
    public static readonly IReadOnlyList<string> InputModes = ["text/plain", "application/json", "application/octet-stream", "*/*"];

    // ---------- message/send, message/stream ----------

    /// <summary>
    /// <c>message/send</c>: accepts the message, then answers with the task — after waiting while a worker is on it when
    /// the send is blocking (<see cref="WaitWhileWorkedOnAsync"/>). A new task that is answered at once is projected from
    /// what was just committed, without reading it back.
    /// </summary>
    public async Task<A2ATask> SendAsync(MessageSendParams p, CancellationToken ct)
    {
        var (taskId, created) = await AcceptAsync(p, ct);
        var blocking = p.Configuration?.Blocking ?? true;
        if (created is not null && (!blocking || created.Task.Status == TaskStatuses.Submitted))
            return A2AProjection.Replay(created.Task, created.Events).Snapshot(created.Task, p.Configuration?.HistoryLength);
        if (blocking) await WaitWhileWorkedOnAsync(taskId, ct);
        return await GetAsync(taskId, p.Configuration?.HistoryLength, ct);
    }

    /// <summary>Creates a task from the message, or continues the task it names. Returns the task id.</summary>
    public async Task<string> AcceptMessageAsync(MessageSendParams p, CancellationToken ct) => (await AcceptAsync(p, ct)).TaskId;

    /// <summary>The task id, and the task with its first events when the message created it.</summary>
    async Task<(string TaskId, TaskLifecycle.Created? Created)> AcceptAsync(MessageSendParams p, CancellationToken ct)
    {
        Validate(p);
        var m = p.Message;
        if (PromptOf(m).Length > taskOptions.Value.MaxPromptLength)
            throw A2AException.InvalidParams($"the message's text must be at most {taskOptions.Value.MaxPromptLength} characters.");
        if (p.Configuration?.PushNotificationConfig is { } inline) push.Check(inline);

        string taskId;
        TaskLifecycle.Created? created = null;
        if (m.TaskId is { Length: > 0 } existing)
        {
            taskId = existing;
            await ContinueAsync(m, ct);
        }
        else
        {
            var meta = Merge(p.Metadata, m.Metadata);
            var codebaseId = await ResolveCodebaseAsync(meta, ct);
            var contextId = m.ContextId is { Length: > 0 } c ? c : Guid.NewGuid().ToString();
            if (contextId.Length > 200) throw A2AException.InvalidParams("contextId must be at most 200 characters.");
            var agent = Str(meta, "agent");
            if (agent is { Length: > 64 }) throw A2AException.InvalidParams("metadata.agent must be at most 64 characters.");
            var taskMeta = new JsonObject
            {
                ["a2a"] = new JsonObject
                {
                    ["context_id"] = contextId,
                    ["message_id"] = m.MessageId,
                    ["parts"] = JsonSerializer.SerializeToNode(m.Parts, A2AJson.Options),
                },
            };
            if (meta is not null) taskMeta["request_metadata"] = meta.DeepClone();
            // Serialized here, not inside the shared commit: the message event is ready before the batch runs.
            var id = TaskLifecycle.NewId();
            var message = UserMessageData(m, id, contextId);
            created = await lifecycle.CreateWithEventsAsync(
                new TaskLifecycle.NewTask(codebaseId, PromptOf(m), null, agent, Str(meta, "model"), null, taskMeta,
                    Str(meta, "target_worker_id"), contextId, Id: id),
                ct, (t, changes) => changes.AddTaskEvent(t, TaskEventTypes.Message, message, workerId: null));
            taskId = created.Task.Id;
        }
        if (p.Configuration?.PushNotificationConfig is { } config) await push.SetAsync(taskId, config, ct);
        return (taskId, created);
    }

    async Task ContinueAsync(A2AMessage m, CancellationToken ct)
    {
        var task = await db.Tasks.AsNoTracking().FirstOrDefaultAsync(t => t.Id == m.TaskId, ct)
            ?? throw A2AException.TaskNotFound(m.TaskId!);
        if (m.ContextId is { Length: > 0 } ctx && ctx != A2AProjection.ContextOf(task))
            throw A2AException.InvalidParams($"contextId '{ctx}' is not the context of task {task.Id}.");
        if (TaskStatuses.IsTerminal(task.Status))
            throw A2AException.Unsupported($"task {task.Id} is {A2AProjection.StateOf(task.Status)}; a terminal task cannot be continued (send a new message without taskId).");
        if (task.Status == TaskStatuses.InputRequired)
        {
            var (outcome, _) = await lifecycle.ResumeAsync(task.Id, PromptOf(m), ct, (t, c) => RecordUserMessage(t, c, m));
            if (outcome == TaskLifecycle.Outcome.Done) return;
            // It moved on meanwhile (cancelled): report what it is now.
            await ContinueAsync(m, ct);
            return;
        }
        // Still queued or being worked on: the message joins the task's history (the worker sees it as an event).
        await tx.RunAsync(async c =>
        {
            var tracked = await db.Tasks.FirstAsync(t => t.Id == task.Id, ct);
            RecordUserMessage(tracked, c, m);
            tracked.UpdatedAt = c.Now;
        }, ct);
    }

    static void RecordUserMessage(AgentTask t, Changes c, A2AMessage m) =>
        c.AddTaskEvent(t, TaskEventTypes.Message, UserMessageData(m, t.Id, A2AProjection.ContextOf(t)), workerId: null);

    static string UserMessageData(A2AMessage m, string taskId, string contextId) => new JsonObject
    {
        ["role"] = A2ARoles.User,
        ["text"] = PromptOf(m),
        ["a2a"] = JsonSerializer.SerializeToNode(m with { TaskId = taskId, ContextId = contextId }, A2AJson.Options),
    }.ToJsonString(Shared.Json.CodeTetherJson.Options);

    /// <summary>
    /// A blocking send waits while a worker is actually on the task (claimed, running), up to
    /// <see cref="A2AOptions.BlockingTimeout"/>. A task nobody can take is answered at once in <c>submitted</c>; a routed one
    /// gets <see cref="A2AOptions.ClaimWait"/> to be claimed.
    /// </summary>
    public async Task WaitWhileWorkedOnAsync(string taskId, CancellationToken ct)
    {
        var o = options.Value;
        var tenant = db.TenantId;
        using var sub = bus.Subscribe(e => e.TenantId == tenant && e.Task?.TaskId == taskId && e.Task.Type == TaskEventTypes.Status);
        var start = clock.GetUtcNow();
        while (true)
        {
            var status = await db.Tasks.AsNoTracking().Where(t => t.Id == taskId).Select(t => t.Status).FirstOrDefaultAsync(ct);
            var now = clock.GetUtcNow();
            var limit = status switch
            {
                null or TaskStatuses.Submitted or TaskStatuses.InputRequired => TimeSpan.Zero,
                TaskStatuses.Routed => o.ClaimWait < o.BlockingTimeout ? o.ClaimWait : o.BlockingTimeout,
                _ when TaskStatuses.IsTerminal(status) => TimeSpan.Zero,
                _ => o.BlockingTimeout,
            };
            var left = start + limit - now;
            if (left <= TimeSpan.Zero) return;
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(ct);
            wait.CancelAfter(left < TimeSpan.FromSeconds(1) ? left : TimeSpan.FromSeconds(1));
            try
            {
                if (sub.Reader.Completion.IsCompleted) await Task.Delay(Timeout.Infinite, wait.Token);
                else await sub.Reader.WaitToReadAsync(wait.Token);
                while (sub.Reader.TryRead(out _)) { }
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested) { }
        }
    }

    // ---------- tasks/get, tasks/cancel ----------

    public async Task<A2ATask> GetAsync(string taskId, int? historyLength, CancellationToken ct)
    {
        if (historyLength is < 0) throw A2AException.InvalidParams("historyLength must not be negative.");
        var (task, projection) = await ProjectAsync(taskId, ct);
        return projection.Snapshot(task, historyLength);
    }

    public async Task<A2ATask> CancelAsync(string taskId, CancellationToken ct)
    {
        var (outcome, task) = await lifecycle.CancelAsync(taskId, "canceled through A2A", ct);
        return outcome switch
        {
            TaskLifecycle.Outcome.NotFound => throw A2AException.TaskNotFound(taskId),
            TaskLifecycle.Outcome.InvalidState => throw A2AException.NotCancelable(taskId, A2AProjection.StateOf(task!.Status)),
            _ => await GetAsync(taskId, null, ct),
        };
    }

    async Task<(AgentTask, A2AProjection)> ProjectAsync(string taskId, CancellationToken ct)
    {
        var events = await db.TaskEvents.AsNoTracking().Where(e => e.TaskId == taskId).OrderBy(e => e.Id).ToListAsync(ct);
        var task = await db.Tasks.AsNoTracking().FirstOrDefaultAsync(t => t.Id == taskId, ct) ?? throw A2AException.TaskNotFound(taskId);
        return (task, A2AProjection.Replay(task, events));
    }

    public async Task EnsureExistsAsync(string taskId, CancellationToken ct)
    {
        if (!await db.Tasks.AnyAsync(t => t.Id == taskId, ct)) throw A2AException.TaskNotFound(taskId);
    }

    // ---------- streams ----------

    /// <summary>One item of an A2A stream: an event (with the task-event id it stands for), or a keep-alive (null).</summary>
    public readonly record struct StreamItem(long EventId, object? Event);

    /// <summary>
    /// The task as a stream: the current <see cref="A2ATask"/> first (or, resuming after <paramref name="lastEventId"/>, the
    /// updates the client missed), then every update until one is final (terminal or input-required). Updates carry the
    /// task-event id, so a client reconnecting with <c>Last-Event-ID</c> loses nothing.
    /// </summary>
    public async IAsyncEnumerable<StreamItem> FollowAsync(string taskId, long lastEventId, int? historyLength,
        [EnumeratorCancellation] CancellationToken ct)
    {
        var tenant = db.TenantId;
        using var sub = bus.Subscribe(e => e.TenantId == tenant && e.Task?.TaskId == taskId);
        var (task, p) = await ProjectAsync(taskId, ct);
        if (lastEventId <= 0)
        {
            yield return new StreamItem(p.LastEventId, p.Snapshot(task, historyLength));
            if (A2ATaskStates.IsFinal(p.State)) yield break;
        }
        else
        {
            // Rebuild what the client had, then send what it missed.
            var (replayTask, replay) = (task, new A2AProjection(task.Id, A2AProjection.ContextOf(task)));
            var events = await db.TaskEvents.AsNoTracking().Where(e => e.TaskId == taskId).OrderBy(e => e.Id).ToListAsync(ct);
            foreach (var e in events)
            {
                foreach (var u in replay.Apply(e, replayTask))
                {
                    if (e.Id <= lastEventId) continue;
                    yield return new StreamItem(e.Id, u);
                    if (u is TaskStatusUpdateEvent { Final: true }) yield break;
                }
            }
            p = replay;
            if (A2ATaskStates.IsFinal(p.State)) yield break;
        }

        var last = p.LastEventId;
        while (!ct.IsCancellationRequested)
        {
            var woke = false;
            using (var tick = CancellationTokenSource.CreateLinkedTokenSource(ct))
            {
                tick.CancelAfter(options.Value.StreamKeepAlive);
                try
                {
                    if (sub.Reader.Completion.IsCompleted) await Task.Delay(TimeSpan.FromMilliseconds(250), tick.Token); // fell behind the bus: poll
                    woke = sub.Reader.Completion.IsCompleted || await sub.Reader.WaitToReadAsync(tick.Token);
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested) { }
            }
            while (sub.Reader.TryRead(out _)) { }
            if (!woke)
            {
                yield return new StreamItem(0, null);
                continue;
            }
            var fresh = await db.TaskEvents.AsNoTracking().Where(e => e.TaskId == taskId && e.Id > last).OrderBy(e => e.Id).Take(500).ToListAsync(ct);
            if (fresh.Count == 0) continue;
            var now = await db.Tasks.AsNoTracking().FirstOrDefaultAsync(t => t.Id == taskId, ct);
            if (now is null) yield break;
            foreach (var e in fresh)
            {
                last = e.Id;
                foreach (var u in p.Apply(e, now))
                {
                    yield return new StreamItem(e.Id, u);
                    if (u is TaskStatusUpdateEvent { Final: true }) yield break;
                }
            }
        }
    }

    // ---------- validation and mapping ----------

    public static void Validate(MessageSendParams p)
    {
        var m = p.Message;
        if (m.Kind != A2AKinds.Message) throw A2AException.InvalidParams($"message.kind must be \"message\", not \"{m.Kind}\".");
        if (m.Role is not (A2ARoles.User or A2ARoles.Agent)) throw A2AException.InvalidParams($"message.role must be \"user\" or \"agent\", not \"{m.Role}\".");
        if (string.IsNullOrWhiteSpace(m.MessageId)) throw A2AException.InvalidParams("message.messageId is required.");
        if (m.MessageId.Length > 200) throw A2AException.InvalidParams("message.messageId must be at most 200 characters.");
        if (m.Parts.Count == 0) throw A2AException.InvalidParams("message.parts must not be empty.");
        for (var i = 0; i < m.Parts.Count; i++)
        {
            switch (m.Parts[i])
            {
                case null: throw A2AException.InvalidParams($"message.parts[{i}] is null.");
                case FilePart { File: var f }:
                    if ((f.Bytes is null) == (f.Uri is null))
                        throw A2AException.InvalidParams($"message.parts[{i}].file must have exactly one of bytes and uri.");
                    if (f.Bytes is not null && !IsBase64(f.Bytes))
                        throw A2AException.InvalidParams($"message.parts[{i}].file.bytes is not base64.");
                    if (f.Uri is not null && !Uri.TryCreate(f.Uri, UriKind.Absolute, out _))
                        throw A2AException.InvalidParams($"message.parts[{i}].file.uri is not an absolute URI.");
                    break;
            }
        }
        if (p.Configuration is { } c)
        {
            if (c.HistoryLength is < 0) throw A2AException.InvalidParams("configuration.historyLength must not be negative.");
            if (c.AcceptedOutputModes is { Count: > 0 } accepted && !accepted.Any(Accepts))
                throw new A2AException(A2AErrorCodes.ContentTypeNotSupported,
                    $"Incompatible content types: content type not supported, none of the accepted output modes is one this agent answers with: {string.Join(", ", OutputModes)}.");
        }
    }

    /// <summary>A mode (parameters ignored) that names one of <see cref="OutputModes"/>, a wildcard over them, or the bare "text".</summary>
    static bool Accepts(string mode)
    {
        var m = mode.Split(';', 2)[0].Trim();
        return m is "*/*" or "*" or "text/*" or "application/*" or "text" || OutputModes.Contains(m, StringComparer.OrdinalIgnoreCase);
    }

    static bool IsBase64(string s)
    {
        var buffer = new byte[s.Length];
        return Convert.TryFromBase64String(s, buffer, out _);
    }

    /// <summary>The prompt a worker gets: the text parts; other parts are named so the agent knows they are there.</summary>
    public static string PromptOf(A2AMessage m)
    {
        var sb = new StringBuilder();
        foreach (var part in m.Parts)
        {
            if (sb.Length > 0) sb.Append('\n');
            switch (part)
            {
                case TextPart t: sb.Append(t.Text); break;
                case FilePart f: sb.Append("[file: ").Append(f.File.Name ?? f.File.Uri ?? "attachment").Append(f.File.MimeType is { } mt ? $" ({mt})" : "").Append(']'); break;
                case DataPart d: sb.Append("[data: ").Append(d.Data.ToJsonString()).Append(']'); break;
            }
        }
        return sb.ToString();
    }

    async Task<string> ResolveCodebaseAsync(JsonObject? meta, CancellationToken ct)
    {
        var wanted = Str(meta, "codebase_id") ?? Str(meta, "codebaseId") ?? Str(meta, "workspace_id") ?? Str(meta, "codebase");
        if (wanted is null or CodebaseIds.Global) return CodebaseIds.Global;
        var found = await db.Codebases.AsNoTracking().Where(c => c.Id == wanted || c.Name == wanted || c.Path == wanted)
            .Select(c => c.Id).FirstOrDefaultAsync(ct);
        return found ?? throw A2AException.InvalidParams($"metadata names codebase '{wanted}', which is not registered.");
    }

    static JsonObject? Merge(JsonObject? a, JsonObject? b)
    {
        if (a is null) return b;
        if (b is null) return a;
        var merged = (JsonObject)a.DeepClone();
        foreach (var (k, v) in b) merged[k] = v?.DeepClone();
        return merged;
    }

    static string? Str(JsonObject? o, string name) =>
        o?[name] is JsonValue v && v.TryGetValue<string>(out var s) && s.Length > 0 ? s : null;
}
