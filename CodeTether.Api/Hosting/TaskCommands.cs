using System.CommandLine;
using System.Text.Json;
using CodeTether.Shared.Client;
using CodeTether.Shared.Contracts;
using CodeTether.Shared.Json;
using CodeTether.Worker;

namespace CodeTether.Api.Hosting;

/// <summary><c>codetether task create|list|get|cancel</c>: the task API from a terminal. Prints JSON (snake_case).</summary>
public static class TaskCommands
{
    public static Command Create()
    {
        var server = new Option<string?>("--server") { Description = $"Server URL [env A2A_SERVER_URL, default {WorkerCommand.DefaultServerUrl}]", Recursive = true };
        var token = new Option<string?>("--token") { Description = "API token [env A2A_TOKEN; for a loopback server, default $CODETETHER_DATA_DIR/admin-token]", Recursive = true };
        var task = new Command("task", "Create, list, inspect and cancel tasks on a CodeTether server.") { server, token };

        var prompt = new Argument<string>("prompt") { Description = "What the agent should do." };
        var codebase = new Option<string?>("--codebase", "-c") { Description = "Codebase id or absolute path (default: global)." };
        var agent = new Option<string?>("--agent") { Description = "build, plan or explore (default build)." };
        var model = new Option<string?>("--model") { Description = "provider:model or a tier (fast, balanced, best)." };
        var priority = new Option<int?>("--priority") { Description = "Higher runs first (-1000..1000)." };
        var create = new Command("create", "Queue a task.") { prompt, codebase, agent, model, priority };
        create.SetAction((p, ct) => RunAsync(p, server, token, async client =>
        {
            var target = p.GetValue(codebase);
            var isPath = target is not null && (target.StartsWith('/') || Path.IsPathFullyQualified(target));
            return await client.CreateTaskAsync(new CreateTaskRequest
            {
                Prompt = p.GetValue(prompt),
                CodebaseId = isPath ? null : target,
                CodebasePath = isPath ? Path.GetFullPath(target!) : null,
                Agent = p.GetValue(agent),
                Model = p.GetValue(model),
                Priority = p.GetValue(priority),
            }, ct);
        }, ct));

        var status = new Option<string?>("--status") { Description = "Filter by state (or 'pending')." };
        var codebaseFilter = new Option<string?>("--codebase", "-c") { Description = "Filter by codebase id." };
        var limit = new Option<int?>("--limit") { Description = "At most this many (1..500, default 50)." };
        var list = new Command("list", "List tasks, newest first.") { status, codebaseFilter, limit };
        list.SetAction((p, ct) => RunAsync(p, server, token, async client =>
            await client.ListTasksAsync(p.GetValue(status), p.GetValue(codebaseFilter), p.GetValue(limit), ct: ct), ct));

        var id = new Argument<string>("id") { Description = "Task id." };
        var get = new Command("get", "Show a task with its timeline.") { id };
        get.SetAction((p, ct) => RunAsync<TaskDetailDto?>(p, server, token, client => client.GetTaskAsync(p.GetValue(id)!, ct), ct));

        var cancelId = new Argument<string>("id") { Description = "Task id." };
        var reason = new Option<string?>("--reason") { Description = "Why (shown in the timeline)." };
        var cancel = new Command("cancel", "Cancel a task; its worker is told over its stream.") { cancelId, reason };
        cancel.SetAction((p, ct) => RunAsync(p, server, token, async client =>
            await client.CancelTaskAsync(p.GetValue(cancelId)!, p.GetValue(reason), ct), ct));

        task.Subcommands.Add(create);
        task.Subcommands.Add(list);
        task.Subcommands.Add(get);
        task.Subcommands.Add(cancel);
        return task;
    }

    static async Task<int> RunAsync<T>(ParseResult p, Option<string?> serverOption, Option<string?> tokenOption,
        Func<CodeTetherClient, Task<T>> call, CancellationToken ct)
    {
        var serverText = p.GetValue(serverOption) ?? Environment.GetEnvironmentVariable("A2A_SERVER_URL") ?? WorkerCommand.DefaultServerUrl;
        if (!Uri.TryCreate(serverText, UriKind.Absolute, out var server))
        {
            await Console.Error.WriteLineAsync($"codetether task: --server must be a URL, got '{serverText}'");
            return 1;
        }
        var token = p.GetValue(tokenOption) ?? Environment.GetEnvironmentVariable("A2A_TOKEN")
            ?? (WorkerCommand.IsLoopback(server) ? WorkerCommand.ReadAdminToken(Environment.GetEnvironmentVariable) : null);
        using var client = CodeTetherClient.Create(new CodeTetherClientOptions
        {
            ServerUrl = server, Token = token, WorkerId = "cli-" + Environment.UserName,
        });
        try
        {
            var result = await call(client);
            if (result is null)
            {
                await Console.Error.WriteLineAsync("codetether task: not found");
                return 3;
            }
            Console.WriteLine(JsonSerializer.Serialize(result, new JsonSerializerOptions(CodeTetherJson.Options) { WriteIndented = true }));
            return 0;
        }
        catch (CodeTetherApiException ex)
        {
            await Console.Error.WriteLineAsync($"codetether task: {ex.Message}");
            return ex.StatusCode == System.Net.HttpStatusCode.NotFound ? 3 : 1;
        }
        catch (HttpRequestException ex)
        {
            await Console.Error.WriteLineAsync($"codetether task: cannot reach {server}: {ex.Message}");
            return 1;
        }
    }
}
