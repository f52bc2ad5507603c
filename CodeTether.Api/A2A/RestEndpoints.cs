using System.Text.Json;
using System.Text.Json.Nodes;
using CodeTether.Api.Auth;
using CodeTether.Api.Persistence;
using CodeTether.Shared.A2A;
using Microsoft.Extensions.Options;

namespace CodeTether.Api.A2A;

/// <summary>
/// HTTP+JSON binding under <c>/a2a/rest</c> (paths of <c>a2a.proto</c> v0.3): the same <see cref="A2AService"/> calls as
/// JSON-RPC. Errors are <c>{code, message, data?}</c> with the HTTP status the SDKs use (400, 404, 409, 403, 413, 500).
/// </summary>
public static partial class RestEndpoints
{
    public static void Map(RouteGroupBuilder rest)
    {
        rest.MapPost("/v1/message:send", Send).RequirePermission(Permission.TasksWrite).WithName("A2ARestSend");
        rest.MapPost("/v1/message:stream", Stream).RequirePermission(Permission.TasksWrite).WithName("A2ARestStream");
        rest.MapGet("/v1/card", Card).RequirePermission(Permission.TasksRead).WithName("A2ARestCard");
        // {id}, {id}:cancel, {id}:subscribe share one segment: split it here rather than trust route precedence with colons.
        rest.MapGet("/v1/tasks/{idAndVerb}", GetOrSubscribe).RequirePermission(Permission.TasksRead).WithName("A2ARestGetTask");
        rest.MapPost("/v1/tasks/{idAndVerb}", CancelOrSubscribe).RequirePermission(Permission.TasksRead).WithName("A2ARestTaskAction");
        rest.MapPost("/v1/tasks/{taskId}/pushNotificationConfigs", SetPush).RequirePermission(Permission.TasksWrite).WithName("A2ARestSetPush");
        rest.MapGet("/v1/tasks/{taskId}/pushNotificationConfigs", ListPush).RequirePermission(Permission.TasksRead).WithName("A2ARestListPush");
        rest.MapGet("/v1/tasks/{taskId}/pushNotificationConfigs/{configId}", GetPush).RequirePermission(Permission.TasksRead).WithName("A2ARestGetPush");
        rest.MapDelete("/v1/tasks/{taskId}/pushNotificationConfigs/{configId}", DeletePush).RequirePermission(Permission.TasksWrite).WithName("A2ARestDeletePush");
    }

    static Task Send(HttpContext http, A2AService a2a, IOptions<A2AOptions> o) => Run(http, async () =>
    {
        var (p, kindForm) = await ReadSendAsync(http, o.Value);
        var task = await a2a.SendAsync(p, http.RequestAborted);
        return kindForm ? JsonSerializer.SerializeToNode(task, A2AJson.Options) : ProtoJson.Wrap(task);
    });

    static async Task Stream(HttpContext http, A2AService a2a, IOptions<A2AOptions> o)
    {
        string taskId;
        MessageSendParams p;
        bool kindForm;
        try
        {
            (p, kindForm) = await ReadSendAsync(http, o.Value);
            taskId = await a2a.AcceptMessageAsync(p, http.RequestAborted);
        }
        catch (A2AException ex) { await WriteErrorAsync(http, ex); return; }
        await StreamTaskAsync(http, a2a, taskId, 0, p.Configuration?.HistoryLength, kindForm);
    }

    static Task GetOrSubscribe(HttpContext http, string idAndVerb, int? historyLength, A2AService a2a) =>
        Verb(idAndVerb) switch
        {
            (var id, null) => Run(http, async () =>
            {
                var history = historyLength ?? IntQuery(http, "history_length");
                return ProtoJson.Task(await a2a.GetAsync(id, history, http.RequestAborted));
            }),
            (var id, "subscribe") => Subscribe(http, a2a, id),
            (_, var verb) => WriteErrorAsync(http, new A2AException(A2AErrorCodes.MethodNotFound, $"Method not found: GET :{verb}")),
        };

    static Task CancelOrSubscribe(HttpContext http, string idAndVerb, A2AService a2a) =>
        Verb(idAndVerb) switch
        {
            (var id, "cancel") => Run(http, async () =>
            {
                RequireWrite(http, "cancel");
                return ProtoJson.Task(await a2a.CancelAsync(id, http.RequestAborted));
            }),
            (var id, "subscribe") => Subscribe(http, a2a, id),
            (_, var verb) => WriteErrorAsync(http, new A2AException(A2AErrorCodes.MethodNotFound, $"Method not found: POST :{verb ?? "(none)"}")),
        };

    static async Task Subscribe(HttpContext http, A2AService a2a, string id)
    {
        try { await a2a.EnsureExistsAsync(id, http.RequestAborted); }
        catch (A2AException ex) { await WriteErrorAsync(http, ex); return; }
        await StreamTaskAsync(http, a2a, id, Realtime.SseItems.LastEventId(http.Request), null, kindForm: false);
    }

    static Task StreamTaskAsync(HttpContext http, A2AService a2a, string taskId, long after, int? historyLength, bool kindForm) =>
        A2AHttp.WriteSseAsync(http, A2AHttp.AnnounceQueued(a2a.FollowAsync(taskId, after, historyLength, http.RequestAborted)),
            e => kindForm ? e : ProtoJson.Wrap(e),
            ex => new JsonObject { ["error"] = new JsonObject { ["code"] = ex.Code, ["message"] = ex.Message } });

    static Task Card(HttpContext http, AgentCards cards, CodeTetherDb db) =>
        Run(http, async () => JsonSerializer.SerializeToNode(await cards.ExtendedAsync(http.Request, db, http.RequestAborted), A2AJson.Options));

    static Task SetPush(HttpContext http, string taskId, PushConfigs push, IOptions<A2AOptions> o) => Run(http, async () =>
    {
        var body = await ReadObjectAsync(http, o.Value);
        var config = Bind<PushNotificationConfig>(ProtoJson.ToPushConfigFromCreate(body));
        return ProtoJson.PushConfig(await push.SetAsync(taskId, config, http.RequestAborted));
    });

    static Task ListPush(HttpContext http, string taskId, PushConfigs push) => Run(http, async () =>
        new JsonObject { ["configs"] = new JsonArray((await push.ListAsync(taskId, http.RequestAborted)).Select(c => (JsonNode)ProtoJson.PushConfig(c)).ToArray()) });

    static Task GetPush(HttpContext http, string taskId, string configId, PushConfigs push) =>
        Run(http, async () => ProtoJson.PushConfig(await push.GetAsync(taskId, configId, http.RequestAborted)));

    static Task DeletePush(HttpContext http, string taskId, string configId, PushConfigs push) => Run(http, async () =>
    {
        await push.DeleteAsync(taskId, configId, http.RequestAborted);
        return null;
    });

    // ---------- plumbing ----------

    static (string Id, string? Verb) Verb(string idAndVerb)
    {
        var i = idAndVerb.LastIndexOf(':');
        return i < 0 ? (idAndVerb, null) : (idAndVerb[..i], idAndVerb[(i + 1)..]);
    }

    static int? IntQuery(HttpContext http, string name) =>
        int.TryParse(http.Request.Query[name].FirstOrDefault(), out var n) ? n : null;

    static void RequireWrite(HttpContext http, string what)
    {
        if (!Permissions.Grants(http.User.FindAll(CodeTetherClaims.Role).Select(c => c.Value), Permission.TasksWrite))
            throw A2AException.Forbidden(what);
    }

    static async Task<(MessageSendParams, bool KindForm)> ReadSendAsync(HttpContext http, A2AOptions o)
    {
        var body = await ReadObjectAsync(http, o);
        var p = ProtoJson.ToSendParams(body, out var kindForm);
        return (Bind<MessageSendParams>(p), kindForm);
    }

    static async Task<JsonObject> ReadObjectAsync(HttpContext http, A2AOptions o)
    {
        var (bytes, tooLarge) = await A2AHttp.ReadBodyAsync(http.Request, o.MaxRequestBytes, http.RequestAborted);
        if (tooLarge) throw new A2AException(A2AErrorCodes.InvalidRequest, $"Request payload too large (limit {o.MaxRequestBytes} bytes).");
        try
        {
            return JsonNode.Parse(bytes, documentOptions: new JsonDocumentOptions { MaxDepth = 64 }) as JsonObject
                ?? throw new A2AException(A2AErrorCodes.InvalidRequest, "Request payload validation error: the body must be a JSON object");
        }
        catch (JsonException) { throw new A2AException(A2AErrorCodes.ParseError, "Invalid JSON payload"); }
    }

    static T Bind<T>(JsonObject node) where T : class
    {
        try { return node.Deserialize<T>(A2AJson.Options) ?? throw A2AException.InvalidParams("the body is empty"); }
        catch (JsonException ex) { throw A2AException.InvalidParams(ex.Path is { Length: > 0 } p ? $"{p.TrimStart('$', '.')}: invalid or missing" : ex.Message); }
        catch (NotSupportedException) { throw A2AException.InvalidParams("every part needs one of text, file or data"); }
    }

    static async Task Run(HttpContext http, Func<Task<JsonNode?>> body)
    {
        try
        {
            var result = await body();
            if (result is null) { http.Response.StatusCode = StatusCodes.Status204NoContent; return; }
            http.Response.ContentType = "application/json";
            await http.Response.WriteAsync(result.ToJsonString(A2AJson.Options), http.RequestAborted);
        }
        catch (A2AException ex) { await WriteErrorAsync(http, ex); }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.Failed(http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(RestEndpoints)), http.Request.Path, ex);
            await WriteErrorAsync(http, new A2AException(A2AErrorCodes.InternalError, "Internal error"));
        }
    }

    static async Task WriteErrorAsync(HttpContext http, A2AException ex)
    {
        http.Response.StatusCode = ex.Code switch
        {
            A2AErrorCodes.ParseError or A2AErrorCodes.InvalidParams or A2AErrorCodes.PushNotificationNotSupported
                or A2AErrorCodes.UnsupportedOperation or A2AErrorCodes.ContentTypeNotSupported => 400,
            A2AErrorCodes.InvalidRequest when ex.Message.StartsWith("Request payload too large", StringComparison.Ordinal) => 413,
            A2AErrorCodes.InvalidRequest => 400,
            A2AErrorCodes.MethodNotFound or A2AErrorCodes.TaskNotFound => 404,
            A2AErrorCodes.TaskNotCancelable => 409,
            A2AErrorCodes.Forbidden => 403,
            _ => 500,
        };
        http.Response.ContentType = "application/json";
        var error = new JsonObject { ["code"] = ex.Code, ["message"] = ex.Message };
        if (ex.ErrorData is { } d) error["data"] = d.DeepClone();
        await http.Response.WriteAsync(error.ToJsonString(), http.RequestAborted);
    }

    static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Error, Message = "A2A REST call {Path} failed")]
        public static partial void Failed(ILogger logger, string path, Exception ex);
    }
}
