using CodeTether.Api.Persistence;
using CodeTether.Api.Workers;
using CodeTether.Shared.Contracts;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using CodeTether.Api.Auth;

namespace CodeTether.Api.Tasks;

/// <summary>Requeues tasks whose lease expired and shows silent workers offline.</summary>
public sealed partial class LeaseReaper(IServiceScopeFactory scopes, TimeProvider clock, IOptions<TaskOptions> tasks,
    IOptions<WorkerOptions> workers, ILogger<LeaseReaper> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(tasks.Value.ReaperInterval, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try { await RunOnceAsync(stoppingToken); }
                catch (Exception ex) when (ex is not OperationCanceledException) { Log.ReapFailed(log, ex); }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
    }

    public async Task RunOnceAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var now = clock.GetUtcNow();
        var requeued = await scope.ServiceProvider.GetRequiredService<TaskLeases>().ReapExpiredAsync(now, ct);
        if (requeued > 0) Log.Reaped(log, requeued);

        var db = scope.ServiceProvider.GetRequiredService<CodeTetherDb>();
        var silentSince = now - workers.Value.OfflineAfter;
        var silent = await db.Workers.IgnoreQueryFilters().AsNoTracking()
            .Where(w => w.Status != WorkerStatuses.Offline && (w.LastHeartbeatAt == null || w.LastHeartbeatAt < silentSince))
            .Select(w => new { w.TenantId, w.Id }).ToListAsync(ct);
        foreach (var w in silent)
        {
            await using var s = scopes.CreateTenantScope(w.TenantId);
            await s.ServiceProvider.GetRequiredService<WorkerRegistry>().MarkOfflineAsync(w.Id, ct);
            Log.WorkerSilent(log, w.Id);
        }
    }

    static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Requeued or failed {Count} task(s) whose lease expired")]
        public static partial void Reaped(ILogger logger, int count);

        [LoggerMessage(Level = LogLevel.Information, Message = "Worker {WorkerId} stopped sending heartbeats; shown offline")]
        public static partial void WorkerSilent(ILogger logger, string workerId);

        [LoggerMessage(Level = LogLevel.Error, Message = "Lease reaper pass failed")]
        public static partial void ReapFailed(ILogger logger, Exception ex);
    }
}
