using CodeTether.Api.Persistence;
using CodeTether.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace CodeTether.Api.Tests.Lifecycle;

/// <summary>
/// Base of the lifecycle guarantee tests: each test starts the host(s) it needs with its own settings
/// (short leases, fast reaper...) and every host is disposed at the end, whatever happened.
/// </summary>
public abstract class LifecycleTest(DbKind kind) : IAsyncLifetime
{
    readonly List<ApiHost> _hosts = [];

    protected DbKind Kind { get; } = kind;

    protected static CancellationToken TestCancelled => TestContext.Current.CancellationToken;

    /// <summary>Fast lifecycle timers: 2 s leases, a reaper 5× a second, 2 s to offline, heartbeats every 0.5 s.</summary>
    protected static Dictionary<string, string?> FastTimers(params (string Key, string Value)[] more)
    {
        var s = new Dictionary<string, string?>
        {
            ["Tasks:LeaseDuration"] = "00:00:02",
            ["Tasks:ReaperInterval"] = "00:00:00.200",
            ["Workers:OfflineAfter"] = "00:00:02",
            ["Workers:StreamHeartbeat"] = "00:00:00.500",
        };
        foreach (var (k, v) in more) s[k] = v;
        return s;
    }

    protected async Task<ApiHost> StartHostAsync(IReadOnlyDictionary<string, string?>? settings = null,
        TestDatabase? db = null, string? dataDir = null, int port = 0)
    {
        var host = await ApiHost.StartAsync(Kind, settings, db, dataDir, port);
        _hosts.Add(host);
        return host;
    }

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        foreach (var h in Enumerable.Reverse(_hosts)) await h.DisposeAsync(); // a restarted host before the one owning the database
    }
}

/// <summary>Reads the host's database directly (default tenant), to compare what the API said with what was stored.</summary>
public static class HostData
{
    public static async Task<T> QueryAsync<T>(this ApiHost host, Func<CodeTetherDb, Task<T>> query)
    {
        await using var scope = host.Services.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<CodeTetherDb>());
    }

    public static Task<List<long>> EventIdsOfCodebaseAsync(this ApiHost host, string codebaseId) =>
        host.QueryAsync(db => db.TaskEvents.AsNoTracking().Where(e => e.CodebaseId == codebaseId).OrderBy(e => e.Position).Select(e => e.Position!.Value).ToListAsync());

    public static Task<List<long>> EventIdsOfTaskAsync(this ApiHost host, string taskId) =>
        host.QueryAsync(db => db.TaskEvents.AsNoTracking().Where(e => e.TaskId == taskId).OrderBy(e => e.Position).Select(e => e.Position!.Value).ToListAsync());
}
