using CodeTether.Api.Persistence;
using CodeTether.Shared.Contracts;
using CodeTether.Shared.Events;
using Microsoft.EntityFrameworkCore;

namespace CodeTether.Api.Workers;

/// <summary>Keeps a worker's current task, busy flag and counters in step with its leases.</summary>
internal static class WorkerLedger
{
    public static void Take(Changes c, Worker w, string taskId)
    {
        w.CurrentTaskId = taskId;
        w.Status = WorkerStatuses.Busy;
        w.LastHeartbeatAt = c.Now;
        Publish(c, w);
    }

    public static async Task FreeAsync(CodeTetherDb db, string workerId, string taskId, string? countAs, CancellationToken ct, Changes? c = null)
    {
        var w = await db.Workers.FirstOrDefaultAsync(x => x.Id == workerId, ct);
        if (w is null) return;
        if (w.CurrentTaskId == taskId)
        {
            w.CurrentTaskId = null;
            if (w.Status == WorkerStatuses.Busy) w.Status = WorkerStatuses.Online;
        }
        if (countAs == TaskStatuses.Completed) w.TasksCompleted++;
        else if (countAs == TaskStatuses.Failed) w.TasksFailed++;
        if (c is not null) Publish(c, w);
    }

    public static void Publish(Changes c, Worker w)
    {
        c.Publish(new LiveEvent { TenantId = w.TenantId, Worker = w.ToDto() });
    }

    public static WorkerDto ToDto(this Worker w) => new()
    {
        WorkerId = w.Id,
        Name = w.Name,
        Hostname = w.Hostname,
        Status = w.Status,
        Codebases = w.Codebases,
        Capabilities = w.Capabilities,
        Models = w.Models,
        CurrentTaskId = w.CurrentTaskId,
        TasksCompleted = w.TasksCompleted,
        TasksFailed = w.TasksFailed,
        LastHeartbeat = w.LastHeartbeatAt,
        RegisteredAt = w.RegisteredAt,
    };
}
