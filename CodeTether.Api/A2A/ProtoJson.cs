using System.Text.Json;
using System.Text.Json.Nodes;
using CodeTether.Shared.A2A;

namespace CodeTether.Api.A2A;

/// <summary>
/// The HTTP+JSON binding's two body dialects: the proto3 JSON of <c>a2a.proto</c> that every SDK sends
/// (<c>ROLE_USER</c>, <c>TASK_STATE_WORKING</c>, message parts in <c>content</c>, oneof parts without <c>kind</c>, snake_case
/// accepted) and the <c>kind</c> form of the JSON-RPC binding. Requests in either are read into the <c>kind</c> form;
/// answers are written in proto JSON unless the request itself used the <c>kind</c> form.
/// </summary>
public static class ProtoJson
{
    // ---------- reading ----------

    /// <summary>A <c>SendMessageRequest</c> body (either dialect) as JSON-RPC <c>MessageSendParams</c>; tells which dialect it was.</summary>
    public static JsonObject ToSendParams(JsonObject body, out bool kindForm)
    {
        var message = (body["message"] ?? body["request"]) as JsonObject;
        kindForm = message is not null && (message.ContainsKey("parts") || message.ContainsKey("kind"));
        var result = new JsonObject();
        if (message is not null) result["message"] = ToMessage(message);
        if (body["configuration"] is JsonObject config)
        {
            var c = new JsonObject();
            foreach (var (k, v) in config)
            {
                var key = Camel(k) switch { "pushNotification" => "pushNotificationConfig", var x => x };
                c[key] = key == "pushNotificationConfig" && v is JsonObject push ? ToPushConfig(push) : v?.DeepClone();
            }
            result["configuration"] = c;
        }
        if (body["metadata"] is { } meta) result["metadata"] = meta.DeepClone();
        // proto3 JSON omits default values: no `blocking` there means false (the kind form keeps the JSON-RPC default, true).
        if (!kindForm)
        {
            var c = result["configuration"] as JsonObject ?? new JsonObject();
            c["blocking"] ??= false;
            result["configuration"] = c;
        }
        return result;
    }

    public static JsonObject ToMessage(JsonObject m)
    {
        var r = new JsonObject();
        foreach (var (k, v) in m)
        {
            var key = Camel(k);
            switch (key)
            {
                case "content" or "parts" when v is JsonArray parts:
                    r["parts"] = new JsonArray(parts.Select(p => p is JsonObject o ? (JsonNode)ToPart(o) : p?.DeepClone()).ToArray());
                    break;
                case "content" or "parts":
                    r["parts"] = v?.DeepClone();
                    break;
                case "role" when v is JsonValue rv && rv.TryGetValue<string>(out var role):
                    r["role"] = role switch { "ROLE_USER" => "user", "ROLE_AGENT" => "agent", _ => role };
                    break;
                default:
                    r[key] = v?.DeepClone();
                    break;
            }
        }
        r["kind"] ??= "message";
        return r;
    }

    static JsonObject ToPart(JsonObject p)
    {
        if (p.ContainsKey("kind")) return (JsonObject)p.DeepClone();
        var r = new JsonObject();
        if (p["metadata"] is { } meta) r["metadata"] = meta.DeepClone();
        if (p["text"] is { } text) { r["kind"] = "text"; r["text"] = text.DeepClone(); }
        else if (p["file"] is JsonObject f)
        {
            r["kind"] = "file";
            var file = new JsonObject();
            foreach (var (k, v) in f)
                file[Camel(k) switch { "fileWithUri" => "uri", "fileWithBytes" => "bytes", var x => x }] = v?.DeepClone();
            r["file"] = file;
        }
        else if (p["data"] is JsonObject d)
        {
            r["kind"] = "data";
            r["data"] = (d["data"] is JsonObject inner ? inner : d).DeepClone();
        }
        else return (JsonObject)p.DeepClone(); // no kind, nothing recognisable: validation says so
        return r;
    }

    public static JsonObject ToPushConfig(JsonObject c)
    {
        var r = new JsonObject();
        foreach (var (k, v) in c) r[Camel(k)] = v?.DeepClone();
        return r;
    }

    /// <summary>
    /// The body of a push-config create in any of the shapes in use: the bare <c>PushNotificationConfig</c>,
    /// <c>{config: …}</c>, the full request (<c>parent</c>, <c>configId</c>, <c>config</c>) or a
    /// <c>TaskPushNotificationConfig</c> (<c>name</c>, <c>pushNotificationConfig</c>).
    /// </summary>
    public static JsonObject ToPushConfigFromCreate(JsonObject body)
    {
        var node = body;
        var configId = (body["configId"] ?? body["config_id"])?.GetValue<string>();
        if (node["config"] is JsonObject config) node = config;
        if ((node["pushNotificationConfig"] ?? node["push_notification_config"]) is JsonObject inner) node = inner;
        var r = ToPushConfig(node);
        if (configId is { Length: > 0 } && r["id"] is null) r["id"] = configId;
        return r;
    }

    static string Camel(string key)
    {
        if (!key.Contains('_')) return key;
        var parts = key.Split('_', StringSplitOptions.RemoveEmptyEntries);
        return parts[0] + string.Concat(parts.Skip(1).Select(p => char.ToUpperInvariant(p[0]) + p[1..]));
    }

    // ---------- writing ----------

    /// <summary>A stream/send result in proto JSON: <c>{task}|{message}|{statusUpdate}|{artifactUpdate}</c>.</summary>
    public static JsonObject Wrap(object a2a) => a2a switch
    {
        A2ATask t => new JsonObject { ["task"] = Task(t) },
        A2AMessage m => new JsonObject { ["message"] = Message(m) },
        TaskStatusUpdateEvent s => new JsonObject { ["statusUpdate"] = StatusUpdate(s) },
        TaskArtifactUpdateEvent a => new JsonObject { ["artifactUpdate"] = ArtifactUpdate(a) },
        _ => throw new ArgumentException("not an A2A stream object", nameof(a2a)),
    };

    public static JsonObject Task(A2ATask t)
    {
        var o = Node(t);
        o.Remove("kind");
        o["status"] = Status(t.Status);
        if (t.History is { } h) o["history"] = new JsonArray(h.Select(m => (JsonNode)Message(m)).ToArray());
        if (t.Artifacts is { } a) o["artifacts"] = new JsonArray(a.Select(x => (JsonNode)Artifact(x)).ToArray());
        return o;
    }

    public static JsonObject Message(A2AMessage m)
    {
        var o = Node(m);
        o.Remove("kind");
        o.Remove("parts");
        o["role"] = m.Role == A2ARoles.Agent ? "ROLE_AGENT" : "ROLE_USER";
        o["content"] = Parts(m.Parts);
        return o;
    }

    static JsonObject Status(A2ATaskStatus s)
    {
        var o = new JsonObject { ["state"] = State(s.State) };
        if (s.Message is { } m) o["message"] = Message(m);
        if (s.Timestamp is { } ts) o["timestamp"] = ts;
        return o;
    }

    static JsonObject StatusUpdate(TaskStatusUpdateEvent s)
    {
        var o = new JsonObject { ["taskId"] = s.TaskId, ["contextId"] = s.ContextId, ["status"] = Status(s.Status) };
        if (s.Final) o["final"] = true;
        if (s.Metadata is { } meta) o["metadata"] = meta.DeepClone();
        return o;
    }

    static JsonObject ArtifactUpdate(TaskArtifactUpdateEvent a)
    {
        var o = new JsonObject { ["taskId"] = a.TaskId, ["contextId"] = a.ContextId, ["artifact"] = Artifact(a.Artifact) };
        if (a.Append == true) o["append"] = true;
        if (a.LastChunk == true) o["lastChunk"] = true;
        return o;
    }

    static JsonObject Artifact(A2AArtifact a)
    {
        var o = Node(a);
        o["parts"] = Parts(a.Parts);
        return o;
    }

    static JsonArray Parts(List<A2APart> parts) => new(parts.Select(p => (JsonNode)Part(p)).ToArray());

    static JsonObject Part(A2APart p)
    {
        var o = p switch
        {
            TextPart t => new JsonObject { ["text"] = t.Text },
            FilePart f => new JsonObject
            {
                ["file"] = Drop(new JsonObject
                {
                    [f.File.Uri is not null ? "fileWithUri" : "fileWithBytes"] = f.File.Uri ?? f.File.Bytes,
                    ["mimeType"] = f.File.MimeType,
                    ["name"] = f.File.Name,
                }),
            },
            DataPart d => new JsonObject { ["data"] = new JsonObject { ["data"] = d.Data.DeepClone() } },
            _ => new JsonObject(),
        };
        if (p.Metadata is { } meta) o["metadata"] = meta.DeepClone();
        return o;
    }

    static JsonObject Drop(JsonObject o)
    {
        foreach (var k in o.Where(kv => kv.Value is null).Select(kv => kv.Key).ToList()) o.Remove(k);
        return o;
    }

    public static string State(string state) => state switch
    {
        A2ATaskStates.Canceled => "TASK_STATE_CANCELLED",
        A2ATaskStates.Unknown => "TASK_STATE_UNSPECIFIED",
        _ => "TASK_STATE_" + state.Replace('-', '_').ToUpperInvariant(),
    };

    /// <summary>A push config in the proto shape: <c>{name: "tasks/{id}/pushNotificationConfigs/{cid}", pushNotificationConfig}</c>.</summary>
    public static JsonObject PushConfig(TaskPushNotificationConfig c) => new()
    {
        ["name"] = $"tasks/{c.TaskId}/pushNotificationConfigs/{c.PushNotificationConfig.Id}",
        ["pushNotificationConfig"] = Node(c.PushNotificationConfig),
    };

    static JsonObject Node<T>(T value) => (JsonObject)JsonSerializer.SerializeToNode(value, A2AJson.Options)!;
}
