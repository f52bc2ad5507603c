using System.Collections.Concurrent;
using System.Net.ServerSentEvents;
using System.Threading.Channels;
using CodeTether.Api.Realtime;
using CodeTether.Api.Tasks;

namespace CodeTether.Api.Workers;

/// <summary>The worker streams open on this host (singleton). Each has an outbox the dispatcher writes to.</summary>
public sealed class WorkerConnections
{
    readonly ConcurrentDictionary<long, WorkerConnection> _open = new();
    long _next;

    public WorkerConnection Open(string tenantId, WorkerProfile profile, string? currentTaskId)
    {
        var c = new WorkerConnection(Interlocked.Increment(ref _next), tenantId, profile) { CurrentTaskId = currentTaskId };
        _open[c.Id] = c;
        return c;
    }

    /// <summary>Returns true when the worker has no other stream open on this host.</summary>
    public bool Close(WorkerConnection c)
    {
        _open.TryRemove(c.Id, out _);
        c.Complete();
        return !_open.Values.Any(o => o.TenantId == c.TenantId && o.Profile.WorkerId == c.Profile.WorkerId);
    }

    public IEnumerable<WorkerConnection> Of(string tenantId) => _open.Values.Where(c => c.TenantId == tenantId);

    public IEnumerable<WorkerConnection> Of(string tenantId, string workerId) =>
        _open.Values.Where(c => c.TenantId == tenantId && c.Profile.WorkerId == workerId);

    public IEnumerable<WorkerConnection> All() => _open.Values;

    public int Count => _open.Count;
}

public sealed class WorkerConnection(long id, string tenantId, WorkerProfile profile)
{
    readonly Channel<SseItem<string>> _outbox = Channel.CreateUnbounded<SseItem<string>>(new() { SingleReader = true });

    public long Id { get; } = id;
    public string TenantId { get; } = tenantId;
    public WorkerProfile Profile { get; } = profile;

    /// <summary>The task this worker holds, as last seen by the dispatcher; null = idle.</summary>
    public volatile string? CurrentTaskId;

    /// <summary>When it was last offered something (ticks), to spread offers across idle workers.</summary>
    public long LastOfferTicks;

    public ChannelReader<SseItem<string>> Outbox => _outbox.Reader;

    public bool Send(SseItem<string> item) => _outbox.Writer.TryWrite(item);

    public void Complete() => _outbox.Writer.TryComplete();
}
