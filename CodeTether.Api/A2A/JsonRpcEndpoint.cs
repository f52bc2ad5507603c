using System.Text.Json;
using System.Text.Json.Nodes;
using CodeTether.Api.Auth;
using CodeTether.Api.Persistence;
using CodeTether.Shared.A2A;
using Microsoft.Extensions.Options;

namespace CodeTether.Api.A2A;

/// <summary>
/// JSON-RPC 2.0 binding (<c>POST /a2a/jsonrpc</c> and <c>POST /</c>): one request, a batch, or a notification; one
/// <c>switch</c> on the method. Every JSON-RPC error is answered with HTTP 200 (413 for an oversized body, 403 for a
/// method the caller's role does not allow); authentication failures are 401 before any JSON-RPC processing.
/// </summary>
public static partial class JsonRpcEndpoint
{
    const int MaxBatch = 100;

    static readonly HashSet<string> WriteMethods =
    [
        "message/send", "message/stream", "tasks/cancel", "tasks/pushNotificationConfig/set", "tasks/pushNotificationConfig/delete",
    ];

    sealed record Call(JsonNode? Id, bool IsNotification, string Method, JsonObject? Params);

    public static async Task HandleAsync(HttpContext http, A2AService a2a, IOptions<A2AOptions> options, ILoggerFactory logs)
    {
        var ct = http.RequestAborted;
        var (body, tooLarge) = await A2AHttp.ReadBodyAsync(http.Request, options.Value.MaxRequestBytes, ct);
        if (tooLarge)
        {
            await WriteAsync(http, Error(null, A2AErrorCodes.InvalidRequest, $"Request payload too large (limit {options.Value.MaxRequestBytes} bytes)."), 413);
            return;
        }
        JsonNode? root;
        try { root = JsonNode.Parse(body, documentOptions: new JsonDocumentOptions { MaxDepth = 64 }); }
        catch (JsonException) { await WriteAsync(http, Error(null, A2AErrorCodes.ParseError, "Invalid JSON payload")); return; }

        var log = logs.CreateLogger(typeof(JsonRpcEndpoint));
        if (root is JsonArray batch)
        {
            if (batch.Count == 0) { await WriteAsync(http, Error(null, A2AErrorCodes.InvalidRequest, "Request payload validation error: empty batch")); return; }
            if (batch.Count > MaxBatch) { await WriteAsync(http, Error(null, A2AErrorCodes.InvalidRequest, $"Request payload validation error: at most {MaxBatch} calls per batch")); return; }
            var responses = new List<JsonRpcResponse>();
            foreach (var item in batch)
            {
                var response = Parse(item, out var call);
                if (call is not null)
                    response = call.Method is "message/stream" or "tasks/resubscribe"
                        ? Error(call.Id, A2AErrorCodes.InvalidRequest, $"Request payload validation error: {call.Method} streams and cannot be part of a batch")
                        : await InvokeAsync(http, a2a, call, log);
                if (response is not null && call is not { IsNotification: true }) responses.Add(response);
            }
            if (responses.Count == 0) { http.Response.StatusCode = StatusCodes.Status204NoContent; return; }
            http.Response.ContentType = "application/json";
            await JsonSerializer.SerializeAsync(http.Response.Body, responses, A2AJson.Options, ct);
            return;
        }

        var single = Parse(root, out var one);
        if (one is null) { await WriteAsync(http, single!); return; }
        if (one.Method is "message/stream" or "tasks/resubscribe" && !one.IsNotification)
        {
            await StreamAsync(http, a2a, one, log);
            return;
        }
        var result = await InvokeAsync(http, a2a, one, log);
        if (one.IsNotification) { http.Response.StatusCode = StatusCodes.Status204NoContent; return; }
        await WriteAsync(http, result, result.Error?.Code == A2AErrorCodes.Forbidden ? 403 : 200);
    }

    /// <summary>Checks the envelope: an error response, or the call.</summary>
    static JsonRpcResponse? Parse(JsonNode? node, out Call? call)
    {
        call = null;
        if (node is not JsonObject o) return Error(null, A2AErrorCodes.InvalidRequest, "Request payload validation error: a request must be a JSON object");
        var hasId = o.TryGetPropertyValue("id", out var id);
        if (hasId && id is not null && !(id is JsonValue v && (v.GetValueKind() == JsonValueKind.String || v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<long>(out _))))
            return Error(null, A2AErrorCodes.InvalidRequest, "Request payload validation error: id must be a string or an integer");
        var replyId = id?.DeepClone();
        if (o["jsonrpc"] is not JsonValue ver || ver.GetValueKind() != JsonValueKind.String || ver.GetValue<string>() != "2.0")
            return Error(replyId, A2AErrorCodes.InvalidRequest, "Request payload validation error: jsonrpc must be \"2.0\"");
        if (o["method"] is not JsonValue m || m.GetValueKind() != JsonValueKind.String || m.GetValue<string>() is not { Length: > 0 } method)
            return Error(replyId, A2AErrorCodes.InvalidRequest, "Request payload validation error: method must be a non-empty string");
        if (o.TryGetPropertyValue("params", out var p) && p is not null and not JsonObject)
        {
            // A2A params are always by name; tell whether the method exists first.
            if (!IsKnown(method)) return Error(replyId, A2AErrorCodes.MethodNotFound, $"Method not found: {method}");
            return Error(replyId, A2AErrorCodes.InvalidParams, "Invalid parameters: params must be an object");
        }
        call = new Call(replyId, !hasId, method, p as JsonObject);
        return null;
    }

    static bool IsKnown(string method) => method is "message/send" or "message/stream" or "tasks/get" or "tasks/cancel" or "tasks/resubscribe"
        or "tasks/pushNotificationConfig/set" or "tasks/pushNotificationConfig/get" or "tasks/pushNotificationConfig/list"
        or "tasks/pushNotificationConfig/delete" or "agent/getAuthenticatedExtendedCard";

    static async Task<JsonRpcResponse> InvokeAsync(HttpContext http, A2AService a2a, Call call, ILogger log)
    {
        var ct = http.RequestAborted;
        try
        {
            if (!IsKnown(call.Method)) return Error(call.Id, A2AErrorCodes.MethodNotFound, $"Method not found: {call.Method}");
            Authorize(http, call.Method);
            var sp = http.RequestServices;
            object? result = call.Method switch
            {
                "message/send" => await a2a.SendAsync(Bind<MessageSendParams>(call), ct),
                "tasks/get" => await GetAsync(a2a, Bind<TaskQueryParams>(call), ct),
                "tasks/cancel" => await a2a.CancelAsync(Bind<TaskIdParams>(call).Id, ct),
                "tasks/pushNotificationConfig/set" => await SetPushAsync(sp.GetRequiredService<PushConfigs>(), Bind<TaskPushNotificationConfig>(call), ct),
                "tasks/pushNotificationConfig/get" => await GetPushAsync(sp.GetRequiredService<PushConfigs>(), Bind<GetTaskPushNotificationConfigParams>(call), ct),
                "tasks/pushNotificationConfig/list" => await sp.GetRequiredService<PushConfigs>().ListAsync(Bind<TaskIdParams>(call).Id, ct),
                "tasks/pushNotificationConfig/delete" => await DeletePushAsync(sp.GetRequiredService<PushConfigs>(), Bind<DeleteTaskPushNotificationConfigParams>(call), ct),
                "agent/getAuthenticatedExtendedCard" => await sp.GetRequiredService<AgentCards>().ExtendedAsync(http.Request, sp.GetRequiredService<CodeTetherDb>(), ct),
                _ => throw new A2AException(A2AErrorCodes.UnsupportedOperation, $"{call.Method} streams: send it alone, not as a notification"),
            };
            return new JsonRpcResponse { Id = call.Id, Result = result, HasResult = true };
        }
        catch (A2AException ex) { return new JsonRpcResponse { Id = call.Id, Error = ex.ToError() }; }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { throw; }
        catch (Exception ex)
        {
            Log.Failed(log, call.Method, ex);
            return Error(call.Id, A2AErrorCodes.InternalError, "Internal error");
        }
    }

    static Task<A2ATask> GetAsync(A2AService a2a, TaskQueryParams p, CancellationToken ct) => a2a.GetAsync(p.Id, p.HistoryLength, ct);

    static Task<TaskPushNotificationConfig> SetPushAsync(PushConfigs push, TaskPushNotificationConfig p, CancellationToken ct) =>
        push.SetAsync(p.TaskId, p.PushNotificationConfig, ct);

    static Task<TaskPushNotificationConfig> GetPushAsync(PushConfigs push, GetTaskPushNotificationConfigParams p, CancellationToken ct) =>
        push.GetAsync(p.Id, p.PushNotificationConfigId, ct);

    static async Task<object?> DeletePushAsync(PushConfigs push, DeleteTaskPushNotificationConfigParams p, CancellationToken ct)
    {
        await push.DeleteAsync(p.Id, p.PushNotificationConfigId, ct);
        return null;
    }

    static async Task StreamAsync(HttpContext http, A2AService a2a, Call call, ILogger log)
    {
        var ct = http.RequestAborted;
        string taskId;
        int? historyLength = null;
        try
        {
            Authorize(http, call.Method);
            if (call.Method == "message/stream")
            {
                var p = Bind<MessageSendParams>(call);
                taskId = await a2a.AcceptMessageAsync(p, ct);
                historyLength = p.Configuration?.HistoryLength;
            }
            else
            {
                taskId = Bind<TaskIdParams>(call).Id;
                await a2a.EnsureExistsAsync(taskId, ct);
            }
        }
        catch (A2AException ex)
        {
            var r = new JsonRpcResponse { Id = call.Id, Error = ex.ToError() };
            await WriteAsync(http, r, ex.Code == A2AErrorCodes.Forbidden ? 403 : 200);
            return;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.Failed(log, call.Method, ex);
            await WriteAsync(http, Error(call.Id, A2AErrorCodes.InternalError, "Internal error"));
            return;
        }
        var after = call.Method == "tasks/resubscribe" ? Realtime.SseItems.LastEventId(http.Request) : 0;
        await A2AHttp.WriteSseAsync(http, A2AHttp.AnnounceQueued(a2a.FollowAsync(taskId, after, historyLength, ct)),
            e => new JsonRpcResponse { Id = call.Id, Result = e, HasResult = true },
            ex => new JsonRpcResponse { Id = call.Id, Error = ex.ToError() });
    }

    static void Authorize(HttpContext http, string method)
    {
        if (WriteMethods.Contains(method) &&
            !Permissions.Grants(http.User.FindAll(CodeTetherClaims.Role).Select(c => c.Value), Permission.TasksWrite))
            throw A2AException.Forbidden(method);
    }

    static T Bind<T>(Call call) where T : class
    {
        if (call.Params is null) throw A2AException.InvalidParams("params are required");
        try
        {
            return call.Params.Deserialize<T>(A2AJson.Options) ?? throw A2AException.InvalidParams("params are required");
        }
        catch (JsonException ex) { throw A2AException.InvalidParams(Describe(ex)); }
        catch (NotSupportedException) { throw A2AException.InvalidParams("every part needs a kind: \"text\", \"file\" or \"data\""); }
        catch (InvalidOperationException ex) { throw A2AException.InvalidParams(ex.Message); }
    }

    static string Describe(JsonException ex)
    {
        var path = ex.Path is { Length: > 1 } p ? p.TrimStart('$', '.') : null;
        var missing = ex.Message.IndexOf("missing required properties including: ", StringComparison.Ordinal);
        if (missing >= 0)
        {
            var names = ex.Message[(missing + "missing required properties including: ".Length)..].TrimEnd('.');
            return path is null ? $"missing required field(s) {names}" : $"{path}: missing required field(s) {names}";
        }
        if (ex.Message.Contains("type discriminator", StringComparison.OrdinalIgnoreCase))
            return $"{path ?? "part"}: kind must be \"text\", \"file\" or \"data\"";
        return path is null ? "malformed params" : $"{path}: missing, null or of the wrong type";
    }

    static JsonRpcResponse Error(JsonNode? id, int code, string message) =>
        new() { Id = id, Error = new JsonRpcError { Code = code, Message = message } };

    static async Task WriteAsync(HttpContext http, JsonRpcResponse response, int status = 200)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json";
        await JsonSerializer.SerializeAsync(http.Response.Body, response, A2AJson.Options, http.RequestAborted);
    }

    static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Error, Message = "A2A JSON-RPC method {Method} failed")]
        public static partial void Failed(ILogger logger, string method, Exception ex);
    }
}
