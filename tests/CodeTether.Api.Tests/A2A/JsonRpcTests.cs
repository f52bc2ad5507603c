using System.Net;
using System.Text.Json.Nodes;
using CodeTether.Testing;

namespace CodeTether.Api.Tests.A2A;

public sealed class A2AHostFixture : IAsyncLifetime
{
    public ApiHost Host { get; private set; } = null!;

    public async ValueTask InitializeAsync() => Host = await ApiHost.StartAsync(DbKind.Sqlite, new Dictionary<string, string?>
    {
        ["A2A:MaxRequestBytes"] = "65536",
        ["Hosting:PublicUrl"] = "https://agents.example.com/",
    });

    public ValueTask DisposeAsync() => Host.DisposeAsync();
}

/// <summary>The JSON-RPC 2.0 envelope, every error code and the malformed inputs, over real HTTP.</summary>
public sealed class JsonRpcTests(A2AHostFixture fixture) : IClassFixture<A2AHostFixture>
{
    HttpClient Http => fixture.Host.Client();

    [Fact]
    public async Task AgentCard_AtBothWellKnownPaths_IsAnonymousV03CardWithPublicUrl()
    {
        foreach (var path in new[] { "/.well-known/agent-card.json", "/.well-known/agent.json" })
        {
            var res = await fixture.Host.Anonymous().GetAsync(path, TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, res.StatusCode);
            var card = JsonNode.Parse(await res.Content.ReadAsStringAsync(TestContext.Current.CancellationToken))!;
            Assert.Equal("0.3.0", card["protocolVersion"]!.GetValue<string>());
            Assert.Equal("https://agents.example.com/a2a/jsonrpc", card["url"]!.GetValue<string>());
            Assert.Equal("JSONRPC", card["preferredTransport"]!.GetValue<string>());
            Assert.Contains(card["additionalInterfaces"]!.AsArray(), i => i!["transport"]!.GetValue<string>() == "HTTP+JSON"
                && i["url"]!.GetValue<string>() == "https://agents.example.com/a2a/rest");
            Assert.True(card["capabilities"]!["streaming"]!.GetValue<bool>());
            Assert.True(card["capabilities"]!["pushNotifications"]!.GetValue<bool>());
            Assert.True(card["supportsAuthenticatedExtendedCard"]!.GetValue<bool>());
            Assert.Equal(["build", "plan", "explore", "ralph"], card["skills"]!.AsArray().Select(s => s!["id"]!.GetValue<string>()));
            Assert.Equal("http", card["securitySchemes"]!["http"]!["type"]!.GetValue<string>());
            Assert.NotNull(card["security"]![0]!["http"]);
        }
    }

    [Fact]
    public async Task ExtendedCard_WhenAuthenticated_ListsCodebases_AndAnonymousGets401()
    {
        var codebase = await Http.CreateCodebaseAsync(name: "extended-demo");
        var card = await Http.ResultAsync("agent/getAuthenticatedExtendedCard", null);
        Assert.Contains(card["skills"]!.AsArray(), s => s!["id"]!.GetValue<string>() == "codebase:" + codebase.Id);

        var (res, _) = await fixture.Host.Anonymous().RawAsync("""{"jsonrpc":"2.0","id":1,"method":"agent/getAuthenticatedExtendedCard"}""");
        Assert.Equal(HttpStatusCode.Unauthorized, res.StatusCode);
        Assert.Contains("Bearer", res.Headers.WwwAuthenticate.ToString());
        var rest = await fixture.Host.Anonymous().GetAsync("/a2a/rest/v1/card", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Unauthorized, rest.StatusCode);
    }

    [Fact]
    public async Task Unauthenticated_SendAndGet_Get401AndNoData()
    {
        var anon = fixture.Host.Anonymous();
        foreach (var path in new[] { "/a2a/jsonrpc", "/" })
        {
            var (res, body) = await anon.RawAsync("""{"jsonrpc":"2.0","id":1,"method":"tasks/get","params":{"id":"x"}}""", path);
            Assert.Equal(HttpStatusCode.Unauthorized, res.StatusCode);
            Assert.Null(body?["result"]);
        }
        var wrong = fixture.Host.Client("not-a-token-at-all-000000");
        Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.RawAsync("""{"jsonrpc":"2.0","id":1,"method":"tasks/get","params":{"id":"x"}}""")).Response.StatusCode);
    }

    [Fact]
    public async Task Viewer_MaySendNothing_ButMayRead()
    {
        var viewer = fixture.Host.Client(ApiHost.ViewerToken);
        var (res, body) = await viewer.RawAsync("""{"jsonrpc":"2.0","id":7,"method":"message/send","params":{"message":{"kind":"message","role":"user","messageId":"m","parts":[{"kind":"text","text":"hi"}]}}}""");
        Assert.Equal(HttpStatusCode.Forbidden, res.StatusCode);
        Assert.Equal(-32010, body!["error"]!["code"]!.GetValue<int>());
        Assert.Equal(-32001, await viewer.ErrorCodeAsync("tasks/get", new { id = "nope" }));
    }

    [Theory]
    [InlineData("{bad json", -32700)]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"message/send","params":{"foo":"bar"}""", -32700)]
    [InlineData("""{"jsonrpc":"1.0","id":1,"method":"tasks/get","params":{"id":"x"}}""", -32600)]
    [InlineData("""{"jsonrpc":"aaa","method":"message/send","params":{}}""", -32600)]
    [InlineData("""{"id":1,"method":"tasks/get","params":{"id":"x"}}""", -32600)]
    [InlineData("""{"jsonrpc":"2.0","params":{}}""", -32600)]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":42}""", -32600)]
    [InlineData("""{"jsonrpc":"2.0","id":{"bad":"type"},"method":"message/send","params":{}}""", -32600)]
    [InlineData("""{"jsonrpc":"2.0","id":1.5,"method":"tasks/get","params":{"id":"x"}}""", -32600)]
    [InlineData("\"just a string\"", -32600)]
    [InlineData("[]", -32600)]
    [InlineData("""{"jsonrpc":"2.0","id":"3","method":"SendMessageXXX","params":{}}""", -32601)]
    [InlineData("""{"jsonrpc":"2.0","id":"3","method":"tasks/send","params":{}}""", -32601)]
    [InlineData("""{"jsonrpc":"2.0","id":"4","method":"message/send","params":{"":"not_a_dict"}}""", -32602)]
    [InlineData("""{"jsonrpc":"2.0","id":"4","method":"message/send","params":[1,2]}""", -32602)]
    [InlineData("""{"jsonrpc":"2.0","id":"4","method":"message/send"}""", -32602)]
    [InlineData("""{"jsonrpc":"2.0","id":"4","method":"message/send","params":{"message":{"parts":"invalid"}}}""", -32602)]
    [InlineData("""{"jsonrpc":"2.0","id":"4","method":"message/send","params":{"message":{"kind":"message","role":"user","messageId":"m","parts":[]}}}""", -32602)]
    [InlineData("""{"jsonrpc":"2.0","id":"4","method":"message/send","params":{"message":{"kind":"message","messageId":"m","parts":[{"kind":"text","text":"x"}]}}}""", -32602)]
    [InlineData("""{"jsonrpc":"2.0","id":"4","method":"message/send","params":{"message":{"kind":"message","role":"robot","messageId":"m","parts":[{"kind":"text","text":"x"}]}}}""", -32602)]
    [InlineData("""{"jsonrpc":"2.0","id":"4","method":"message/send","params":{"message":{"kind":"message","role":"user","parts":[{"kind":"text","text":"x"}]}}}""", -32602)]
    [InlineData("""{"jsonrpc":"2.0","id":"4","method":"message/send","params":{"message":{"kind":"message","role":"user","messageId":"m","parts":[{"kind":"video","url":"x"}]}}}""", -32602)]
    [InlineData("""{"jsonrpc":"2.0","id":"4","method":"message/send","params":{"message":{"kind":"message","role":"user","messageId":"m","parts":[{"type":"text","text":"x"}]}}}""", -32602)]
    [InlineData("""{"jsonrpc":"2.0","id":"4","method":"message/send","params":{"message":{"kind":"message","role":"user","messageId":"m","parts":[{"kind":"text","text":5}]}}}""", -32602)]
    [InlineData("""{"jsonrpc":"2.0","id":"4","method":"message/send","params":{"message":{"kind":"message","role":"user","messageId":"m","parts":[{"kind":"file","file":{"name":"a"}}]}}}""", -32602)]
    [InlineData("""{"jsonrpc":"2.0","id":"4","method":"message/send","params":{"message":{"kind":"message","role":"user","messageId":"m","parts":[{"kind":"file","file":{"bytes":"!!notbase64!!"}}]}}}""", -32602)]
    [InlineData("""{"jsonrpc":"2.0","id":"4","method":"message/send","params":{"message":{"kind":"message","role":"user","messageId":"m","parts":[{"kind":"data","data":[1,2]}]}}}""", -32602)]
    [InlineData("""{"jsonrpc":"2.0","id":"4","method":"message/send","params":{"message":{"kind":"message","role":"user","messageId":"m","parts":[{"kind":"text","text":"x"}]},"configuration":{"historyLength":-1}}}""", -32602)]
    [InlineData("""{"jsonrpc":"2.0","id":"4","method":"message/send","params":{"message":{"kind":"message","role":"user","messageId":"m","parts":[{"kind":"text","text":"x"}]},"configuration":{"historyLength":"5"}}}""", -32602)]
    [InlineData("""{"jsonrpc":"2.0","id":"4","method":"tasks/get","params":{"id":"x","historyLength":-1}}""", -32602)]
    [InlineData("""{"jsonrpc":"2.0","id":"4","method":"tasks/get","params":{"id":42}}""", -32602)]
    [InlineData("""{"jsonrpc":"2.0","id":"4","method":"tasks/get","params":{}}""", -32602)]
    [InlineData("""{"jsonrpc":"2.0","id":"4","method":"message/send","params":{"message":{"kind":"message","role":"user","messageId":"m","parts":[{"kind":"text","text":"x"}]},"configuration":{"acceptedOutputModes":["image/png"]}}}""", -32005)]
    [InlineData("""{"jsonrpc":"2.0","id":"4","method":"message/send","params":{"message":{"kind":"message","role":"user","messageId":"m","parts":[{"kind":"text","text":"x"}],"taskId":"no-such-task"}}}""", -32001)]
    [InlineData("""{"jsonrpc":"2.0","id":"4","method":"tasks/cancel","params":{"id":"no-such-task"}}""", -32001)]
    [InlineData("""{"jsonrpc":"2.0","id":"4","method":"tasks/resubscribe","params":{"id":"no-such-task"}}""", -32001)]
    [InlineData("""{"jsonrpc":"2.0","id":"4","method":"tasks/pushNotificationConfig/get","params":{"id":"no-such-task"}}""", -32001)]
    [InlineData("""{"jsonrpc":"2.0","id":"4","method":"tasks/pushNotificationConfig/list","params":{"id":"no-such-task"}}""", -32001)]
    [InlineData("""{"jsonrpc":"2.0","id":"4","method":"message/send","params":{"message":{"kind":"message","role":"user","messageId":"m","parts":[{"kind":"text","text":"x"}],"metadata":{"codebase_id":"not-registered"}}}}""", -32602)]
    public async Task MalformedOrFailing_Request_GetsSpecErrorCode_WithHttp200(string body, int code)
    {
        var (res, json) = await Http.RawAsync(body);
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        Assert.Equal("application/json", res.Content.Headers.ContentType?.MediaType);
        Assert.Equal("2.0", json!["jsonrpc"]!.GetValue<string>());
        Assert.Equal(code, json["error"]!["code"]!.GetValue<int>());
        Assert.False(string.IsNullOrEmpty(json["error"]!["message"]!.GetValue<string>()));
        Assert.Null(json["result"]);
        Assert.True(json.AsObject().ContainsKey("id"));
        if (code is -32700 || body.Contains("\"id\":{") || body.Contains("1.5")) Assert.Null(json["id"]);
    }

    [Fact]
    public async Task Id_IsEchoedWithItsJsonType()
    {
        var s = await Http.RawAsync("""{"jsonrpc":"2.0","id":"abc","method":"tasks/get","params":{"id":"x"}}""");
        Assert.Equal("abc", s.Body!["id"]!.GetValue<string>());
        var n = await Http.RawAsync("""{"jsonrpc":"2.0","id":17,"method":"tasks/get","params":{"id":"x"}}""");
        Assert.Equal(17, n.Body!["id"]!.GetValue<int>());
    }

    [Fact]
    public async Task OversizedPayload_Gets413AndInvalidRequest()
    {
        var big = new string('a', 70_000);
        var (res, json) = await Http.RawAsync("""{"jsonrpc":"2.0","id":1,"method":"message/send","params":{"message":{"kind":"message","role":"user","messageId":"m","parts":[{"kind":"text","text":"BIG"}]}}}""".Replace("BIG", big));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, res.StatusCode);
        Assert.Equal(-32600, json!["error"]!["code"]!.GetValue<int>());
    }

    [Fact]
    public async Task Batch_AnswersEachCallInOrder_AndSkipsNotifications()
    {
        var (res, json) = await Http.RawAsync("""
            [{"jsonrpc":"2.0","id":1,"method":"nope"},
             {"jsonrpc":"2.0","method":"tasks/get","params":{"id":"x"}},
             {"jsonrpc":"2.0","id":"b","method":"tasks/get","params":{"id":"missing"}},
             {"jsonrpc":"1.0","id":3,"method":"tasks/get"},
             7]
            """);
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        var items = json!.AsArray();
        Assert.Equal(4, items.Count);
        Assert.Equal([-32601, -32001, -32600, -32600], items.Select(i => i!["error"]!["code"]!.GetValue<int>()));
        Assert.Equal(1, items[0]!["id"]!.GetValue<int>());
        Assert.Equal("b", items[1]!["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Notifications_AreExecutedWithoutAnswer()
    {
        var (single, body) = await Http.RawAsync("""{"jsonrpc":"2.0","method":"message/send","params":{"message":{"kind":"message","role":"user","messageId":"note-1","parts":[{"kind":"text","text":"from a notification"}]},"configuration":{"blocking":false}}}""");
        Assert.Equal(HttpStatusCode.NoContent, single.StatusCode);
        Assert.Null(body);
        var (batch, _) = await Http.RawAsync("""[{"jsonrpc":"2.0","method":"tasks/get","params":{"id":"x"}}]""");
        Assert.Equal(HttpStatusCode.NoContent, batch.StatusCode);
        var list = await Http.GetAsync("/v1/agent/tasks?status=submitted", TestContext.Current.CancellationToken);
        Assert.Contains("from a notification", await list.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Send_NonBlocking_WithNoWorker_AnswersSubmittedTask_ThatGetAndCancelSee()
    {
        var task = await Http.ResultAsync("message/send", A2AProtocol.Send("no worker here", blocking: true));
        Assert.Equal("task", task["kind"]!.GetValue<string>());
        Assert.Equal("submitted", task.State());
        Assert.NotNull(task["status"]!["timestamp"]);
        var id = task["id"]!.GetValue<string>();
        var contextId = task["contextId"]!.GetValue<string>();
        var history = task["history"]!.AsArray();
        Assert.Single(history);
        Assert.Equal("no worker here", history[0]!["parts"]![0]!["text"]!.GetValue<string>());

        var got = await Http.ResultAsync("tasks/get", new { id, historyLength = 0 });
        Assert.Equal(contextId, got["contextId"]!.GetValue<string>());
        Assert.Empty(got["history"]!.AsArray());

        var cancelled = await Http.ResultAsync("tasks/cancel", new { id });
        Assert.Equal("canceled", cancelled.State());
        Assert.Equal(-32002, await Http.ErrorCodeAsync("tasks/cancel", new { id }));
        Assert.Equal(-32004, await Http.ErrorCodeAsync("message/send", A2AProtocol.Send("more", taskId: id)));
    }

    [Fact]
    public async Task Send_AllPartKinds_ArePreservedInHistory()
    {
        var task = await Http.ResultAsync("message/send", new
        {
            message = new
            {
                kind = "message", role = "user", messageId = "parts-1", contextId = "ctx-parts",
                parts = new object[]
                {
                    new { kind = "text", text = "look at these" },
                    new { kind = "file", file = new { bytes = Convert.ToBase64String("hello"u8.ToArray()), name = "a.txt", mimeType = "text/plain" } },
                    new { kind = "file", file = new { uri = "https://example.com/b.png", mimeType = "image/png" } },
                    new { kind = "data", data = new { answer = 42, nested = new { ok = true } }, metadata = new { source = "form" } },
                },
                metadata = new { trace = "t1" },
            },
            configuration = new { blocking = false },
        });
        Assert.Equal("ctx-parts", task["contextId"]!.GetValue<string>());
        var got = await Http.ResultAsync("tasks/get", new { id = task["id"]!.GetValue<string>() });
        var parts = got["history"]![0]!["parts"]!.AsArray();
        Assert.Equal(["text", "file", "file", "data"], parts.Select(p => p!["kind"]!.GetValue<string>()));
        Assert.Equal("aGVsbG8=", parts[1]!["file"]!["bytes"]!.GetValue<string>());
        Assert.Equal("a.txt", parts[1]!["file"]!["name"]!.GetValue<string>());
        Assert.Equal("https://example.com/b.png", parts[2]!["file"]!["uri"]!.GetValue<string>());
        Assert.Equal(42, parts[3]!["data"]!["answer"]!.GetValue<int>());
        Assert.Equal("form", parts[3]!["metadata"]!["source"]!.GetValue<string>());
        Assert.Equal("t1", got["history"]![0]!["metadata"]!["trace"]!.GetValue<string>());
    }
}
