using CodeTether.Api.Auth;
using CodeTether.Shared.Contracts;
using Microsoft.AspNetCore.SignalR;

namespace CodeTether.Api.Realtime;

/// <summary>What <c>/hubs/live</c> pushes to its clients (the <c>@microsoft/signalr</c> JS client, tools, other hosts).</summary>
public interface ILiveClient
{
    /// <summary>A task event (status change or agent step) of the caller's tenant.</summary>
    Task TaskEvent(TaskEventDto e);
    Task WorkerChanged(WorkerDto worker);
    Task CodebaseChanged(CodebaseDto codebase);
}

/// <summary>
/// The live hub. Authorised like the API (bearer API token, Keycloak access token, or the dashboard cookie); every
/// connection joins its tenant's group and may narrow to a task or codebase. Group names carry the tenant, so a
/// caller can never join another team's stream.
/// </summary>
public sealed class LiveHub : Hub<ILiveClient>
{
    public static string TenantGroup(string tenant) => $"tenant:{tenant}";
    public static string TaskGroup(string tenant, string taskId) => $"task:{tenant}:{taskId}";
    public static string CodebaseGroup(string tenant, string codebaseId) => $"codebase:{tenant}:{codebaseId}";

    string Tenant => Context.User?.FindFirst(CodeTetherClaims.Tenant)?.Value ?? Auth.Tenant.DefaultId;

    /// <summary>Everything of the tenant unless the client calls <see cref="WatchTask"/>/<see cref="WatchCodebase"/> and <see cref="UnwatchTenant"/>.</summary>
    public override async Task OnConnectedAsync()
    {
        await Groups.AddToGroupAsync(Context.ConnectionId, TenantGroup(Tenant));
        await base.OnConnectedAsync();
    }

    public Task WatchTask(string taskId) => Groups.AddToGroupAsync(Context.ConnectionId, TaskGroup(Tenant, taskId));
    public Task UnwatchTask(string taskId) => Groups.RemoveFromGroupAsync(Context.ConnectionId, TaskGroup(Tenant, taskId));
    public Task WatchCodebase(string codebaseId) => Groups.AddToGroupAsync(Context.ConnectionId, CodebaseGroup(Tenant, codebaseId));
    public Task UnwatchCodebase(string codebaseId) => Groups.RemoveFromGroupAsync(Context.ConnectionId, CodebaseGroup(Tenant, codebaseId));
    public Task UnwatchTenant() => Groups.RemoveFromGroupAsync(Context.ConnectionId, TenantGroup(Tenant));
}

/// <summary>Pushes every committed change from the bus to the hub's groups.</summary>
public sealed class LiveHubRelay(IEventBus bus, IHubContext<LiveHub, ILiveClient> hub, ILogger<LiveHubRelay> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            using var sub = bus.Subscribe(_ => true);
            try
            {
                await foreach (var e in sub.Reader.ReadAllAsync(stoppingToken))
                {
                    try { await RelayAsync(e); }
                    catch (Exception ex) when (ex is not OperationCanceledException) { Log.HandlerFailed(log, ex); }
                }
                return;
            }
            catch (OperationCanceledException) { return; }
            catch (SubscriberOverflowException) { Log.RelayOverflow(log); }
        }
    }

    async Task RelayAsync(Shared.Events.LiveEvent e)
    {
        var tenant = e.TenantId;
        if (e.Task is { } t)
        {
            await hub.Clients.Groups(LiveHub.TenantGroup(tenant), LiveHub.TaskGroup(tenant, t.TaskId), LiveHub.CodebaseGroup(tenant, t.CodebaseId)).TaskEvent(t);
        }
        else if (e.Worker is { } w)
        {
            await hub.Clients.Group(LiveHub.TenantGroup(tenant)).WorkerChanged(w);
        }
        else if (e.Codebase is { } c)
        {
            await hub.Clients.Groups(LiveHub.TenantGroup(tenant), LiveHub.CodebaseGroup(tenant, c.Id)).CodebaseChanged(c);
        }
    }
}
