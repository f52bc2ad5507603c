using System.Linq.Expressions;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using CodeTether.Api.Auth;
using CodeTether.Api.Persistence;
using CodeTether.Api.Realtime;
using CodeTether.Shared.Contracts;
using CodeTether.Shared.Events;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace CodeTether.Api.Tasks;

/// <summary>
/// SSE of task events for one task or one codebase. Resumes after <c>Last-Event-ID</c> by reading the database;
/// live events only wake the reader, which always reads what committed after the last position it sent. Positions
/// grow in commit order (<see cref="TaskEvent.Position"/>), so there are no gaps and no duplicates.
/// </summary>
public sealed class TaskEventStream(IEventBus bus, IServiceScopeFactory scopes, IOptions<Workers.WorkerOptions> options, TimeProvider clock)
{
    const int PageSize = 500;

    public async IAsyncEnumerable<SseItem<string>> ReadAsync(string tenantId, string? taskId, string? codebaseId, long after,
        [EnumeratorCancellation] CancellationToken ct)
    {
        using var sub = bus.Subscribe(e => e.TenantId == tenantId && e.Task is { } t &&
            (taskId is null || t.TaskId == taskId) && (codebaseId is null || t.CodebaseId == codebaseId));
        var last = after;
        var endAfterTerminal = taskId is not null;
        while (!ct.IsCancellationRequested)
        {
            // Terminal status first, page second: the terminal event commits with the status, so a page read after
            // seeing it holds it. (The other order could see the task finish between the two reads and end the
            // stream without its last event; and it kept a finished task's stream open until the next heartbeat.)
            var terminal = endAfterTerminal && await IsTerminalAsync(tenantId, taskId!, ct);
            var page = await ReadPageAsync(tenantId, taskId, codebaseId, last, ct);
            foreach (var e in page)
            {
                last = e.Id;
                yield return SseItems.Json(e.Type, e, e.Id);
            }
            if (page.Count == PageSize) continue;
            if (terminal) yield break;

            // Wait for news (or a heartbeat tick), then drain the wake-ups: the next read fetches them all.
            var woke = false;
            using (var tick = CancellationTokenSource.CreateLinkedTokenSource(ct))
            {
                tick.CancelAfter(options.Value.StreamHeartbeat);
                try { woke = await sub.Reader.WaitToReadAsync(tick.Token); }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested) { }
            }
            if (woke) { while (sub.Reader.TryRead(out _)) { } }
            else if (sub.Reader.Completion.IsCompleted) yield break; // fell behind: the client resumes with Last-Event-ID
            else yield return SseItems.Json(WorkerStreamEvents.Heartbeat, new { ts = clock.GetUtcNow() });
        }
    }

    async Task<List<TaskEventDto>> ReadPageAsync(string tenantId, string? taskId, string? codebaseId, long after, CancellationToken ct)
    {
        await using var scope = scopes.CreateTenantScope(tenantId);
        var db = scope.ServiceProvider.GetRequiredService<CodeTetherDb>();
        Expression<Func<TaskEvent, bool>> filter = taskId is not null
            ? e => e.TaskId == taskId && e.Position > after
            : e => e.CodebaseId == codebaseId && e.Position > after;
        var rows = await db.TaskEvents.AsNoTracking().Where(filter).OrderBy(e => e.Position).Take(PageSize).ToListAsync(ct);
        return rows.Select(r => r.ToDto()).ToList();
    }

    async Task<bool> IsTerminalAsync(string tenantId, string taskId, CancellationToken ct)
    {
        await using var scope = scopes.CreateTenantScope(tenantId);
        var db = scope.ServiceProvider.GetRequiredService<CodeTetherDb>();
        var status = await db.Tasks.AsNoTracking().Where(t => t.Id == taskId).Select(t => t.Status).FirstOrDefaultAsync(ct);
        return status is null || TaskStatuses.IsTerminal(status);
    }
}
