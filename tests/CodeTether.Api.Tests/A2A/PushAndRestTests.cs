using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using CodeTether.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace CodeTether.Api.Tests.A2A;

/// <summary>A webhook receiver on a loopback port (real Kestrel) that fails the first N deliveries with 500.</summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    readonly WebApplication _app;
    int _failuresLeft;
    public Channel<(string Token, string? Authorization, JsonNode Body)> Received { get; } = Channel.CreateUnbounded<(string, string?, JsonNode)>();
    public ConcurrentBag<DateTime> Attempts { get; } = [];
    public string Url { get; }

    WebhookReceiver(WebApplication app, int failFirst)
    {
        _app = app;
        _failuresLeft = failFirst;
        Url = app.Urls.First() + "/hook";
    }

    public static async Task<WebhookReceiver> StartAsync(int failFirst = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        WebhookReceiver? self = null;
        app.MapPost("/hook", async (HttpRequest req) =>
        {
            self!.Attempts.Add(DateTime.UtcNow);
            if (Interlocked.Decrement(ref self._failuresLeft) >= 0) return Results.StatusCode(500);
            var body = JsonNode.Parse(await new StreamReader(req.Body, Encoding.UTF8).ReadToEndAsync())!;
            await self.Received.Writer.WriteAsync((req.Headers["X-A2A-Notification-Token"].ToString(), req.Headers.Authorization.FirstOrDefault(), body));
            return Results.Ok();
        });
        await app.StartAsync();
        self = new WebhookReceiver(app, failFirst);
        return self;
    }

    public async Task<(string Token, string? Authorization, JsonNode Body)> NextAsync(Func<JsonNode, bool> match)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (true)
        {
            var r = await Received.Reader.ReadAsync(cts.Token);
            if (match(r.Body)) return r;
        }
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}

/// <summary>Push notifications (delivery, auth, retry, SSRF guard) and the HTTP+JSON binding in both body dialects.</summary>
public sealed class PushAndRestTests : IAsyncLifetime
{
    ApiHost _host = null!;
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _host = await ApiHost.StartAsync(DbKind.Sqlite, new Dictionary<string, string?>
    {
        ["A2A:Push:AllowedHosts:0"] = "127.0.0.1",
        ["A2A:Push:InitialBackoff"] = "00:00:00.050",
        ["A2A:Push:MaxAttempts"] = "4",
    });

    public ValueTask DisposeAsync() => _host.DisposeAsync();

    [Fact]
    public async Task Push_IsDeliveredWithTokenAndBearer_AfterRetries()
    {
        await using var receiver = await WebhookReceiver.StartAsync(failFirst: 2);
        var http = _host.Client();
        var task = await http.ResultAsync("message/send", new
        {
            message = A2AProtocol.Message("notify me"),
            configuration = new
            {
                blocking = false,
                pushNotificationConfig = new { url = receiver.Url, token = "tok-1", authentication = new { schemes = new[] { "Bearer" }, credentials = "hook-secret" } },
            },
        });
        var id = task["id"]!.GetValue<string>();
        var stored = await http.ResultAsync("tasks/pushNotificationConfig/get", new { id });
        Assert.Equal("default", stored["pushNotificationConfig"]!["id"]!.GetValue<string>());
        Assert.Equal(id, stored["taskId"]!.GetValue<string>());

        await http.ResultAsync("tasks/cancel", new { id });
        var (token, auth, body) = await receiver.NextAsync(b => b["status"]!["state"]!.GetValue<string>() == "canceled");
        Assert.Equal("tok-1", token);
        Assert.Equal("Bearer hook-secret", auth);
        Assert.Equal("task", body["kind"]!.GetValue<string>());
        Assert.Equal(id, body["id"]!.GetValue<string>());
        Assert.True(receiver.Attempts.Count >= 3, $"expected two failures then a success, saw {receiver.Attempts.Count} attempts");
    }

    [Fact]
    public async Task PushConfig_SetGetListDelete_WithDefaultId()
    {
        var http = _host.Client();
        var id = (await http.ResultAsync("message/send", A2AProtocol.Send("configs")))["id"]!.GetValue<string>();
        var set = await http.ResultAsync("tasks/pushNotificationConfig/set", new { taskId = id, pushNotificationConfig = new { url = "http://127.0.0.1:9/a" } });
        Assert.Equal("default", set["pushNotificationConfig"]!["id"]!.GetValue<string>());
        await http.ResultAsync("tasks/pushNotificationConfig/set", new { taskId = id, pushNotificationConfig = new { id = "second", url = "http://127.0.0.1:9/b", token = "t" } });
        var got = await http.ResultAsync("tasks/pushNotificationConfig/get", new { id, pushNotificationConfigId = "default" });
        Assert.Equal("http://127.0.0.1:9/a", got["pushNotificationConfig"]!["url"]!.GetValue<string>());
        Assert.Equal(2, (await http.ResultAsync("tasks/pushNotificationConfig/list", new { id })).AsArray().Count);
        var deleted = await http.RpcAsync("tasks/pushNotificationConfig/delete", new { id, pushNotificationConfigId = "second" });
        Assert.True(deleted.AsObject().ContainsKey("result") && deleted["result"] is null);
        Assert.Single((await http.ResultAsync("tasks/pushNotificationConfig/list", new { id })).AsArray());
        Assert.Equal(-32602, await http.ErrorCodeAsync("tasks/pushNotificationConfig/delete", new { id }));
    }

    [Theory]
    [InlineData("http://127.0.0.2:9/hook")] // loopback, but not the allow-listed 127.0.0.1
    [InlineData("http://169.254.169.254/latest/meta-data")]
    [InlineData("http://10.1.2.3/hook")]
    [InlineData("http://192.168.0.10/hook")]
    [InlineData("http://172.20.0.1/hook")]
    [InlineData("http://[::1]:9/hook")]
    [InlineData("http://[fe80::1]/hook")]
    [InlineData("http://0.0.0.0/hook")]
    [InlineData("ftp://example.com/hook")]
    [InlineData("http://user:pw@127.0.0.1/hook")]
    public async Task PushConfig_PointingAtPrivateRanges_IsRefused(string url)
    {
        var http = _host.Client();
        var id = (await http.ResultAsync("message/send", A2AProtocol.Send("ssrf")))["id"]!.GetValue<string>();
        Assert.Equal(-32602, await http.ErrorCodeAsync("tasks/pushNotificationConfig/set", new { taskId = id, pushNotificationConfig = new { url } }));
        // Inline configs are checked before the task is created.
        Assert.Equal(-32602, await http.ErrorCodeAsync("message/send", new { message = A2AProtocol.Message("x"), configuration = new { pushNotificationConfig = new { url } } }));
    }

    [Fact]
    public async Task Rest_ProtoJsonAndKindForms_SendGetCancelAndPushRoutes()
    {
        var http = _host.Client();
        var proto = await http.PostAsync("/a2a/rest/v1/message:send", Json("""
            {"message":{"messageId":"p1","role":"ROLE_USER","content":[{"text":"hello"},{"data":{"data":{"a":1}}},{"file":{"fileWithUri":"http://x/y","mimeType":"text/plain"}}]},
             "configuration":{"historyLength":5}}
            """), Ct);
        Assert.Equal(HttpStatusCode.OK, proto.StatusCode);
        var task = JsonNode.Parse(await proto.Content.ReadAsStringAsync(Ct))!["task"]!;
        Assert.Equal("TASK_STATE_SUBMITTED", task["status"]!["state"]!.GetValue<string>());
        var message = task["history"]![0]!;
        Assert.Equal("ROLE_USER", message["role"]!.GetValue<string>());
        Assert.Equal(1, message["content"]![1]!["data"]!["data"]!["a"]!.GetValue<int>());
        Assert.Equal("http://x/y", message["content"]![2]!["file"]!["fileWithUri"]!.GetValue<string>());
        var id = task["id"]!.GetValue<string>();

        var kind = await http.PostAsync("/a2a/rest/v1/message:send", Json("""
            {"message":{"kind":"message","messageId":"k1","role":"user","parts":[{"kind":"text","text":"hi"}]},"configuration":{"blocking":false}}
            """), Ct);
        Assert.Equal("submitted", JsonNode.Parse(await kind.Content.ReadAsStringAsync(Ct))!["status"]!["state"]!.GetValue<string>());

        var get = JsonNode.Parse(await http.GetStringAsync($"/a2a/rest/v1/tasks/{id}?historyLength=0", Ct))!;
        Assert.Equal(id, get["id"]!.GetValue<string>());
        Assert.Empty(get["history"]!.AsArray());

        // The three create shapes seen in the wild.
        foreach (var body in new[]
        {
            """{"url":"http://127.0.0.1:9/bare","id":"bare"}""",
            """{"parent":"tasks/ID","configId":"full","config":{"name":"tasks/ID/pushNotificationConfigs/full","pushNotificationConfig":{"url":"http://127.0.0.1:9/full"}}}""",
            """{"name":"tasks/ID/pushNotificationConfigs/named","pushNotificationConfig":{"id":"named","url":"http://127.0.0.1:9/named"}}""",
        })
        {
            var res = await http.PostAsync($"/a2a/rest/v1/tasks/{id}/pushNotificationConfigs", Json(body.Replace("ID", id)), Ct);
            Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        }
        var list = JsonNode.Parse(await http.GetStringAsync($"/a2a/rest/v1/tasks/{id}/pushNotificationConfigs", Ct))!["configs"]!.AsArray();
        Assert.Equal(["bare", "full", "named"], list.Select(c => c!["pushNotificationConfig"]!["id"]!.GetValue<string>()).Order());
        Assert.Equal($"tasks/{id}/pushNotificationConfigs/full", JsonNode.Parse(await http.GetStringAsync($"/a2a/rest/v1/tasks/{id}/pushNotificationConfigs/full", Ct))!["name"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync($"/a2a/rest/v1/tasks/{id}/pushNotificationConfigs/full", Ct)).StatusCode);

        var cancel = await http.PostAsync($"/a2a/rest/v1/tasks/{id}:cancel", null, Ct);
        Assert.Equal("TASK_STATE_CANCELLED", JsonNode.Parse(await cancel.Content.ReadAsStringAsync(Ct))!["status"]!["state"]!.GetValue<string>());
        var again = await http.PostAsync($"/a2a/rest/v1/tasks/{id}:cancel", null, Ct);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal(-32002, JsonNode.Parse(await again.Content.ReadAsStringAsync(Ct))!["code"]!.GetValue<int>());
        var missing = await http.GetAsync("/a2a/rest/v1/tasks/nope", Ct);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(-32001, JsonNode.Parse(await missing.Content.ReadAsStringAsync(Ct))!["code"]!.GetValue<int>());
        var bad = await http.PostAsync("/a2a/rest/v1/message:send", Json("""{"message":{"messageId":"m","role":"ROLE_USER","content":"nope"}}"""), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal(-32602, JsonNode.Parse(await bad.Content.ReadAsStringAsync(Ct))!["code"]!.GetValue<int>());

        // Subscribing to a finished task: the task, then the end of the stream.
        await using var sub = await SseClient.OpenAsync(http, $"/a2a/rest/v1/tasks/{id}:subscribe");
        Assert.Equal("TASK_STATE_CANCELLED", (await sub.NextAsync()).Json.GetProperty("task").GetProperty("status").GetProperty("state").GetString());
        Assert.True(await sub.EndsWithinAsync(TimeSpan.FromSeconds(5)));
    }

    static StringContent Json(string s) => new(s, Encoding.UTF8, "application/json");
}

/// <summary>Push configs survive a host restart: the new host learns which tasks have configs from the database.</summary>
public sealed class PushAfterRestartTests
{
    [Fact]
    public async Task ConfigStoredBeforeRestart_IsDeliveredByTheNextHost()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var settings = new Dictionary<string, string?>
        {
            ["A2A:Push:AllowedHosts:0"] = "127.0.0.1",
            ["A2A:Push:InitialBackoff"] = "00:00:00.050",
        };
        var first = await ApiHost.StartAsync(DbKind.Sqlite, settings);
        var http = first.Client();
        var id = (await http.ResultAsync("message/send", A2AProtocol.Send("outlive the host")))["id"]!.GetValue<string>();
        await http.ResultAsync("tasks/pushNotificationConfig/set", new { taskId = id, pushNotificationConfig = new { url = receiver.Url, token = "after-restart" } });
        await first.StopAsync();

        await using var second = await ApiHost.StartAsync(DbKind.Sqlite, settings, db: first.Database, dataDir: first.DataDir);
        await second.Client().ResultAsync("tasks/cancel", new { id });
        var (token, _, body) = await receiver.NextAsync(b => b["status"]!["state"]!.GetValue<string>() == "canceled");
        Assert.Equal("after-restart", token);
        Assert.Equal(id, body["id"]!.GetValue<string>());
    }
}
