using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using CodeTether.Api.Tasks;
using CodeTether.Shared.A2A;
using CodeTether.Shared.Contracts;
using CodeTether.Shared.Events;

namespace CodeTether.Api.A2A;

/// <summary>
/// The A2A view of a task, rebuilt from its event log: replaying the events in order gives the <see cref="A2ATask"/>
/// (status, history, artifacts) and, event by event, the stream updates. Snapshots, streams, resubscribes and push
/// notifications all use it, so they always agree.
/// </summary>
public sealed class A2AProjection(string taskId, string contextId)
{
    public const string OutputArtifactId = "output";
    public const string ResultArtifactId = "result";

    readonly List<A2AMessage> _history = [];
    readonly List<A2AArtifact> _artifacts = [];
    A2ATaskStatus _status = new() { State = A2ATaskStates.Submitted };
    bool _outputStarted;

    public string TaskId => taskId;
    public string ContextId => contextId;
    public string State => _status.State;
    /// <summary>Id of the last event applied; a snapshot stands for everything up to it.</summary>
    public long LastEventId { get; private set; }

    public static string StateOf(string status) => status switch
    {
        TaskStatuses.Submitted or TaskStatuses.Routed => A2ATaskStates.Submitted,
        TaskStatuses.Claimed or TaskStatuses.Running => A2ATaskStates.Working,
        TaskStatuses.InputRequired => A2ATaskStates.InputRequired,
        TaskStatuses.Completed => A2ATaskStates.Completed,
        TaskStatuses.Failed => A2ATaskStates.Failed,
        TaskStatuses.Cancelled => A2ATaskStates.Canceled,
        _ => A2ATaskStates.Unknown,
    };

    public static string ContextOf(AgentTask t) => t.SessionId ?? t.Id;

    public static A2AProjection Replay(AgentTask task, IEnumerable<TaskEvent> events)
    {
        var p = new A2AProjection(task.Id, ContextOf(task));
        foreach (var e in events) p.Apply(e, task);
        return p;
    }

    /// <summary>Applies one event; returns the stream updates it causes (none for events A2A does not show).</summary>
    public List<object> Apply(TaskEvent e, AgentTask task)
    {
        LastEventId = e.Id;
        var updates = new List<object>();
        var data = Parse(e.Data);
        var at = Timestamp(e.CreatedAt);
        switch (e.Type)
        {
            case TaskEventTypes.Status:
            {
                var state = StateOf(e.Status);
                if (state == A2ATaskStates.Completed && !string.IsNullOrEmpty(task.Result))
                    updates.Add(AddArtifact(new A2AArtifact
                    {
                        ArtifactId = ResultArtifactId, Name = "result", Parts = [new TextPart { Text = task.Result }],
                    }, append: false, lastChunk: true));
                if (state == _status.State)
                {
                    // routed, claimed→running: no change an A2A client can see
                    if (_status.Timestamp is null) _status = _status with { Timestamp = at };
                    break;
                }
                A2AMessage? message = null;
                var text = Str(data, "message") ?? (state is A2ATaskStates.Failed or A2ATaskStates.Canceled ? Str(data, "error") ?? Str(data, "reason") : null);
                if (text is not null && state is not (A2ATaskStates.Submitted or A2ATaskStates.Working))
                {
                    message = AgentMessage(e, text);
                    if (state == A2ATaskStates.InputRequired) _history.Add(message);
                }
                _status = new A2ATaskStatus { State = state, Message = message, Timestamp = at };
                updates.Add(new TaskStatusUpdateEvent
                {
                    TaskId = taskId, ContextId = contextId, Status = _status, Final = A2ATaskStates.IsFinal(state),
                });
                break;
            }
            case TaskEventTypes.Output when Str(data, "text") is { } text:
            {
                var chunk = new A2AArtifact { ArtifactId = OutputArtifactId, Name = "output", Parts = [new TextPart { Text = text + "\n" }] };
                updates.Add(AddArtifact(chunk, append: _outputStarted, lastChunk: false));
                _outputStarted = true;
                break;
            }
            case TaskEventTypes.Artifact when data is JsonObject a:
            {
                var parts = PartsOf(a);
                if (parts.Count == 0) break;
                var artifact = new A2AArtifact
                {
                    ArtifactId = Str(a, "artifact_id") ?? Str(a, "artifactId") ?? $"artifact-{e.Id}",
                    Name = Str(a, "name"), Description = Str(a, "description"), Parts = parts,
                };
                updates.Add(AddArtifact(artifact, append: Bool(a, "append") ?? false, lastChunk: Bool(a, "last_chunk") ?? Bool(a, "lastChunk")));
                break;
            }
            case TaskEventTypes.Message when data is JsonObject m:
            {
                if (Str(m, "role") == A2ARoles.User && m["a2a"] is JsonObject userMessage)
                {
                    var msg = userMessage.Deserialize<A2AMessage>(A2AJson.Options)!;
                    _history.Add(msg with { TaskId = taskId, ContextId = contextId });
                    break;
                }
                var said = Str(m, "text") ?? Str(m, "content");
                var agent = said is not null ? AgentMessage(e, said) : AgentMessage(e, null, m);
                _history.Add(agent);
                if (!A2ATaskStates.IsFinal(_status.State))
                {
                    _status = new A2ATaskStatus { State = _status.State, Message = agent, Timestamp = at };
                    updates.Add(new TaskStatusUpdateEvent { TaskId = taskId, ContextId = contextId, Status = _status, Final = false });
                }
                break;
            }
        }
        return updates;
    }

    public A2ATask Snapshot(AgentTask task, int? historyLength)
    {
        var history = historyLength switch
        {
            null => _history,
            <= 0 => [],
            var n => _history.Skip(Math.Max(0, _history.Count - n.Value)).ToList(),
        };
        var status = _status.State == StateOf(task.Status) ? _status : new A2ATaskStatus { State = StateOf(task.Status), Timestamp = Timestamp(task.UpdatedAt) };
        return new A2ATask
        {
            Id = taskId,
            ContextId = contextId,
            Status = status,
            History = history.ToList(),
            Artifacts = _artifacts.Count == 0 ? null : _artifacts.ToList(),
            Metadata = new JsonObject
            {
                ["codebaseId"] = task.CodebaseId,
                ["agent"] = task.Agent,
                ["codetetherStatus"] = task.Status,
                ["attempt"] = task.Attempt,
            },
        };
    }

    TaskArtifactUpdateEvent AddArtifact(A2AArtifact chunk, bool append, bool? lastChunk)
    {
        var i = _artifacts.FindIndex(a => a.ArtifactId == chunk.ArtifactId);
        if (i < 0) _artifacts.Add(chunk);
        else if (append) _artifacts[i] = _artifacts[i] with { Parts = Merge(_artifacts[i].Parts, chunk.Parts) };
        else _artifacts[i] = chunk;
        return new TaskArtifactUpdateEvent
        {
            TaskId = taskId, ContextId = contextId, Artifact = chunk, Append = append, LastChunk = lastChunk,
        };
    }

    /// <summary>Text appended to text stays one part, so a long output is one part, not thousands.</summary>
    static List<A2APart> Merge(List<A2APart> existing, List<A2APart> more)
    {
        var merged = existing.ToList();
        foreach (var p in more)
        {
            if (p is TextPart t && merged.Count > 0 && merged[^1] is TextPart last && last.Metadata is null && t.Metadata is null)
                merged[^1] = last with { Text = last.Text + t.Text };
            else merged.Add(p);
        }
        return merged;
    }

    A2AMessage AgentMessage(TaskEvent e, string? text, JsonObject? data = null) => new()
    {
        Role = A2ARoles.Agent,
        MessageId = $"{taskId}-{e.Id.ToString(CultureInfo.InvariantCulture)}",
        TaskId = taskId,
        ContextId = contextId,
        Parts = text is not null ? [new TextPart { Text = text }] : [new DataPart { Data = (JsonObject)data!.DeepClone() }],
    };

    static List<A2APart> PartsOf(JsonObject a)
    {
        if (a["parts"] is JsonArray parts)
        {
            try { return parts.Deserialize<List<A2APart>>(A2AJson.Options) ?? []; }
            catch (Exception ex) when (ex is JsonException or NotSupportedException) { return [new DataPart { Data = (JsonObject)a.DeepClone() }]; }
        }
        if (Str(a, "text") is { } text) return [new TextPart { Text = text }];
        if (a["data"] is JsonObject d) return [new DataPart { Data = (JsonObject)d.DeepClone() }];
        return [];
    }

    static JsonNode? Parse(string? json)
    {
        if (json is null) return null;
        try { return JsonNode.Parse(json); } catch (JsonException) { return null; }
    }

    static string? Str(JsonNode? n, string name) =>
        n is JsonObject o && o[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    static bool? Bool(JsonObject o, string name) => o[name] is JsonValue v && v.TryGetValue<bool>(out var b) ? b : null;

    public static string Timestamp(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
}
