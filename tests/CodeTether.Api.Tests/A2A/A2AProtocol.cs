using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CodeTether.Testing;

namespace CodeTether.Api.Tests.A2A;

/// <summary>Raw A2A calls as any client would make them (camelCase JSON, JSON-RPC envelopes), with small readers.</summary>
public static class A2AProtocol
{
    public static async Task<(HttpResponseMessage Response, JsonNode? Body)> RawAsync(this HttpClient http, string json, string path = "/a2a/jsonrpc")
    {
        var res = await http.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
        var text = await res.Content.ReadAsStringAsync();
        return (res, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    public static async Task<JsonNode> RpcAsync(this HttpClient http, string method, object? @params, object? id = null)
    {
        var body = new JsonObject { ["jsonrpc"] = "2.0", ["id"] = JsonValue.Create(id ?? 1), ["method"] = method };
        if (@params is not null) body["params"] = JsonSerializer.SerializeToNode(@params);
        var (res, json) = await http.RawAsync(body.ToJsonString());
        Assert.Equal(200, (int)res.StatusCode);
        return json!;
    }

    public static async Task<JsonNode> ResultAsync(this HttpClient http, string method, object? @params)
    {
        var r = await http.RpcAsync(method, @params);
        Assert.True(r["result"] is not null || r.AsObject().ContainsKey("result"), $"expected a result, got {r.ToJsonString()}");
        return r["result"]!;
    }

    public static async Task<int> ErrorCodeAsync(this HttpClient http, string method, object? @params)
    {
        var r = await http.RpcAsync(method, @params);
        Assert.True(r["error"] is not null, $"expected an error, got {r.ToJsonString()}");
        Assert.Null(r["result"]);
        return r["error"]!["code"]!.GetValue<int>();
    }

    public static object Message(string text, string? taskId = null, string? contextId = null, string? codebase = null) => new Dictionary<string, object?>
    {
        ["kind"] = "message", ["role"] = "user", ["messageId"] = Guid.NewGuid().ToString(),
        ["parts"] = new object[] { new { kind = "text", text } },
        ["taskId"] = taskId, ["contextId"] = contextId,
        ["metadata"] = codebase is null ? null : new { codebase_id = codebase },
    }.Where(kv => kv.Value is not null).ToDictionary();

    public static object Send(string text, bool blocking = false, string? taskId = null, string? codebase = null, int? historyLength = null) => new
    {
        message = Message(text, taskId, codebase: codebase),
        configuration = new { blocking, historyLength },
    };

    public static string State(this JsonNode task) => task["status"]!["state"]!.GetValue<string>();

    /// <summary>Opens an SSE response from a POST (message/stream, tasks/resubscribe).</summary>
    public static async Task<SseClient> StreamAsync(this HttpClient http, string method, object @params, string? lastEventId = null, string path = "/a2a/jsonrpc")
    {
        var body = new JsonObject { ["jsonrpc"] = "2.0", ["id"] = "s1", ["method"] = method, ["params"] = JsonSerializer.SerializeToNode(@params) };
        return await SseClient.PostAsync(http, path, body.ToJsonString(), lastEventId);
    }
}
