using System.Collections.Concurrent;
using System.Text.Json;
using System.Threading.Channels;
using CodeTether.Shared.Contracts;
using CodeTether.Shared.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CodeTether.Worker.Tests.Fakes;

/// <summary>One request the double received.</summary>
public sealed record RecordedRequest(string Route, string Method, string Path, string Query,
    IReadOnlyDictionary<string, string> Headers, string Body)
{
    public string? Header(string name) => Headers.TryGetValue(name, out var v) ? v : null;
    public JsonElement Json => JsonDocument.Parse(Body).RootElement;
    public T Read<T>() => JsonSerializer.Deserialize<T>(Body, CodeTetherJson.Options)!;
}

/// <summary>
/// An honest double of the CodeTether worker protocol on a real Kestrel socket (127.0.0.1, random port): the paths,
/// bodies and status codes of DESIGN.md, with per-route behaviour the test can replace, and every request recorded.
/// </summary>
public sealed class FakeCodeTetherServer : IAsyncDisposable
{
    public const long FencingToken = 42;

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, Channel<RecordedRequest>> _requests = new();
    private readonly ConcurrentDictionary<string, Func<RecordedRequest, IResult>> _handlers = new();
    private readonly Channel<StreamConnection> _streams = Channel.CreateUnbounded<StreamConnection>();
    private readonly ConcurrentQueue<RecordedRequest> _all = new();

    private FakeCodeTetherServer(WebApplication app)
    {
        _app = app;
    }

    public Uri Url { get; private set; } = null!;

    /// <summary>Tasks the double knows, returned by claim.</summary>
    public ConcurrentDictionary<string, TaskDto> Tasks { get; } = new();

    public IReadOnlyCollection<RecordedRequest> All => _all;

    public static async Task<FakeCodeTetherServer> StartAsync(CancellationToken ct)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = ["--urls", "http://127.0.0.1:0"] });
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new FakeCodeTetherServer(app);
        server.Map();
        await app.StartAsync(ct);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!
            .Addresses.First();
        server.Url = new Uri(address);
        return server;
    }

    /// <summary>Replaces the behaviour of one route (names: see <see cref="Map"/>).</summary>
    public void Handle(string route, Func<RecordedRequest, IResult> handler) => _handlers[route] = handler;

    /// <summary>The next request to <paramref name="route"/> (requests are queued per route, none is missed).</summary>
    public async Task<RecordedRequest> NextAsync(string route, CancellationToken ct) =>
        await Queue(route).Reader.ReadAsync(ct);

    /// <summary>The next stream connection the worker opened.</summary>
    public async Task<StreamConnection> NextStreamAsync(CancellationToken ct) => await _streams.Reader.ReadAsync(ct);

    public static TaskDto NewTask(string id, string prompt = "echo hello", string codebaseId = "global") => new()
    {
        Id = id,
        CodebaseId = codebaseId,
        Title = "task " + id,
        Prompt = prompt,
        Agent = AgentNames.Build,
        Status = TaskStatuses.Routed,
        Attempt = 1,
        MaxAttempts = 3,
        CreatedAt = DateTimeOffset.UtcNow,
        UpdatedAt = DateTimeOffset.UtcNow,
    };

    public static IResult Problem(int status, string title, string? detail = null) =>
        Results.Problem(title: title, detail: detail, statusCode: status, type: "https://codetether.dev/problems/test");

    private Channel<RecordedRequest> Queue(string route) =>
        _requests.GetOrAdd(route, _ => Channel.CreateUnbounded<RecordedRequest>());

    private void Map()
    {
        Route("POST", "/v1/agent/workers/register", "register", r =>
        {
            var body = r.Read<RegisterWorkerRequest>();
            return Json(new WorkerDto
            {
                WorkerId = body.WorkerId!,
                Name = body.Name ?? body.WorkerId!,
                Hostname = body.Hostname,
                Status = WorkerStatuses.Online,
                Codebases = body.Codebases ?? [],
                Capabilities = body.Capabilities ?? [],
                Models = body.Models ?? [],
                RegisteredAt = DateTimeOffset.UtcNow,
            });
        });
        Route("POST", "/v1/agent/workers/{id}/heartbeat", "heartbeat", _ => Results.Ok());
        Route("POST", "/v1/worker/tasks/claim", "claim", r =>
        {
            var body = r.Read<ClaimTaskRequest>();
            var task = Tasks.TryGetValue(body.TaskId!, out var t) ? t : NewTask(body.TaskId!);
            var claimed = task with { Status = TaskStatuses.Claimed, WorkerId = body.WorkerId, FencingToken = FencingToken };
            return Json(new ClaimTaskResponse
            {
                Task = claimed,
                FencingToken = FencingToken,
                LeaseExpiresAt = DateTimeOffset.UtcNow.AddSeconds(30),
            });
        });
        Route("POST", "/v1/worker/tasks/heartbeat", "renew", r =>
        {
            var body = r.Read<TaskHeartbeatRequest>();
            return Json(new TaskLeaseResponse(body.TaskId!, TaskStatuses.Running, body.FencingToken ?? FencingToken,
                DateTimeOffset.UtcNow.AddSeconds(30)));
        });
        Route("POST", "/v1/worker/tasks/{id}/events", "steps", _ => Results.Accepted());
        Route("POST", "/v1/worker/tasks/release", "release", _ => Results.Ok());
        Route("POST", "/v1/worker/tasks/{id}/input-required", "input", r =>
            Json(NewTask(r.Path.Split('/')[4]) with { Status = TaskStatuses.InputRequired, StatusMessage = r.Read<RequestInputRequest>().Message }));
        Route("POST", "/v1/agent/codebases/{id}/sessions/sync", "sync", r =>
        {
            var body = r.Read<SessionSyncRequest>();
            var sessions = body.Sessions ?? [];
            return Json(new SessionSyncResponse(sessions.Count, sessions.Sum(s => s.Messages?.Count ?? 0)));
        });
        Route("POST", "/v1/agent/tasks", "create", r =>
        {
            var body = r.Read<CreateTaskRequest>();
            var task = NewTask("t-created", body.Prompt ?? "", body.CodebaseId ?? CodebaseIds.Global) with
            {
                Title = body.Title ?? "untitled",
                Status = TaskStatuses.Submitted,
            };
            return Results.Json(task, CodeTetherJson.Options, statusCode: StatusCodes.Status202Accepted);
        });
        Route("GET", "/v1/agent/tasks", "list", _ => Json(new TaskPage([], null)));
        Route("GET", "/v1/agent/tasks/{id}", "get", _ => Problem(404, "Task not found"));
        Route("POST", "/v1/agent/tasks/{id}/cancel", "cancel", r =>
            Json(NewTask(r.Path.Split('/')[4]) with { Status = TaskStatuses.Cancelled }));

        _app.MapGet("/v1/worker/tasks/stream", async (HttpContext ctx) =>
        {
            var recorded = await RecordAsync("stream", ctx);
            if (_handlers.TryGetValue("stream", out var handler) && handler(recorded) is { } result and not StreamResult)
            {
                await result.ExecuteAsync(ctx);
                return;
            }
            var connection = new StreamConnection(recorded, ctx);
            ctx.Response.ContentType = "text/event-stream";
            ctx.Response.Headers.CacheControl = "no-cache";
            await ctx.Response.Body.FlushAsync(ctx.RequestAborted);
            _streams.Writer.TryWrite(connection);
            try
            {
                await foreach (var frame in connection.Frames.Reader.ReadAllAsync(ctx.RequestAborted))
                {
                    await ctx.Response.WriteAsync(frame, ctx.RequestAborted);
                    await ctx.Response.Body.FlushAsync(ctx.RequestAborted);
                }
            }
            catch (OperationCanceledException)
            {
                // the worker went away
            }
        });
    }

    private void Route(string method, string pattern, string name, Func<RecordedRequest, IResult> fallback)
    {
        _app.MapMethods(pattern, [method], async (HttpContext ctx) =>
        {
            var recorded = await RecordAsync(name, ctx);
            var handler = _handlers.TryGetValue(name, out var h) ? h : fallback;
            await handler(recorded).ExecuteAsync(ctx);
        });
    }

    private async Task<RecordedRequest> RecordAsync(string route, HttpContext ctx)
    {
        using var reader = new StreamReader(ctx.Request.Body);
        var body = await reader.ReadToEndAsync(ctx.RequestAborted);
        var headers = ctx.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        var recorded = new RecordedRequest(route, ctx.Request.Method, ctx.Request.Path.Value ?? "",
            ctx.Request.QueryString.Value ?? "", headers, body);
        _all.Enqueue(recorded);
        Queue(route).Writer.TryWrite(recorded);
        return recorded;
    }

    private static IResult Json<T>(T value) => Results.Json(value, CodeTetherJson.Options);

    /// <summary>Returned by a "stream" handler to let the double serve the stream normally.</summary>
    public static IResult Stream { get; } = new StreamResult();

    private sealed class StreamResult : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext) => Task.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
    }
}

/// <summary>One open <c>/v1/worker/tasks/stream</c> response: the test writes SSE frames into it.</summary>
public sealed class StreamConnection(RecordedRequest request, HttpContext context)
{
    internal Channel<string> Frames { get; } = Channel.CreateUnbounded<string>();

    public RecordedRequest Request { get; } = request;

    public void Send(string eventType, object? data, string? id = null)
    {
        var json = data is string s ? s : JsonSerializer.Serialize(data, CodeTetherJson.Options);
        var frame = (id is null ? "" : $"id: {id}\n") + $"event: {eventType}\n" + $"data: {json}\n\n";
        Frames.Writer.TryWrite(frame);
    }

    /// <summary>Ends the response cleanly (the server closed the stream).</summary>
    public void End() => Frames.Writer.TryComplete();

    /// <summary>Resets the connection (the server crashed or a proxy cut it).</summary>
    public void Abort()
    {
        Frames.Writer.TryComplete();
        context.Abort();
    }
}
