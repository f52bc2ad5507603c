using System.Threading.Channels;
using CodeTether.Api.Auth;
using CodeTether.Api.Realtime;
using Microsoft.EntityFrameworkCore;

namespace CodeTether.Api.Persistence;

/// <summary>
/// Group commit for independent writes that arrive at a high rate (task creation from REST, A2A and the dashboard):
/// concurrent requests hand their unit of work to one writer loop, which runs every unit that is waiting, per tenant, in
/// one transaction — one commit (and one fsync) for many requests. Each caller still gets its answer only after its
/// unit is committed, so nothing is acknowledged that a crash could lose. If a batch fails as a whole, its units are
/// retried one by one, so one bad unit fails alone. Live events are published after the commit, in order.
/// </summary>
public sealed partial class GroupCommit(IServiceScopeFactory scopes, WriteGate gate, IEventBus bus, DatabaseInfo database,
    TimeProvider clock, ILogger<GroupCommit> log) : BackgroundService
{
    /// <summary>Most units in one transaction: bounds the time one commit holds the (SQLite) writer.</summary>
    public const int MaxBatch = 256;

    readonly Channel<Unit> _queue = Channel.CreateUnbounded<Unit>(new UnboundedChannelOptions { SingleReader = true });
    long _transactions, _committed;
    int _queued;

    /// <summary>Units waiting for the next batch.</summary>
    public int Queued => Volatile.Read(ref _queued);

    /// <summary>Transactions committed so far, and the units they carried (their ratio is the batching achieved).</summary>
    public (long Transactions, long Units) Committed => (Interlocked.Read(ref _transactions), Interlocked.Read(ref _committed));

    /// <summary>Runs <paramref name="body"/> in the next batch of <paramref name="tenantId"/>; completes after commit.</summary>
    public Task<T> RunAsync<T>(string tenantId, Func<Batch, Changes, CancellationToken, Task<T>> body, CancellationToken ct)
    {
        var unit = new Unit<T>(tenantId, body, ct);
        Interlocked.Increment(ref _queued);
        if (!_queue.Writer.TryWrite(unit))
        {
            Interlocked.Decrement(ref _queued);
            throw new InvalidOperationException("The host is stopping; the write was not accepted.");
        }
        return unit.Result;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<Unit>(MaxBatch);
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken))
            {
                while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var u)) batch.Add(u);
                Interlocked.Add(ref _queued, -batch.Count);
                await CommitAllAsync(batch, stoppingToken);
                batch.Clear();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
        // Stopping: what was accepted is still written (the callers are waiting for it).
        _queue.Writer.TryComplete();
        while (_queue.Reader.TryRead(out var u)) batch.Add(u);
        if (batch.Count > 0) await CommitAllAsync(batch, CancellationToken.None);
    }

    async Task CommitAllAsync(List<Unit> units, CancellationToken ct)
    {
        var live = units.Where(u => !u.Abandoned).ToList();
        foreach (var group in live.GroupBy(u => u.TenantId))
        {
            var list = group.ToList();
            try { await CommitAsync(group.Key, list, ct); }
            catch (Exception ex) when (list.Count > 1 && ex is not OperationCanceledException)
            {
                Log.BatchFailed(log, list.Count, ex);
                foreach (var u in list)
                {
                    try { await CommitAsync(group.Key, [u], ct); }
                    catch (Exception one) { u.Fail(one); }
                }
            }
            catch (Exception ex) { foreach (var u in list) u.Fail(ex); }
        }
    }

    async Task CommitAsync(string tenantId, List<Unit> units, CancellationToken ct)
    {
        await using var scope = scopes.CreateTenantScope(tenantId);
        var db = scope.ServiceProvider.GetRequiredService<CodeTetherDb>();
        var batch = new Batch(db, tenantId);
        var changes = new List<Changes>(units.Count);
        using (await gate.EnterAsync(ct))
        {
            // Units read committed state through the context and add entities to it; then one write commits them all:
            // on SQLite through statements that stay prepared when it can, else SaveChanges (its own transaction).
            foreach (var u in units)
            {
                var c = new Changes(db, clock);
                changes.Add(c);
                await u.RunAsync(batch, c, ct);
            }
            if (database.Provider != DatabaseProvider.Sqlite || !TryWritePrepared(db, changes)) await db.SaveChangesAsync(ct);
        }
        Interlocked.Increment(ref _transactions);
        Interlocked.Add(ref _committed, units.Count);
        for (var i = 0; i < units.Count; i++)
        {
            foreach (var e in changes[i].ToLiveEvents()) await bus.PublishAsync(e, CancellationToken.None);
            units[i].Complete();
        }
    }

    SqliteInserts? _inserts;

    /// <summary>
    /// SQLite: a batch that only adds rows is written by <see cref="SqliteInserts"/> — other added rows first, then the
    /// task events in the order the units recorded them (their ids are their positions). Anything else (an update, a
    /// type without a plan) is left to SaveChanges.
    /// </summary>
    bool TryWritePrepared(CodeTetherDb db, List<Changes> changes)
    {
        var entries = db.ChangeTracker.Entries().ToList();
        if (entries.Any(e => e.State != EntityState.Added)) return false;
        var events = changes.SelectMany(c => c.TaskEvents).ToList();
        var rows = entries.Select(e => e.Entity).Where(e => e is not Tasks.TaskEvent).ToList();
        if (rows.Count + events.Count != entries.Count) return false; // an event added outside Changes: keep EF's order
        rows.AddRange(events);
        _inserts ??= new SqliteInserts(db.Database.GetConnectionString()!, db.Model);
        if (!_inserts.TryPlan(rows)) return false;
        try { _inserts.Write(rows); }
        catch (Microsoft.Data.Sqlite.SqliteException ex)
        {
            // Callers see what SaveChanges would have thrown.
            throw new DbUpdateException($"An error occurred while inserting the batch's rows: {ex.Message}", ex);
        }
        db.ChangeTracker.Clear();
        return true;
    }

    public override void Dispose()
    {
        _inserts?.Dispose();
        base.Dispose();
    }

    /// <summary>What the units of one transaction share: the context and reads worth doing once per batch.</summary>
    public sealed class Batch(CodeTetherDb db, string tenantId)
    {
        List<Tasks.WorkerProfile>? _online;

        public CodeTetherDb Db => db;

        /// <summary>The tenant's workers that are not offline, read once per batch.</summary>
        public async Task<IReadOnlyList<Tasks.WorkerProfile>> OnlineWorkersAsync(CancellationToken ct) =>
            _online ??= await Tasks.TaskLifecycle.OnlineWorkersAsync(db, tenantId, ct);
    }

    abstract class Unit(string tenantId, CancellationToken ct)
    {
        public string TenantId => tenantId;
        protected CancellationToken Caller => ct;
        /// <summary>The caller gave up before its unit was started: nothing is written for it.</summary>
        public bool Abandoned => ct.IsCancellationRequested && Cancel();
        protected abstract bool Cancel();
        public abstract Task RunAsync(Batch b, Changes c, CancellationToken stopping);
        public abstract void Complete();
        public abstract void Fail(Exception ex);
    }

    sealed class Unit<T>(string tenantId, Func<Batch, Changes, CancellationToken, Task<T>> body, CancellationToken caller) : Unit(tenantId, caller)
    {
        readonly TaskCompletionSource<T> _tcs = new(TaskCreationOptions.RunContinuationsAsynchronously);
        T _result = default!;

        public Task<T> Result => _tcs.Task;
        protected override bool Cancel() => _tcs.TrySetCanceled(Caller);
        public override async Task RunAsync(Batch b, Changes c, CancellationToken stopping) => _result = await body(b, c, stopping);
        public override void Complete() => _tcs.TrySetResult(_result);
        public override void Fail(Exception ex) => _tcs.TrySetException(ex);
    }

    static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "A batch of {Count} writes failed; writing them one by one")]
        public static partial void BatchFailed(ILogger logger, int count, Exception ex);
    }
}
