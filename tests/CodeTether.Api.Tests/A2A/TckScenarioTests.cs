using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using CodeTether.Testing;

namespace CodeTether.Api.Tests.A2A;

/// <summary>
/// The scenarios of the official A2A TCK (a2aproject/a2a-tck, branch 0.3.x) that the other A2A tests do not already
/// pin down, replayed over real HTTP the way the TCK sends them: kind-form JSON-RPC to the interface URL from the card,
/// proto-JSON to the HTTP+JSON interface, bearer credentials in <c>Authorization</c> (the TCK's
/// <c>A2A_JSONRPC_AUTHORIZATION</c>), and no worker online, so every task stays open in <c>submitted</c>.
/// Each test names the TCK file and test it mirrors.
/// </summary>
public sealed class TckScenarioTests : IAsyncLifetime
{
    ApiHost _host = null!;
    static CancellationToken Ct => TestContext.Current.CancellationToken;
    static readonly string[] OpenStates = ["submitted", "working", "input-required", "completed"];

    public async ValueTask InitializeAsync() => _host = await ApiHost.StartAsync(DbKind.Sqlite, new Dictionary<string, string?>
    {
        // The TCK's push tests register https://example.com/webhook; allow-listed so no DNS lookup is needed offline.
        ["A2A:Push:AllowedHosts:0"] = "example.com",
    });

    public ValueTask DisposeAsync() => _host.DisposeAsync();

    HttpClient Http => _host.Client();

    /// <summary>The card the TCK reads: always from the root of the SUT's origin, whatever path --sut-url has.</summary>
    async Task<JsonNode> CardAsync()
    {
        var res = await _host.Anonymous().GetAsync("/.well-known/agent-card.json", Ct);
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        Assert.Equal("application/json", res.Content.Headers.ContentType?.MediaType);
        return JsonNode.Parse(await res.Content.ReadAsStringAsync(Ct))!;
    }

    /// <summary>The interface URL the TCK's transport manager picks for a transport: <c>additionalInterfaces[].url</c>.</summary>
    async Task<string> InterfacePathAsync(string transport)
    {
        var card = await CardAsync();
        var url = card["additionalInterfaces"]!.AsArray().Single(i => i!["transport"]!.GetValue<string>() == transport)!["url"]!.GetValue<string>();
        return new Uri(url).AbsolutePath;
    }

    /// <summary>The TCK's fixture message (tests/mandatory/protocol/test_message_send_method.py, 0.3.x).</summary>
    static JsonObject TckMessage(string text, string? taskId = null)
    {
        var m = new JsonObject
        {
            ["kind"] = "message", ["messageId"] = $"text-message-id-{Guid.NewGuid()}", ["role"] = "user",
            ["parts"] = new JsonArray(new JsonObject { ["kind"] = "text", ["text"] = text }),
        };
        if (taskId is not null) m["taskId"] = taskId;
        return m;
    }

    async Task<JsonNode> RpcAsync(string method, JsonNode? @params, string? path = null, object? id = null)
    {
        var body = new JsonObject { ["jsonrpc"] = "2.0", ["id"] = JsonValue.Create(id ?? $"tck-{Guid.NewGuid()}"), ["method"] = method };
        if (@params is not null) body["params"] = @params;
        var (res, json) = await Http.RawAsync(body.ToJsonString(), path ?? await InterfacePathAsync("JSONRPC"));
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        Assert.Equal("2.0", json!["jsonrpc"]!.GetValue<string>());
        return json;
    }

    async Task<JsonNode> SendAsync(string text, string? taskId = null) =>
        (await RpcAsync("message/send", new JsonObject { ["message"] = TckMessage(text, taskId) }))["result"]!;

    static StringContent Json(string s) => new(s, Encoding.UTF8, "application/json");

    // ---------- agent card (tests/mandatory/protocol/test_agent_card*.py, security/test_agent_card_security.py) ----------

    [Fact]
    public async Task AgentCard_DeclaresOnlyTransportsItServes_EachWithAnEndpoint_AndNoGrpc()
    {
        var card = await CardAsync();
        foreach (var field in new[] { "protocolVersion", "name", "description", "url", "version", "capabilities", "defaultInputModes", "defaultOutputModes", "skills", "preferredTransport" })
            Assert.NotNull(card[field]);
        Assert.StartsWith("0.3", card["protocolVersion"]!.GetValue<string>());
        var interfaces = card["additionalInterfaces"]!.AsArray();
        var transports = interfaces.Select(i => i!["transport"]!.GetValue<string>()).ToList();
        Assert.Equal(["HTTP+JSON", "JSONRPC"], transports.Order());
        Assert.DoesNotContain(transports, t => t.Contains("GRPC", StringComparison.OrdinalIgnoreCase));
        // validate_transport_consistency: the preferred transport must have an endpoint among additionalInterfaces.
        Assert.Contains(interfaces, i => i!["transport"]!.GetValue<string>() == card["preferredTransport"]!.GetValue<string>()
            && i["url"]!.GetValue<string>() == card["url"]!.GetValue<string>());
        Assert.All(card["skills"]!.AsArray(), s => Assert.All(new[] { "id", "name", "description", "tags" }, f => Assert.NotNull(s![f])));
        Assert.All(card["defaultInputModes"]!.AsArray().Concat(card["defaultOutputModes"]!.AsArray()), m => Assert.False(string.IsNullOrWhiteSpace(m!.GetValue<string>())));

        // Every interface the card names answers its binding (the TCK builds one client per declared transport).
        Assert.Equal(-32001, (await RpcAsync("tasks/get", new JsonObject { ["id"] = "nope" }, await InterfacePathAsync("JSONRPC")))["error"]!["code"]!.GetValue<int>());
        var rest = await Http.GetAsync(await InterfacePathAsync("HTTP+JSON") + "/v1/tasks/nope", Ct);
        Assert.Equal(HttpStatusCode.NotFound, rest.StatusCode);
    }

    [Fact]
    public async Task AgentCard_SecuritySchemes_AreNamedAfterTheirType_AndEverySecurityEntryIsDeclared()
    {
        // test_auth_compliance_v030.py::test_security_scheme_structure_compliance and
        // test_auth_enforcement.py::test_authentication_scheme_consistency read each scheme's *name* as its type.
        var card = await CardAsync();
        var schemes = card["securitySchemes"]!.AsObject();
        Assert.NotEmpty(schemes);
        foreach (var (name, scheme) in schemes)
        {
            Assert.Contains(name, new[] { "http", "apiKey", "oauth2", "openIdConnect", "mutualTLS" });
            Assert.Equal(name, scheme!["type"]!.GetValue<string>());
            if (name == "http") Assert.Contains(scheme["scheme"]!.GetValue<string>().ToLowerInvariant(), new[] { "basic", "bearer", "digest" });
        }
        foreach (var requirement in card["security"]!.AsArray())
            Assert.All(requirement!.AsObject(), kv => Assert.True(schemes.ContainsKey(kv.Key), $"security names undeclared scheme {kv.Key}"));
    }

    // ---------- authentication (tests/mandatory/authentication/*.py) ----------

    [Theory]
    [InlineData("/a2a/jsonrpc", null)]
    [InlineData("/a2a/jsonrpc", "Bearer invalid-dummy-jwt-token-12345")]
    [InlineData("/", null)]
    [InlineData("/", "Bearer invalid-token-for-openIdConnect")]
    [InlineData("/", "Basic aW52YWxpZDppbnZhbGlk")]
    public async Task MissingOrInvalidCredentials_Get401WithWwwAuthenticate_BeforeJsonRpc(string sutPath, string? authorization)
    {
        // test_authentication_required_when_declared / test_invalid_credentials_rejected / test_security_error_response_compliance
        var anon = _host.Anonymous();
        var req = new HttpRequestMessage(HttpMethod.Post, sutPath)
        {
            Content = Json($$$"""{"jsonrpc":"2.0","id":"r1","method":"tasks/get","params":{"id":"test-task-{{{Guid.NewGuid()}}}"}}"""),
        };
        if (authorization is not null) req.Headers.TryAddWithoutValidation("Authorization", authorization);
        var res = await anon.SendAsync(req, Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, res.StatusCode);
        Assert.Contains("bearer", res.Headers.WwwAuthenticate.ToString(), StringComparison.OrdinalIgnoreCase);

        // The same for the HTTP+JSON interface (authentication is transport-independent).
        var rest = new HttpRequestMessage(HttpMethod.Get, "/a2a/rest/v1/tasks/x");
        if (authorization is not null) rest.Headers.TryAddWithoutValidation("Authorization", authorization);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anon.SendAsync(rest, Ct)).StatusCode);
    }

    [Fact]
    public async Task ExtendedCard_WithCredentials_IsAV03Card_AndOverRest()
    {
        // test_a2a_v030_new_methods.py::TestAuthenticatedExtendedCard
        var card = (await RpcAsync("agent/getAuthenticatedExtendedCard", null))["result"]!;
        foreach (var field in new[] { "protocolVersion", "name", "description", "url", "skills", "capabilities" }) Assert.NotNull(card[field]);
        Assert.StartsWith("0.3", card["protocolVersion"]!.GetValue<string>());
        var rest = JsonNode.Parse(await Http.GetStringAsync("/a2a/rest/v1/card", Ct))!;
        Assert.StartsWith("0.3", rest["protocolVersion"]!.GetValue<string>());
    }

    // ---------- message/send, tasks/get, tasks/cancel (tests/mandatory/protocol/*.py) ----------

    [Fact]
    public async Task MessageSend_ValidText_InvalidParams_AndContinueTask()
    {
        // test_message_send_method.py: test_message_send_valid_text, _invalid_params, _continue_task
        var task = await SendAsync("Hello from TCK!");
        Assert.Equal("task", task["kind"]!.GetValue<string>());
        Assert.Contains(task.State(), OpenStates);
        var id = task["id"]!.GetValue<string>();

        var invalid = await RpcAsync("message/send", new JsonObject { ["message"] = new JsonObject { ["kind"] = "message" } });
        Assert.Equal(-32602, invalid["error"]!["code"]!.GetValue<int>());

        var continued = await SendAsync("Follow-up message for the existing task", id);
        Assert.Equal(id, continued["id"]!.GetValue<string>());
        Assert.Contains(continued.State(), OpenStates);
    }

    [Fact]
    public async Task TasksGet_Valid_WithHistoryLength_AndNonexistent()
    {
        // test_tasks_get_method.py
        var id = (await SendAsync("Task for get test"))["id"]!.GetValue<string>();
        var got = (await RpcAsync("tasks/get", new JsonObject { ["id"] = id }))["result"]!;
        Assert.Equal(id, got["id"]!.GetValue<string>());
        Assert.NotNull(got["status"]);
        var limited = (await RpcAsync("tasks/get", new JsonObject { ["id"] = id, ["historyLength"] = 1 }))["result"]!;
        Assert.Single(limited["history"]!.AsArray());
        var missing = await RpcAsync("tasks/get", new JsonObject { ["id"] = "nonexistent-task-id" });
        Assert.Equal(-32001, missing["error"]!["code"]!.GetValue<int>());
        Assert.Contains("not found", missing["error"]!["message"]!.GetValue<string>(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task TasksCancel_TaskFromDefaultSend_IsStillOpen_AndCancels_NonexistentIs32001()
    {
        // test_tasks_cancel_method.py: the task of a default (blocking) send must still be open to be cancelled.
        var id = (await SendAsync("Task for cancel test"))["id"]!.GetValue<string>();
        var cancelled = (await RpcAsync("tasks/cancel", new JsonObject { ["id"] = id }))["result"]!;
        Assert.Equal(id, cancelled["id"]!.GetValue<string>());
        Assert.Equal("canceled", cancelled.State());
        var again = await RpcAsync("tasks/cancel", new JsonObject { ["id"] = id });
        Assert.Equal(-32002, again["error"]!["code"]!.GetValue<int>());
        Assert.Contains("cannot be canceled", again["error"]!["message"]!.GetValue<string>(), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(-32001, (await RpcAsync("tasks/cancel", new JsonObject { ["id"] = "nonexistent-task-id" }))["error"]!["code"]!.GetValue<int>());
    }

    [Fact]
    public async Task TaskHistoryLength_AfterThreeFollowUps_LimitsHistory()
    {
        // test_state_transitions.py::test_task_history_length
        var id = (await SendAsync("Initial message for history test"))["id"]!.GetValue<string>();
        for (var i = 1; i <= 3; i++) await SendAsync($"Follow-up message {i} for history test", id);
        var full = (await RpcAsync("tasks/get", new JsonObject { ["id"] = id }))["result"]!["history"]!.AsArray();
        var limited = (await RpcAsync("tasks/get", new JsonObject { ["id"] = id, ["historyLength"] = 2 }))["result"]!["history"]!.AsArray();
        Assert.Equal(4, full.Count);
        Assert.Equal(2, limited.Count);
        Assert.Equal("Follow-up message 3 for history test", limited[1]!["parts"]![0]!["text"]!.GetValue<string>());
    }

    // ---------- JSON-RPC envelope (tests/mandatory/jsonrpc/*.py, quality/test_error_validation_enhanced.py) ----------

    [Fact]
    public async Task DuplicateRequestIds_BothAnswered_WithTheSameId()
    {
        // test_protocol_violations.py::test_duplicate_request_ids
        const string fixedId = "duplicate-1";
        var first = await RpcAsync("message/send", new JsonObject { ["message"] = TckMessage("Hello from protocol violation test!") }, id: fixedId);
        Assert.Equal(fixedId, first["id"]!.GetValue<string>());
        Assert.NotNull(first["result"]);
        var second = await RpcAsync("message/send", new JsonObject { ["message"] = TckMessage("This is a different message with the same ID") }, id: fixedId);
        Assert.Equal(fixedId, second["id"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("tasks/get", """{}""", -32602)]
    [InlineData("tasks/get", """{"id":12345}""", -32602)]
    [InlineData("tasks/get", """{"id":""}""", -32001)]
    [InlineData("tasks/get", """{"id":"test-task","invalid_extra_param":"should_not_exist"}""", -32001)]
    [InlineData("tasks/status", """{}""", -32601)]
    [InlineData("tasks/delete", """{"id":""}""", -32601)]
    [InlineData("invalid/nonexistent/method", """{}""", -32601)]
    [InlineData("agent/customUnsupportedOperation", """{"testParameter":"value"}""", -32601)]
    public async Task ErrorValidation_EachCaseHasCodeAndInformativeMessage(string method, string @params, int code)
    {
        // test_error_validation_enhanced.py
        var r = await RpcAsync(method, JsonNode.Parse(@params));
        Assert.Equal(code, r["error"]!["code"]!.GetValue<int>());
        var message = r["error"]!["message"]!.GetValue<string>().ToLowerInvariant();
        Assert.True(message.Length > 10);
        Assert.True(new[] { "method", "not found", "invalid", "unknown" }.Any(message.Contains), message);
    }

    // ---------- A2A error codes (tests/mandatory/jsonrpc/test_a2a_error_codes*.py) ----------

    [Theory]
    [InlineData("""["application/x-completely-unsupported-output-format"]""")]
    [InlineData("""["application/x-non-existent-format","text/x-impossible-format","application/vnd.fake-vendor-specific-format"]""")]
    public async Task UnsupportedOutputModes_Get32005_WithTheKeywordsTheTckLooksFor(string modes)
    {
        var r = await RpcAsync("message/send", new JsonObject
        {
            ["message"] = TckMessage("Generate output in unsupported format"),
            ["configuration"] = new JsonObject { ["acceptedOutputModes"] = JsonNode.Parse(modes) },
        });
        Assert.Equal(-32005, r["error"]!["code"]!.GetValue<int>());
        var message = r["error"]!["message"]!.GetValue<string>().ToLowerInvariant();
        foreach (var keyword in new[] { "content", "type", "incompatible", "not", "supported" }) Assert.Contains(keyword, message);
    }

    [Theory]
    [InlineData("""["text/plain"]""")]
    [InlineData("""["text"]""")]
    [InlineData("""["application/json; charset=utf-8"]""")]
    [InlineData("""["image/png","*/*"]""")]
    public async Task SupportedOutputModes_AreAccepted(string modes)
    {
        var r = await RpcAsync("message/send", new JsonObject
        {
            ["message"] = TckMessage("modes"),
            ["configuration"] = new JsonObject { ["acceptedOutputModes"] = JsonNode.Parse(modes) },
        });
        Assert.Equal("submitted", r["result"]!.State());
    }

    [Fact]
    public async Task UnsupportedOperationMessage_And_NotCancelable_CarryTheirKeywords()
    {
        // -32004 (["operation","not","supported"]): continuing a finished task.
        var id = (await SendAsync("to be cancelled"))["id"]!.GetValue<string>();
        await RpcAsync("tasks/cancel", new JsonObject { ["id"] = id });
        var r = await RpcAsync("message/send", new JsonObject { ["message"] = TckMessage("more", id) });
        Assert.Equal(-32004, r["error"]!["code"]!.GetValue<int>());
        foreach (var keyword in new[] { "operation", "not", "supported" }) Assert.Contains(keyword, r["error"]!["message"]!.GetValue<string>().ToLowerInvariant());
    }

    // ---------- streaming (tests/optional/capabilities/test_streaming_methods.py) ----------

    [Fact]
    public async Task MessageStream_WithNoWorker_SendsTheTaskThenASubmittedUpdate_AtOnce()
    {
        // test_message_stream_basic: the TCK's JSON-RPC client reads two events and stops; with nobody to take the task
        // the second one must not wait for a worker.
        var body = new JsonObject
        {
            ["jsonrpc"] = "2.0", ["id"] = "s1", ["method"] = "message/stream",
            ["params"] = new JsonObject { ["message"] = TckMessage("Stream test message") },
        };
        await using var stream = await SseClient.PostAsync(Http, await InterfacePathAsync("JSONRPC"), body.ToJsonString());
        var first = (await stream.NextAsync(TimeSpan.FromSeconds(5))).Json;
        Assert.Equal("s1", first.GetProperty("id").GetString());
        var task = first.GetProperty("result");
        Assert.Equal("task", task.GetProperty("kind").GetString());
        var second = (await stream.NextAsync(TimeSpan.FromSeconds(5))).Json.GetProperty("result");
        Assert.Equal("status-update", second.GetProperty("kind").GetString());
        Assert.Equal(task.GetProperty("id").GetString(), second.GetProperty("taskId").GetString());
        Assert.Equal("submitted", second.GetProperty("status").GetProperty("state").GetString());
        Assert.False(second.GetProperty("final").GetBoolean());

        // test_tasks_resubscribe: a second subscriber to the open task gets events at once too.
        var resubscribe = new JsonObject
        {
            ["jsonrpc"] = "2.0", ["id"] = "s2", ["method"] = "tasks/resubscribe",
            ["params"] = new JsonObject { ["id"] = task.GetProperty("id").GetString() },
        };
        await using var again = await SseClient.PostAsync(Http, "/a2a/jsonrpc", resubscribe.ToJsonString());
        Assert.Equal("task", (await again.NextAsync(TimeSpan.FromSeconds(5))).Json.GetProperty("result").GetProperty("kind").GetString());

        // Cancelling ends both streams with a final canceled update.
        await RpcAsync("tasks/cancel", new JsonObject { ["id"] = task.GetProperty("id").GetString() });
        var last = (await again.UntilAsync(e => e.Json.GetProperty("result").TryGetProperty("final", out var f) && f.GetBoolean())).Last();
        Assert.Equal("canceled", last.Json.GetProperty("result").GetProperty("status").GetProperty("state").GetString());
        var ended = (await stream.UntilAsync(e => e.Json.GetProperty("result").TryGetProperty("final", out var f) && f.GetBoolean())).Last();
        Assert.Equal("canceled", ended.Json.GetProperty("result").GetProperty("status").GetProperty("state").GetString());
        Assert.True(await stream.EndsWithinAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task MessageStream_InvalidParams_IsAJsonRpcError()
    {
        // test_message_stream_invalid_params
        var r = await RpcAsync("message/stream", new JsonObject { ["invalid"] = "params" });
        Assert.Equal(-32602, r["error"]!["code"]!.GetValue<int>());
        Assert.Equal(-32001, (await RpcAsync("tasks/resubscribe", new JsonObject { ["id"] = "non-existent-task-id-1" }))["error"]!["code"]!.GetValue<int>());
    }

    // ---------- push notification configs (tests/optional/capabilities/test_push_notification_config_methods.py) ----------

    [Fact]
    public async Task PushConfig_SetGetListDelete_AsTheTckSendsThem_OverJsonRpc()
    {
        var id = (await SendAsync("Task for push notification config test"))["id"]!.GetValue<string>();

        // Without an id the config is "default" (the TCK then asks for pushNotificationConfigId "default").
        var set = (await RpcAsync("tasks/pushNotificationConfig/set", new JsonObject
        {
            ["taskId"] = id, ["pushNotificationConfig"] = new JsonObject { ["url"] = "https://example.com/webhook" },
        }))["result"]!;
        Assert.Equal("https://example.com/webhook", set["pushNotificationConfig"]!["url"]!.GetValue<string>());
        var got = (await RpcAsync("tasks/pushNotificationConfig/get", new JsonObject { ["id"] = id, ["pushNotificationConfigId"] = "default" }))["result"]!;
        Assert.Equal("https://example.com/webhook", got["pushNotificationConfig"]!["url"]!.GetValue<string>());

        var configId = $"test_set_push_notification_config_{Guid.NewGuid()}";
        var named = (await RpcAsync("tasks/pushNotificationConfig/set", new JsonObject
        {
            ["taskId"] = id, ["pushNotificationConfig"] = new JsonObject { ["id"] = configId, ["url"] = "https://example.com/webhook1" },
        }))["result"]!;
        Assert.Equal(configId, named["pushNotificationConfig"]!["id"]!.GetValue<string>());
        Assert.Equal(id, named["taskId"]!.GetValue<string>());
        var list = (await RpcAsync("tasks/pushNotificationConfig/list", new JsonObject { ["id"] = id }))["result"]!.AsArray();
        Assert.Contains(list, c => c!["pushNotificationConfig"]!["url"]!.GetValue<string>() == "https://example.com/webhook1");
        var deleted = await RpcAsync("tasks/pushNotificationConfig/delete", new JsonObject { ["id"] = id, ["pushNotificationConfigId"] = configId });
        Assert.True(deleted.AsObject().ContainsKey("result") && deleted["result"] is null);
        Assert.Single((await RpcAsync("tasks/pushNotificationConfig/list", new JsonObject { ["id"] = id }))["result"]!.AsArray());

        // A task with no configs lists none.
        var empty = (await SendAsync("Task for empty push notification config list test"))["id"]!.GetValue<string>();
        Assert.Empty((await RpcAsync("tasks/pushNotificationConfig/list", new JsonObject { ["id"] = empty }))["result"]!.AsArray());

        // Unknown task: an error that says the task was not found.
        foreach (var (method, p) in new (string, JsonNode)[]
        {
            ("tasks/pushNotificationConfig/set", new JsonObject { ["taskId"] = "nonexistent-task-id", ["pushNotificationConfig"] = new JsonObject { ["url"] = "https://example.com/webhook" } }),
            ("tasks/pushNotificationConfig/get", new JsonObject { ["id"] = "nonexistent-task-id", ["pushNotificationConfigId"] = "default" }),
        })
        {
            var error = (await RpcAsync(method, p))["error"]!;
            Assert.Equal(-32001, error["code"]!.GetValue<int>());
            Assert.Contains("not found", error["message"]!.GetValue<string>().ToLowerInvariant());
        }
    }

    [Fact]
    public async Task PushConfig_OverRest_ProtoShapes_WithSnakeCaseConfigId()
    {
        var rest = await InterfacePathAsync("HTTP+JSON");
        var send = await Http.PostAsync(rest + "/v1/message:send", Json("""{"message":{"messageId":"push-rest","role":"ROLE_USER","content":[{"text":"Task for push notification config test"}]}}"""), Ct);
        var id = JsonNode.Parse(await send.Content.ReadAsStringAsync(Ct))!["task"]!["id"]!.GetValue<string>();
        var configId = $"cfg-{Guid.NewGuid():N}";

        var set = await Http.PostAsync($"{rest}/v1/tasks/{id}/pushNotificationConfigs", Json(new JsonObject
        {
            ["parent"] = $"tasks/{id}", ["config_id"] = configId,
            ["config"] = new JsonObject
            {
                ["name"] = $"tasks/{id}/pushNotificationConfigs/{configId}",
                ["push_notification_config"] = new JsonObject { ["url"] = "https://example.com/webhook1" },
            },
        }.ToJsonString()), Ct);
        Assert.True(set.IsSuccessStatusCode, await set.Content.ReadAsStringAsync(Ct));
        var created = JsonNode.Parse(await set.Content.ReadAsStringAsync(Ct))!;
        Assert.Equal(configId, created["pushNotificationConfig"]!["id"]!.GetValue<string>());
        var configs = JsonNode.Parse(await Http.GetStringAsync($"{rest}/v1/tasks/{id}/pushNotificationConfigs", Ct))!["configs"]!.AsArray();
        var mine = Assert.Single(configs);
        Assert.Equal($"tasks/{id}/pushNotificationConfigs/{configId}", mine!["name"]!.GetValue<string>());
        Assert.Equal("https://example.com/webhook1", mine["pushNotificationConfig"]!["url"]!.GetValue<string>());
        Assert.True((await Http.DeleteAsync($"{rest}/v1/tasks/{id}/pushNotificationConfigs/{configId}", Ct)).IsSuccessStatusCode);
        var missing = await Http.GetAsync($"{rest}/v1/tasks/nonexistent-task-id/pushNotificationConfigs/default", Ct);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(-32001, JsonNode.Parse(await missing.Content.ReadAsStringAsync(Ct))!["code"]!.GetValue<int>());
    }

    // ---------- HTTP+JSON transport (RESTClient; transport/test_multi_transport_equivalence.py) ----------

    [Fact]
    public async Task Rest_SendGetCancel_AsTheTckRestClientSendsThem_MatchJsonRpc()
    {
        var rest = await InterfacePathAsync("HTTP+JSON");
        // convert_a2a_message_to_protobuf_json: no configuration at all, snake_case history_length on get.
        var send = await Http.PostAsync(rest + "/v1/message:send", Json("""{"message":{"message_id":"rest-1","role":"ROLE_USER","content":[{"text":"Hello from TCK!"}]}}"""), Ct);
        Assert.True(send.IsSuccessStatusCode);
        var task = JsonNode.Parse(await send.Content.ReadAsStringAsync(Ct))!["task"]!;
        Assert.Equal("TASK_STATE_SUBMITTED", task["status"]!["state"]!.GetValue<string>());
        var id = task["id"]!.GetValue<string>();

        var got = JsonNode.Parse(await Http.GetStringAsync($"{rest}/v1/tasks/{id}?history_length=1", Ct))!;
        Assert.Equal(id, got["id"]!.GetValue<string>());
        Assert.Single(got["history"]!.AsArray());
        // The same task through JSON-RPC: the same id, context and state.
        var viaRpc = (await RpcAsync("tasks/get", new JsonObject { ["id"] = id }))["result"]!;
        Assert.Equal(got["contextId"]!.GetValue<string>(), viaRpc["contextId"]!.GetValue<string>());
        Assert.Equal("submitted", viaRpc.State());

        var cancel = await Http.PostAsync($"{rest}/v1/tasks/{id}:cancel", null, Ct);
        Assert.True(cancel.IsSuccessStatusCode);
        Assert.Equal("TASK_STATE_CANCELLED", JsonNode.Parse(await cancel.Content.ReadAsStringAsync(Ct))!["status"]!["state"]!.GetValue<string>());
        var missing = await Http.PostAsync($"{rest}/v1/tasks/nonexistent-task-id:cancel", null, Ct);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(-32001, JsonNode.Parse(await missing.Content.ReadAsStringAsync(Ct))!["code"]!.GetValue<int>());
        var invalid = await Http.PostAsync(rest + "/v1/message:send", Json("""{"message":{"kind":"message"}}"""), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Equal(-32602, JsonNode.Parse(await invalid.Content.ReadAsStringAsync(Ct))!["code"]!.GetValue<int>());
    }

    [Fact]
    public async Task RestStream_WithNoWorker_SendsTaskThenSubmittedUpdate()
    {
        var rest = await InterfacePathAsync("HTTP+JSON");
        await using var stream = await SseClient.PostAsync(Http, rest + "/v1/message:stream",
            """{"message":{"messageId":"rest-stream","role":"ROLE_USER","content":[{"text":"Stream test message"}]}}""");
        var first = (await stream.NextAsync(TimeSpan.FromSeconds(5))).Json;
        var id = first.GetProperty("task").GetProperty("id").GetString();
        var second = (await stream.NextAsync(TimeSpan.FromSeconds(5))).Json.GetProperty("statusUpdate");
        Assert.Equal(id, second.GetProperty("taskId").GetString());
        Assert.Equal("TASK_STATE_SUBMITTED", second.GetProperty("status").GetProperty("state").GetString());
    }

    // ---------- quality (tests/optional/quality/test_concurrency.py) ----------

    [Fact]
    public async Task ConcurrentSends_AllSucceed_WithDistinctTasks()
    {
        var sends = Enumerable.Range(0, 10).Select(i => SendAsync($"concurrent {i}")).ToList();
        var tasks = await Task.WhenAll(sends);
        Assert.Equal(10, tasks.Select(t => t["id"]!.GetValue<string>()).Distinct().Count());
        Assert.All(tasks, t => Assert.Equal("submitted", t.State()));
    }
}
