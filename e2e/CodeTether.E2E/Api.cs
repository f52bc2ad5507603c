using System.Net.Http.Json;
using CodeTether.Shared.Contracts;
using CodeTether.Shared.Json;

namespace CodeTether.E2E;

/// <summary>Arranging data through the public API, as another client would.</summary>
public static class Api
{
    public static async Task<T> ReadAsync<T>(this HttpResponseMessage res) => (await res.Content.ReadFromJsonAsync<T>(CodeTetherJson.Options))!;

    public static Task<HttpResponseMessage> PostJsonAsync(this HttpClient http, string path, object body) =>
        http.PostAsJsonAsync(path, body, CodeTetherJson.Options);

    public static async Task<CodebaseDto> CreateCodebaseAsync(this HttpClient http, string name, string path)
    {
        var res = await http.PostJsonAsync("/v1/agent/codebases", new { name, path });
        res.EnsureSuccessStatusCode();
        return await res.ReadAsync<CodebaseDto>();
    }

    public static async Task<TaskDto> TriggerAsync(this HttpClient http, string codebaseId, string prompt, string? title = null)
    {
        var res = await http.PostJsonAsync($"/v1/agent/codebases/{codebaseId}/trigger", new { prompt, title });
        res.EnsureSuccessStatusCode();
        return await res.ReadAsync<TaskDto>();
    }

    public static async Task<TaskDetailDto> GetTaskAsync(this HttpClient http, string taskId) =>
        await (await http.GetAsync($"/v1/agent/tasks/{taskId}")).ReadAsync<TaskDetailDto>();

    public static async Task<TaskDetailDto> WaitForStatusAsync(this HttpClient http, string taskId, string status, TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        while (true)
        {
            var d = await http.GetTaskAsync(taskId);
            if (d.Task.Status == status) return d;
            if (DateTime.UtcNow > until) throw new TimeoutException($"task {taskId} is {d.Task.Status}, not {status}");
            await Task.Delay(200);
        }
    }
}
