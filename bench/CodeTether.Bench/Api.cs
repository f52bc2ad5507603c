using System.Net;
using System.Net.Http.Json;
using CodeTether.Shared.Contracts;
using CodeTether.Shared.Json;

namespace CodeTether.Bench;

/// <summary>The few REST calls the scenarios need, in the host's snake_case JSON.</summary>
public static class Api
{
    public static readonly System.Text.Json.JsonSerializerOptions Json = CodeTetherJson.Options;

    public static async Task<string> CreateCodebaseAsync(HttpClient http, string name)
    {
        using var r = await http.PostAsJsonAsync("/v1/agent/codebases",
            new RegisterCodebaseRequest { Name = name, Path = $"/srv/bench/{name}-{Guid.NewGuid():N}" }, Json);
        await EnsureAsync(r, "register codebase");
        return (await r.Content.ReadFromJsonAsync<CodebaseDto>(Json))!.Id;
    }

    public static async Task RegisterWorkerAsync(HttpClient http, string workerId, string codebaseId)
    {
        using var r = await http.PostAsJsonAsync("/v1/agent/workers/register",
            new RegisterWorkerRequest { WorkerId = workerId, Name = workerId, Hostname = "bench", Codebases = [codebaseId] }, Json);
        await EnsureAsync(r, "register worker");
    }

    public static Task<HttpResponseMessage> TriggerAsync(HttpClient http, string codebaseId, string title, CancellationToken ct = default) =>
        http.PostAsJsonAsync($"/v1/agent/codebases/{codebaseId}/trigger", new TriggerTaskRequest { Prompt = "bench: " + title, Title = title }, Json, ct);

    public static Task<HttpResponseMessage> ClaimAsync(HttpClient http, string taskId, string workerId, CancellationToken ct = default) =>
        http.PostAsJsonAsync("/v1/worker/tasks/claim", new ClaimTaskRequest { TaskId = taskId, WorkerId = workerId }, Json, ct);

    public static Task<HttpResponseMessage> ReleaseAsync(HttpClient http, string taskId, string workerId, CancellationToken ct = default) =>
        http.PostAsJsonAsync("/v1/worker/tasks/release",
            new ReleaseTaskRequest { TaskId = taskId, WorkerId = workerId, Status = TaskStatuses.Completed, Result = "ok" }, Json, ct);

    public static async Task EnsureAsync(HttpResponseMessage r, string what)
    {
        if (r.IsSuccessStatusCode) return;
        var body = await r.Content.ReadAsStringAsync();
        throw new HttpRequestException($"{what}: HTTP {(int)r.StatusCode} {body}", null, r.StatusCode);
    }

    public static bool IsConflict(HttpResponseMessage r) => r.StatusCode == HttpStatusCode.Conflict;
}
