using System.Collections.Concurrent;
using System.Net;
using CodeTether.Api.Realtime;
using CodeTether.Shared.Contracts;
using CodeTether.Testing;
using Microsoft.AspNetCore.SignalR.Client;

namespace CodeTether.E2E;

/// <summary>
/// <c>/hubs/live</c> itself, through the SignalR .NET client against the real host on a loopback port (WebSockets,
/// token as <c>access_token</c> like the JS client): authorised like the API, tenant-scoped, narrowed by WatchTask.
/// </summary>
public sealed class LiveHubTests : IAsyncLifetime
{
    ApiHost _host = null!;
    readonly List<HubConnection> _connections = [];

    public async ValueTask InitializeAsync() => _host = await ApiHost.StartAsync();

    public async ValueTask DisposeAsync()
    {
        foreach (var c in _connections) await c.DisposeAsync();
        await _host.DisposeAsync();
    }

    HubConnection Build(string? token)
    {
        var c = new HubConnectionBuilder()
            .WithUrl(new Uri(_host.BaseAddress, "/hubs/live"), o => { if (token is not null) o.AccessTokenProvider = () => Task.FromResult<string?>(token); })
            .Build();
        _connections.Add(c);
        return c;
    }

    /// <summary>A connected client and every TaskEvent it receives.</summary>
    async Task<(HubConnection Hub, Inbox Inbox)> ConnectAsync(string token)
    {
        var hub = Build(token);
        var inbox = new Inbox();
        hub.On<TaskEventDto>(nameof(ILiveClient.TaskEvent), inbox.Add);
        await hub.StartAsync();
        return (hub, inbox);
    }

    sealed class Inbox
    {
        readonly ConcurrentQueue<TaskEventDto> _events = new();
        public IReadOnlyCollection<TaskEventDto> Events => _events;
        public void Add(TaskEventDto e) => _events.Enqueue(e);
        public bool Has(string taskId, string status) => _events.Any(e => e.TaskId == taskId && e.Type == "status" && e.Status == status);
        public bool Any(string taskId) => _events.Any(e => e.TaskId == taskId);

        public async Task WaitAsync(string taskId, string status)
        {
            var until = DateTime.UtcNow.AddSeconds(10);
            while (!Has(taskId, status))
            {
                if (DateTime.UtcNow > until)
                    throw new TimeoutException($"no {status} event for {taskId}; got: {string.Join(", ", _events.Select(e => $"{e.TaskId}:{e.Status}"))}");
                await Task.Delay(20);
            }
        }
    }

    [Fact]
    public async Task WithoutAToken_TheConnectionIsRefused()
    {
        var ex = await Assert.ThrowsAsync<HttpRequestException>(() => Build(null).StartAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, ex.StatusCode);
        var wrong = await Assert.ThrowsAsync<HttpRequestException>(() => Build("not-a-token").StartAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
    }

    [Fact]
    public async Task WithAToken_TenantEventsArrive_WatchTaskNarrows_OtherTenantsNeverSeeThem()
    {
        var (_, mine) = await ConnectAsync(ApiHost.ViewerToken);           // the default tenant, read-only is enough
        var (narrowHub, narrow) = await ConnectAsync(ApiHost.OperatorToken);
        var (otherHub, other) = await ConnectAsync(ApiHost.OtherTenantToken); // tenant "other-team"

        var http = _host.Client();
        var worker = _host.Client(ApiHost.WorkerToken);
        var codebase = await http.CreateCodebaseAsync("hub-tests", "/srv/hub-tests");
        (await worker.PostJsonAsync("/v1/agent/workers/register", new { worker_id = "hub-worker", codebases = new[] { codebase.Id } })).EnsureSuccessStatusCode();

        // Created through REST: the tenant's connections hear about it.
        var watched = await http.TriggerAsync(codebase.Id, "echo watched", "watched");
        await mine.WaitAsync(watched.Id, TaskStatuses.Submitted);
        await narrow.WaitAsync(watched.Id, TaskStatuses.Submitted);

        // Narrow the second connection to one task; the other tenant tries to watch the same id (its group carries its own tenant).
        await narrowHub.InvokeAsync(nameof(LiveHub.WatchTask), watched.Id);
        await narrowHub.InvokeAsync(nameof(LiveHub.UnwatchTenant));
        await otherHub.InvokeAsync(nameof(LiveHub.WatchTask), watched.Id);

        // Claimed through the worker protocol: the watched task's claim reaches both; an unwatched task only the tenant-wide one.
        (await worker.PostJsonAsync($"/v1/worker/tasks/{watched.Id}/claim", new { worker_id = "hub-worker" })).EnsureSuccessStatusCode();
        var unwatched = await http.TriggerAsync(codebase.Id, "echo unwatched", "unwatched");
        await mine.WaitAsync(watched.Id, TaskStatuses.Claimed);
        await narrow.WaitAsync(watched.Id, TaskStatuses.Claimed);
        await mine.WaitAsync(unwatched.Id, TaskStatuses.Submitted);

        // The other tenant's own task reaches only the other tenant.
        var otherHttp = _host.Client(ApiHost.OtherTenantToken);
        var theirs = await otherHttp.TriggerAsync((await otherHttp.CreateCodebaseAsync("their-repo", "/srv/their-repo")).Id, "echo theirs", "theirs");
        await other.WaitAsync(theirs.Id, TaskStatuses.Submitted);

        await Task.Delay(500); // anything wrongly routed would have arrived by now (same relay, same order)
        Assert.False(narrow.Any(unwatched.Id), "a connection narrowed to one task received another task's events");
        Assert.False(mine.Any(theirs.Id), "another tenant's task reached the default tenant");
        Assert.False(narrow.Any(theirs.Id));
        Assert.DoesNotContain(other.Events, e => e.TaskId == watched.Id || e.TaskId == unwatched.Id);
        Assert.All(other.Events, e => Assert.Equal(theirs.Id, e.TaskId));
    }
}
