using CodeTether.Api.Persistence;
using CodeTether.Shared.Contracts;
using CodeTether.Shared.Events;
using Microsoft.EntityFrameworkCore;

namespace CodeTether.Api.Workers;

/// <summary>
/// What a worker looks like from outside. Busy, current task and the done/failed counters are derived from the
/// tasks table (the lease holder, the last holder of finished tasks), never kept on the worker row: there is nothing
/// to keep in step, and claims and releases write only the task.
/// </summary>
public static class WorkerViews
{
    public static async Task<List<WorkerDto>> ToDtosAsync(CodeTetherDb db, IReadOnlyCollection<Worker> workers, CancellationToken ct)
    {
        var result = new List<WorkerDto>(workers.Count);
        foreach (var tenant in workers.GroupBy(w => w.TenantId))
        {
            var ids = tenant.Select(w => w.Id).ToList();
            var tasks = db.Tasks.IgnoreQueryFilters().AsNoTracking().Where(t => t.TenantId == tenant.Key);
            var leased = await tasks
                .Where(t => t.LeaseOwner != null && ids.Contains(t.LeaseOwner) &&
                            (t.Status == TaskStatuses.Claimed || t.Status == TaskStatuses.Running || t.Status == TaskStatuses.InputRequired))
                .Select(t => new { Worker = t.LeaseOwner!, t.Id, t.ClaimedAt }).ToListAsync(ct);
            var finished = await tasks
                .Where(t => t.WorkerId != null && ids.Contains(t.WorkerId) && (t.Status == TaskStatuses.Completed || t.Status == TaskStatuses.Failed))
                .GroupBy(t => new { t.WorkerId, t.Status }).Select(g => new { g.Key.WorkerId, g.Key.Status, Count = g.Count() })
                .ToListAsync(ct);
            foreach (var w in tenant)
            {
                var current = leased.Where(l => l.Worker == w.Id).OrderByDescending(l => l.ClaimedAt).FirstOrDefault();
                int Count(string status) => finished.FirstOrDefault(f => f.WorkerId == w.Id && f.Status == status)?.Count ?? 0;
                result.Add(new WorkerDto
                {
                    WorkerId = w.Id,
                    Name = w.Name,
                    Hostname = w.Hostname,
                    Status = w.Status == WorkerStatuses.Offline ? WorkerStatuses.Offline : current is null ? WorkerStatuses.Online : WorkerStatuses.Busy,
                    Codebases = w.Codebases,
                    Capabilities = w.Capabilities,
                    Models = w.Models,
                    CurrentTaskId = current?.Id,
                    TasksCompleted = Count(TaskStatuses.Completed),
                    TasksFailed = Count(TaskStatuses.Failed),
                    LastHeartbeat = w.LastHeartbeatAt,
                    RegisteredAt = w.RegisteredAt,
                });
            }
        }
        return result;
    }

    public static async Task<WorkerDto> ToDtoAsync(CodeTetherDb db, Worker worker, CancellationToken ct) =>
        (await ToDtosAsync(db, [worker], ct))[0];

    /// <summary>Publishes the worker's new look after the transaction commits.</summary>
    public static async Task PublishAsync(CodeTetherDb db, Changes c, Worker w, CancellationToken ct) =>
        c.Publish(new LiveEvent { TenantId = w.TenantId, Worker = await ToDtoAsync(db, w, ct) });
}
