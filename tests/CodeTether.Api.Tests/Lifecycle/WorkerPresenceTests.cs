using System.Net;
using System.Net.Http.Json;
using CodeTether.Api.Realtime;
using CodeTether.Shared.Contracts;
using CodeTether.Testing;

namespace CodeTether.Api.Tests.Lifecycle;

/// <summary>
/// A worker is shown <c>offline</c> in <c>GET /v1/agent/workers</c> once it closes its stream or stops sending
/// heartbeats for <c>Workers:OfflineAfter</c>, and <c>online</c> again as soon as it reconnects.
/// Waits are on the host's event bus (the same change the dashboard sees), never on the clock.
/// </summary>
public abstract class WorkerPresenceTests(DbKind kind) : LifecycleTest(kind)
{
    static readonly TimeSpan Generous = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Presence_StreamClosed_ShownOffline_ReconnectShowsOnlineAgain()
    {
        var host = await StartHostAsync(FastTimers());
        var admin = host.Client();
        var worker = host.Client(ApiHost.WorkerToken);
        var codebase = await admin.CreateCodebaseAsync();
        await worker.RegisterWorkerAsync("laptop", codebase.Id);

        var stream = await worker.OpenWorkerStreamAsync("laptop");
        Assert.Equal("connected", (await stream.NextAsync()).Type);
        // Idle on an open stream for longer than OfflineAfter (4 heartbeats x 0.5 s > 2 s): still online.
        for (var i = 0; i < 5; i++) Assert.Equal("heartbeat", (await stream.NextAsync(skipHeartbeats: false)).Type);
        Assert.Equal(WorkerStatuses.Online, (await StatusInListAsync(admin, "laptop")));

        var offline = WaitForStatusAsync(host, "laptop", WorkerStatuses.Offline);
        await stream.DisposeAsync();
        await offline;
        Assert.Equal(WorkerStatuses.Offline, await StatusInListAsync(admin, "laptop"));
        Assert.Contains(await admin.GetFromJsonAsync<List<WorkerDto>>("/v1/agent/workers?status=offline", Protocol.Json, TestCancelled) ?? [],
            w => w.WorkerId == "laptop");

        await using var again = await worker.OpenWorkerStreamAsync("laptop");
        Assert.Equal("connected", (await again.NextAsync()).Type);
        Assert.Equal(WorkerStatuses.Online, await StatusInListAsync(admin, "laptop"));
    }

    [Fact]
    public async Task Presence_RegisteredButSilent_ShownOfflineAfterOfflineAfter_HeartbeatShowsOnlineAgain()
    {
        var host = await StartHostAsync(FastTimers());
        var admin = host.Client();
        var worker = host.Client(ApiHost.WorkerToken);
        var codebase = await admin.CreateCodebaseAsync();
        var offline = WaitForStatusAsync(host, "cron-box", WorkerStatuses.Offline);
        var registered = await worker.RegisterWorkerAsync("cron-box", codebase.Id);
        Assert.Equal(WorkerStatuses.Online, registered.Status);

        var seen = await offline; // the reaper saw no heartbeat for OfflineAfter
        Assert.True(seen.LastHeartbeat <= DateTimeOffset.UtcNow - TimeSpan.FromSeconds(2), "shown offline before OfflineAfter passed");
        Assert.Equal(WorkerStatuses.Offline, await StatusInListAsync(admin, "cron-box"));

        var beat = await worker.PostAsync("/v1/agent/workers/cron-box/heartbeat", null, TestCancelled);
        Assert.Equal(HttpStatusCode.OK, beat.StatusCode);
        Assert.Equal(WorkerStatuses.Online, (await beat.ReadAsync<WorkerDto>()).Status);
        Assert.Equal(WorkerStatuses.Online, await StatusInListAsync(admin, "cron-box"));
    }

    static async Task<string?> StatusInListAsync(HttpClient admin, string workerId) =>
        (await admin.GetFromJsonAsync<List<WorkerDto>>("/v1/agent/workers", Protocol.Json, TestCancelled))!
            .SingleOrDefault(w => w.WorkerId == workerId)?.Status;

    /// <summary>Subscribes now; completes when the worker is published with that status.</summary>
    static Task<WorkerDto> WaitForStatusAsync(ApiHost host, string workerId, string status)
    {
        var sub = host.Service<IEventBus>().Subscribe(e => e.Worker is { } w && w.WorkerId == workerId && w.Status == status);
        return WaitAsync();

        async Task<WorkerDto> WaitAsync()
        {
            using (sub)
            {
                using var timeout = new CancellationTokenSource(Generous);
                try { return (await sub.Reader.ReadAsync(timeout.Token)).Worker!; }
                catch (OperationCanceledException) { throw new TimeoutException($"Worker {workerId} was never shown {status}."); }
            }
        }
    }
}

public sealed class SqliteWorkerPresenceTests() : WorkerPresenceTests(DbKind.Sqlite);

public sealed class PostgresWorkerPresenceTests() : WorkerPresenceTests(DbKind.Postgres);
