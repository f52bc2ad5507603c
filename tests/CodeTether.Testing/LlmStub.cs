using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CodeTether.Testing;

/// <summary>One scripted model answer: optional text and tool calls (name + JSON arguments).</summary>
public sealed record LlmTurn(string? Text, params (string Name, object Arguments)[] ToolCalls)
{
    public static LlmTurn Tool(string name, object arguments) => new(null, (name, arguments));
    public static LlmTurn Say(string text) => new(text);
}

/// <summary>A request the stub received: the protocol, the raw JSON body and the auth headers.</summary>
public sealed record LlmRequest(string Protocol, JsonElement Body, string? Authorization, string? ApiKey, bool Stream)
{
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();

    public string Raw => Body.GetRawText();
}

/// <summary>
/// A local LLM vendor on a real Kestrel socket that speaks OpenAI's chat-completions protocol
/// (<c>POST /v1/chat/completions</c>, plain JSON or SSE chunks when the client asks for <c>stream: true</c>) and
/// Anthropic's Messages protocol (<c>POST /v1/messages</c>), answering with a script of turns — the n-th request gets
/// the n-th turn (the last one repeats). Every request is recorded.
/// </summary>
public sealed class LlmStub : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly IReadOnlyList<LlmTurn> _turns;
    private int _served;

    private LlmStub(WebApplication app, IReadOnlyList<LlmTurn> turns)
    {
        _app = app;
        _turns = turns;
    }

    public Uri Url { get; private set; } = null!;
    public ConcurrentQueue<LlmRequest> Requests { get; } = new();
    public int InputTokensPerCall { get; init; } = 100;
    public int OutputTokensPerCall { get; init; } = 20;

    public static async Task<LlmStub> StartAsync(IReadOnlyList<LlmTurn> turns)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = ["--urls", "http://127.0.0.1:0"] });
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var stub = new LlmStub(app, turns);
        app.MapPost("/v1/chat/completions", stub.OpenAIAsync);
        app.MapPost("/v1/messages", stub.AnthropicAsync);
        await app.StartAsync();
        stub.Url = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return stub;
    }

    private async Task<(JsonElement Body, LlmTurn Turn, int N)> ReadAsync(HttpContext ctx, string protocol)
    {
        var body = (await JsonDocument.ParseAsync(ctx.Request.Body)).RootElement.Clone();
        var stream = body.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True;
        Requests.Enqueue(new LlmRequest(protocol, body, ctx.Request.Headers.Authorization.ToString(),
            ctx.Request.Headers["x-api-key"].ToString() is { Length: > 0 } k ? k : ctx.Request.Headers["api-key"].ToString(), stream)
        {
            Headers = ctx.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
        });
        var n = Interlocked.Increment(ref _served);
        return (body, _turns[Math.Min(n, _turns.Count) - 1], n);
    }

    private async Task OpenAIAsync(HttpContext ctx)
    {
        var (body, turn, n) = await ReadAsync(ctx, "openai");
        var model = body.GetProperty("model").GetString();
        var calls = new JsonArray([.. turn.ToolCalls.Select((c, i) => (JsonNode)new JsonObject
        {
            ["id"] = $"call_{n}_{i}",
            ["type"] = "function",
            ["function"] = new JsonObject { ["name"] = c.Name, ["arguments"] = JsonSerializer.Serialize(c.Arguments) },
        })]);
        var finish = turn.ToolCalls.Length > 0 ? "tool_calls" : "stop";
        var usage = new JsonObject { ["prompt_tokens"] = InputTokensPerCall, ["completion_tokens"] = OutputTokensPerCall, ["total_tokens"] = InputTokensPerCall + OutputTokensPerCall };
        if (body.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True)
        {
            ctx.Response.ContentType = "text/event-stream";
            var delta = new JsonObject { ["role"] = "assistant", ["content"] = turn.Text };
            if (calls.Count > 0)
            {
                var indexed = new JsonArray();
                for (var i = 0; i < calls.Count; i++) { var c = calls[i]!.DeepClone().AsObject(); c["index"] = i; indexed.Add(c); }
                delta["tool_calls"] = indexed;
            }
            await ChunkAsync(ctx, n, model, delta, null, null);
            await ChunkAsync(ctx, n, model, new JsonObject(), finish, null);
            await ChunkAsync(ctx, n, model, null, null, usage);
            await ctx.Response.WriteAsync("data: [DONE]\n\n");
            return;
        }
        var message = new JsonObject { ["role"] = "assistant", ["content"] = turn.Text, ["refusal"] = null };
        if (calls.Count > 0) message["tool_calls"] = calls;
        await ctx.Response.WriteAsJsonAsync(new JsonObject
        {
            ["id"] = $"chatcmpl-{n}",
            ["object"] = "chat.completion",
            ["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            ["model"] = model,
            ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["message"] = message, ["logprobs"] = null, ["finish_reason"] = finish }),
            ["usage"] = usage,
        });
    }

    private static async Task ChunkAsync(HttpContext ctx, int n, string? model, JsonObject? delta, string? finish, JsonObject? usage)
    {
        var chunk = new JsonObject
        {
            ["id"] = $"chatcmpl-{n}",
            ["object"] = "chat.completion.chunk",
            ["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            ["model"] = model,
            ["choices"] = delta is null ? new JsonArray() : new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = delta, ["finish_reason"] = finish }),
        };
        if (usage is not null) chunk["usage"] = usage;
        await ctx.Response.WriteAsync($"data: {chunk.ToJsonString()}\n\n");
        await ctx.Response.Body.FlushAsync();
    }

    private async Task AnthropicAsync(HttpContext ctx)
    {
        var (body, turn, n) = await ReadAsync(ctx, "anthropic");
        var content = new JsonArray();
        if (turn.Text is { } text) content.Add(new JsonObject { ["type"] = "text", ["text"] = text });
        for (var i = 0; i < turn.ToolCalls.Length; i++)
            content.Add(new JsonObject
            {
                ["type"] = "tool_use",
                ["id"] = $"toolu_{n}_{i}",
                ["name"] = turn.ToolCalls[i].Name,
                ["input"] = JsonSerializer.SerializeToNode(turn.ToolCalls[i].Arguments),
            });
        await ctx.Response.WriteAsJsonAsync(new JsonObject
        {
            ["id"] = $"msg_{n}",
            ["type"] = "message",
            ["role"] = "assistant",
            ["model"] = body.GetProperty("model").GetString(),
            ["content"] = content,
            ["stop_reason"] = turn.ToolCalls.Length > 0 ? "tool_use" : "end_turn",
            ["stop_sequence"] = null,
            ["usage"] = new JsonObject
            {
                ["input_tokens"] = InputTokensPerCall,
                ["output_tokens"] = OutputTokensPerCall,
                ["cache_creation_input_tokens"] = 0,
                ["cache_read_input_tokens"] = 0,
            },
        });
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
