using CodeTether.Api.Realtime;
using CodeTether.Api.Tasks;
using CodeTether.Shared.Events;
using Microsoft.EntityFrameworkCore;

namespace CodeTether.Api.Persistence;

/// <summary>
/// Runs one write as one transaction (its task events included), then publishes what changed. The database gives
/// each event its commit-ordered position (see <see cref="TaskEvent.Position"/>). SQLite has one writer: a
/// process-wide gate keeps writers from spinning on SQLITE_BUSY.
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
            result = await body(changes);
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
        }
        foreach (var e in changes.ToLiveEvents())
            await bus.PublishAsync(e, ct);
        return result;
    }

    public Task RunAsync(Func<Changes, Task> body, CancellationToken ct) =>
        RunAsync<bool>(async c => { await body(c); return true; }, ct);
}

/// <summary>What a write changed, to be published after commit.</summary>
public sealed class Changes(CodeTetherDb db, TimeProvider clock)
{
    readonly List<TaskEvent> _taskEvents = [];
    readonly List<LiveEvent> _other = [];

    public DateTimeOffset Now { get; } = clock.GetUtcNow();

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

    /// <summary>The task events recorded so far (their ids are set once saved).</summary>
    public IReadOnlyList<TaskEvent> TaskEvents => _taskEvents;

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
