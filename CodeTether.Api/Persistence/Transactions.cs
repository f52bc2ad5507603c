using CodeTether.Api.Realtime;
using CodeTether.Api.Tasks;
using CodeTether.Shared.Events;
using Microsoft.EntityFrameworkCore;

namespace CodeTether.Api.Persistence;

/// <summary>
/// Runs one write as one transaction, appends its task events in commit order, then publishes what changed.
/// <para>
/// Event ids must grow in commit order so that a stream resuming after id N can never miss an event that
/// committed late. SQLite has one writer (a process-wide gate keeps writers from spinning on SQLITE_BUSY);
/// on PostgreSQL the events of a tenant are inserted under a transaction-scoped advisory lock.
/// </para>
/// <para>
/// On PostgreSQL that lock is taken for the unit of work's tenant <em>before</em> the body reads anything, so the
/// writes of one tenant are serial like on SQLite: a body that reads a row and writes back a value computed from it
/// (a worker's counters, busy flag, current task) never loses an update to a concurrent writer. Tasks are also
/// guarded by concurrency tokens; worker rows are not. Other tenants a body touches (the reaper) are locked after
/// it, in order.
/// </para>
/// </summary>
public sealed class Transactions(CodeTetherDb db, WriteGate gate, IEventBus bus, TimeProvider clock)
{
    public async Task<T> RunAsync<T>(Func<Changes, Task<T>> body, CancellationToken ct)
    {
        var changes = new Changes(db, clock);
        T result;
        using (await gate.EnterAsync(ct))
        {
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            var npgsql = db.Database.IsNpgsql();
            var own = db.TenantId;
            if (npgsql) await LockTenantAsync(own, ct);
            result = await body(changes);
            if (npgsql)
                foreach (var tenant in changes.EventTenants.Where(t => t != own)) // sorted: no two writers wait on each other in opposite order
                    await LockTenantAsync(tenant, ct);
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
        }
        foreach (var e in changes.ToLiveEvents())
            await bus.PublishAsync(e, ct);
        return result;
    }

    Task LockTenantAsync(string tenant, CancellationToken ct) =>
        db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock(hashtext({"codetether.events:" + tenant}))", ct);

    public Task RunAsync(Func<Changes, Task> body, CancellationToken ct) =>
        RunAsync<bool>(async c => { await body(c); return true; }, ct);
}

/// <summary>What a write changed, to be published after commit.</summary>
public sealed class Changes(CodeTetherDb db, TimeProvider clock)
{
    readonly List<TaskEvent> _taskEvents = [];
    readonly List<LiveEvent> _other = [];

    public DateTimeOffset Now { get; } = clock.GetUtcNow();
    public IEnumerable<string> EventTenants => _taskEvents.Select(e => e.TenantId).Distinct().Order(StringComparer.Ordinal);

    public TaskEvent AddTaskEvent(AgentTask task, string type, object? data = null, string? workerId = null)
    {
        var e = new TaskEvent
        {
            TenantId = task.TenantId,
            TaskId = task.Id,
            CodebaseId = task.CodebaseId,
            Type = type,
            Status = task.Status,
            Attempt = task.Attempt,
            WorkerId = workerId ?? task.LeaseOwner,
            Data = data switch { null => null, string s => s, _ => System.Text.Json.JsonSerializer.Serialize(data, Shared.Json.CodeTetherJson.Options) },
            CreatedAt = Now,
        };
        db.TaskEvents.Add(e);
        _taskEvents.Add(e);
        return e;
    }

    public void Publish(LiveEvent e) => _other.Add(e);

    internal IEnumerable<LiveEvent> ToLiveEvents() =>
        _taskEvents.Select(e => new LiveEvent { TenantId = e.TenantId, Task = e.ToDto() }).Concat(_other);
}

/// <summary>One writer at a time on SQLite (singleton); free on PostgreSQL.</summary>
public sealed class WriteGate(DatabaseProvider provider)
{
    readonly SemaphoreSlim? _sqlite = provider == DatabaseProvider.Sqlite ? new(1, 1) : null;

    public async ValueTask<IDisposable> EnterAsync(CancellationToken ct)
    {
        if (_sqlite is null) return NoLock.Instance;
        await _sqlite.WaitAsync(ct);
        return new Release(_sqlite);
    }

    sealed class Release(SemaphoreSlim s) : IDisposable
    {
        int _done;
        public void Dispose() { if (Interlocked.Exchange(ref _done, 1) == 0) s.Release(); }
    }

    sealed class NoLock : IDisposable
    {
        public static readonly NoLock Instance = new();
        public void Dispose() { }
    }
}
