using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace CodeTether.Shared.A2A;

// A2A protocol v0.3.0 data objects (a2aproject/A2A types/src/types.ts). camelCase JSON through A2AJson;
// every union is told apart by `kind`.

public static class A2AKinds
{
    public const string Message = "message";
    public const string Task = "task";
    public const string StatusUpdate = "status-update";
    public const string ArtifactUpdate = "artifact-update";
}

public static class A2ARoles
{
    public const string User = "user";
    public const string Agent = "agent";
}

public static class A2ATaskStates
{
    public const string Submitted = "submitted";
    public const string Working = "working";
    public const string InputRequired = "input-required";
    public const string Completed = "completed";
    public const string Canceled = "canceled";
    public const string Failed = "failed";
    public const string Rejected = "rejected";
    public const string AuthRequired = "auth-required";
    public const string Unknown = "unknown";

    public static bool IsTerminal(string s) => s is Completed or Canceled or Failed or Rejected;
    public static bool IsInterrupted(string s) => s is InputRequired or AuthRequired;
    /// <summary>The last event of a stream: terminal or interrupted.</summary>
    public static bool IsFinal(string s) => IsTerminal(s) || IsInterrupted(s);
}

public sealed record A2AMessage
{
    public string Kind { get; init; } = A2AKinds.Message;
    public required string Role { get; init; }
    public required List<A2APart> Parts { get; init; }
    public required string MessageId { get; init; }
    public string? TaskId { get; init; }
    public string? ContextId { get; init; }
    public List<string>? ReferenceTaskIds { get; init; }
    public List<string>? Extensions { get; init; }
    public JsonObject? Metadata { get; init; }
}

[JsonPolymorphic(TypeDiscriminatorPropertyName = "kind")]
[JsonDerivedType(typeof(TextPart), "text")]
[JsonDerivedType(typeof(FilePart), "file")]
[JsonDerivedType(typeof(DataPart), "data")]
public abstract record A2APart
{
    public JsonObject? Metadata { get; init; }
}

public sealed record TextPart : A2APart
{
    public required string Text { get; init; }
}

public sealed record FilePart : A2APart
{
    public required A2AFile File { get; init; }
}

/// <summary><c>FileWithBytes</c> or <c>FileWithUri</c>: exactly one of <see cref="Bytes"/> (base64) and <see cref="Uri"/>.</summary>
public sealed record A2AFile
{
    public string? Bytes { get; init; }
    public string? Uri { get; init; }
    public string? Name { get; init; }
    public string? MimeType { get; init; }
}

public sealed record DataPart : A2APart
{
    public required JsonObject Data { get; init; }
}

public sealed record A2ATask
{
    public string Kind { get; init; } = A2AKinds.Task;
    public required string Id { get; init; }
    public required string ContextId { get; init; }
    public required A2ATaskStatus Status { get; init; }
    public List<A2AMessage>? History { get; init; }
    public List<A2AArtifact>? Artifacts { get; init; }
    public JsonObject? Metadata { get; init; }
}

public sealed record A2ATaskStatus
{
    public required string State { get; init; }
    public A2AMessage? Message { get; init; }
    public string? Timestamp { get; init; }
}

public sealed record A2AArtifact
{
    public required string ArtifactId { get; init; }
    public string? Name { get; init; }
    public string? Description { get; init; }
    public required List<A2APart> Parts { get; init; }
    public JsonObject? Metadata { get; init; }
    public List<string>? Extensions { get; init; }
}

public sealed record TaskStatusUpdateEvent
{
    public string Kind { get; init; } = A2AKinds.StatusUpdate;
    public required string TaskId { get; init; }
    public required string ContextId { get; init; }
    public required A2ATaskStatus Status { get; init; }
    public bool Final { get; init; }
    public JsonObject? Metadata { get; init; }
}

public sealed record TaskArtifactUpdateEvent
{
    public string Kind { get; init; } = A2AKinds.ArtifactUpdate;
    public required string TaskId { get; init; }
    public required string ContextId { get; init; }
    public required A2AArtifact Artifact { get; init; }
    public bool? Append { get; init; }
    public bool? LastChunk { get; init; }
    public JsonObject? Metadata { get; init; }
}

public sealed record PushNotificationAuthenticationInfo
{
    public required List<string> Schemes { get; init; }
    public string? Credentials { get; init; }
}

public sealed record PushNotificationConfig
{
    public string? Id { get; init; }
    public required string Url { get; init; }
    public string? Token { get; init; }
    public PushNotificationAuthenticationInfo? Authentication { get; init; }
}

public sealed record TaskPushNotificationConfig
{
    public required string TaskId { get; init; }
    public required PushNotificationConfig PushNotificationConfig { get; init; }
}

// ---- method params ----

public sealed record MessageSendConfiguration
{
    public List<string>? AcceptedOutputModes { get; init; }
    public int? HistoryLength { get; init; }
    public PushNotificationConfig? PushNotificationConfig { get; init; }
    public bool? Blocking { get; init; }
}

public sealed record MessageSendParams
{
    public required A2AMessage Message { get; init; }
    public MessageSendConfiguration? Configuration { get; init; }
    public JsonObject? Metadata { get; init; }
}

public sealed record TaskQueryParams
{
    public required string Id { get; init; }
    public int? HistoryLength { get; init; }
    public JsonObject? Metadata { get; init; }
}

public sealed record TaskIdParams
{
    public required string Id { get; init; }
    public JsonObject? Metadata { get; init; }
}

public sealed record GetTaskPushNotificationConfigParams
{
    public required string Id { get; init; }
    public string? PushNotificationConfigId { get; init; }
    public JsonObject? Metadata { get; init; }
}

public sealed record DeleteTaskPushNotificationConfigParams
{
    public required string Id { get; init; }
    public required string PushNotificationConfigId { get; init; }
    public JsonObject? Metadata { get; init; }
}

// ---- agent card ----

public sealed record AgentCard
{
    public string ProtocolVersion { get; init; } = "0.3.0";
    public required string Name { get; init; }
    public required string Description { get; init; }
    public required string Url { get; init; }
    public string PreferredTransport { get; init; } = A2ATransports.JsonRpc;
    public List<AgentInterface>? AdditionalInterfaces { get; init; }
    public AgentProvider? Provider { get; init; }
    public string? DocumentationUrl { get; init; }
    public required string Version { get; init; }
    public required AgentCapabilities Capabilities { get; init; }
    public Dictionary<string, JsonObject>? SecuritySchemes { get; init; }
    public List<Dictionary<string, List<string>>>? Security { get; init; }
    public required List<string> DefaultInputModes { get; init; }
    public required List<string> DefaultOutputModes { get; init; }
    public required List<AgentSkill> Skills { get; init; }
    public bool SupportsAuthenticatedExtendedCard { get; init; }
}

public static class A2ATransports
{
    public const string JsonRpc = "JSONRPC";
    public const string HttpJson = "HTTP+JSON";
}

public sealed record AgentInterface(string Url, string Transport);

public sealed record AgentProvider(string Organization, string Url);

public sealed record AgentCapabilities
{
    public bool Streaming { get; init; }
    public bool PushNotifications { get; init; }
    public bool StateTransitionHistory { get; init; }
}

public sealed record AgentSkill
{
    public required string Id { get; init; }
    public required string Name { get; init; }
    public required string Description { get; init; }
    public required List<string> Tags { get; init; }
    public List<string>? Examples { get; init; }
    public List<string>? InputModes { get; init; }
    public List<string>? OutputModes { get; init; }
}

// ---- JSON-RPC 2.0 ----

public sealed record JsonRpcError
{
    public required int Code { get; init; }
    public required string Message { get; init; }
    public JsonNode? Data { get; init; }
}

/// <summary>A response: exactly one of result and error (result may be JSON null, e.g. after delete).</summary>
public sealed class JsonRpcResponse
{
    public string Jsonrpc { get; init; } = "2.0";
    /// <summary>The request's id, same JSON type; null when it could not be read.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public JsonNode? Id { get; init; }
    public JsonRpcError? Error { get; init; }
    [JsonIgnore] public bool HasResult { get; init; }
    [JsonIgnore] public object? Result { get; init; }
}

/// <summary>The error codes of JSON-RPC 2.0 and A2A v0.3 (§8 of the specification).</summary>
public static class A2AErrorCodes
{
    public const int ParseError = -32700;
    public const int InvalidRequest = -32600;
    public const int MethodNotFound = -32601;
    public const int InvalidParams = -32602;
    public const int InternalError = -32603;
    public const int TaskNotFound = -32001;
    public const int TaskNotCancelable = -32002;
    public const int PushNotificationNotSupported = -32003;
    public const int UnsupportedOperation = -32004;
    public const int ContentTypeNotSupported = -32005;
    public const int InvalidAgentResponse = -32006;
    public const int AuthenticatedExtendedCardNotConfigured = -32007;
    /// <summary>CodeTether's own (server range): the caller's role does not allow the method. Sent with HTTP 403.</summary>
    public const int Forbidden = -32010;
}

public static class A2AJson
{
    public static JsonSerializerOptions Options { get; } = Create();

    static JsonSerializerOptions Create()
    {
        var o = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            AllowOutOfOrderMetadataProperties = true,
            RespectNullableAnnotations = true,
            PropertyNameCaseInsensitive = false,
            NumberHandling = JsonNumberHandling.Strict,
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        };
        o.Converters.Add(new JsonRpcResponseConverter());
        o.MakeReadOnly(populateMissingResolver: true);
        return o;
    }

    sealed class JsonRpcResponseConverter : JsonConverter<JsonRpcResponse>
    {
        public override JsonRpcResponse Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            throw new NotSupportedException("Responses are only written.");

        public override void Write(Utf8JsonWriter w, JsonRpcResponse value, JsonSerializerOptions options)
        {
            w.WriteStartObject();
            w.WriteString("jsonrpc", "2.0");
            w.WritePropertyName("id");
            if (value.Id is null) w.WriteNullValue(); else value.Id.WriteTo(w, options);
            if (value.Error is not null)
            {
                w.WritePropertyName("error");
                JsonSerializer.Serialize(w, value.Error, options);
            }
            else
            {
                w.WritePropertyName("result");
                if (value.Result is null) w.WriteNullValue();
                else JsonSerializer.Serialize(w, value.Result, value.Result.GetType(), options);
            }
            w.WriteEndObject();
        }
    }
}
