using System.Net.Http.Json;
using System.Text.Json;
using CodeTether.Shared.Contracts;
using CodeTether.Shared.Json;
using CodeTether.Testing;

namespace CodeTether.Api.Tests;

/// <summary>Small request helpers speaking the /v1 wire format (snake_case), as a client would.</summary>
public static class Protocol
{
    public static JsonSerializerOptions Json => CodeTetherJson.Options;

    public static async Task<T> ReadAsync<T>(this HttpResponseMessage res) =>
        (await res.Content.ReadFromJsonAsync<T>(Json, Ct))!;

    public static Task<HttpResponseMessage> PostJsonAsync(this HttpClient http, string path, object body) =>
        http.PostAsJsonAsync(path, body, Json, Ct);

    /// <summary>The running test's token: requests stop when the test is cancelled.</summary>
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static Task<HttpResponseMessage> Get(this HttpClient http, string path) => http.GetAsync(path, Ct);

    public static Task<HttpResponseMessage> Get(this HttpClient http, Uri path) => http.GetAsync(path, Ct);

    public static Task<HttpResponseMessage> Post(this HttpClient http, string path, HttpContent? content = null) =>
        http.PostAsync(path, content, Ct);

    /// <summary>Posts raw text as-is (malformed JSON, wrong types) with the given content type.</summary>
    public static Task<HttpResponseMessage> PostRaw(this HttpClient http, string path, string body, string contentType = "application/json") =>
        http.PostAsync(path, new StringContent(body, System.Text.Encoding.UTF8, contentType), Ct);

    public static Task<HttpResponseMessage> Patch(this HttpClient http, string path, object body) =>
        http.PatchAsync(path, JsonContent.Create(body, options: Json), Ct);

    public static Task<HttpResponseMessage> PatchRaw(this HttpClient http, string path, string body) =>
        http.PatchAsync(path, new StringContent(body, System.Text.Encoding.UTF8, "application/json"), Ct);

    public static Task<HttpResponseMessage> Delete(this HttpClient http, string path) => http.DeleteAsync(path, Ct);

    public static Task<HttpResponseMessage> SendRequest(this HttpClient http, HttpRequestMessage request) => http.SendAsync(request, Ct);

    public static Task<string> BodyAsync(this HttpResponseMessage res) => res.Content.ReadAsStringAsync(Ct);

    public static async Task<CodebaseDto> CreateCodebaseAsync(this HttpClient http, string? path = null, string name = "demo")
    {
        var res = await http.PostJsonAsync("/v1/agent/codebases", new { name, path = path ?? "/srv/repos/" + Guid.NewGuid().ToString("N")[..8] });
        res.EnsureSuccessStatusCode();
        return await res.ReadAsync<CodebaseDto>();
    }

    public static async Task<TaskDto> TriggerAsync(this HttpClient http, string codebaseId, string prompt = "fix the bug", object? extra = null)
    {
        var body = new Dictionary<string, object?> { ["prompt"] = prompt };
        if (extra is not null)
            foreach (var p in JsonSerializer.SerializeToElement(extra, Json).EnumerateObject()) body[p.Name] = p.Value;
        var res = await http.PostJsonAsync($"/v1/agent/codebases/{codebaseId}/trigger", body);
        Assert.Equal(System.Net.HttpStatusCode.Accepted, res.StatusCode);
        return await res.ReadAsync<TaskDto>();
    }

    public static async Task<WorkerDto> RegisterWorkerAsync(this HttpClient http, string workerId, params string[] codebases)
    {
        var res = await http.PostJsonAsync("/v1/agent/workers/register", new { worker_id = workerId, name = workerId, hostname = "test-host", codebases });
        res.EnsureSuccessStatusCode();
        return await res.ReadAsync<WorkerDto>();
    }

    public static Task<SseClient> OpenWorkerStreamAsync(this HttpClient http, string workerId) =>
        SseClient.OpenAsync(http, "/v1/worker/tasks/stream", headers: new Dictionary<string, string> { ["X-Worker-ID"] = workerId });

    public static Task<HttpResponseMessage> ClaimAsync(this HttpClient http, string taskId, string workerId) =>
        http.PostJsonAsync("/v1/worker/tasks/claim", new { task_id = taskId, worker_id = workerId });

    public static Task<HttpResponseMessage> ReleaseAsync(this HttpClient http, string taskId, string workerId, string status = "completed",
        string? result = "done", string? error = null, long? fencingToken = null) =>
        http.PostJsonAsync("/v1/worker/tasks/release", new { task_id = taskId, worker_id = workerId, status, result, error, fencing_token = fencingToken });

    public static async Task<TaskDetailDto> GetTaskAsync(this HttpClient http, string taskId)
    {
        var res = await http.GetAsync($"/v1/agent/tasks/{taskId}");
        res.EnsureSuccessStatusCode();
        return await res.ReadAsync<TaskDetailDto>();
    }
}
