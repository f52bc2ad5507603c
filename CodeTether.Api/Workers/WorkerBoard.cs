using CodeTether.Api.Auth;
using CodeTether.Api.Persistence;
using CodeTether.Shared.Contracts;
using CodeTether.Web.Services;
using Microsoft.EntityFrameworkCore;

namespace CodeTether.Api.Workers;

/// <summary>The dashboard's worker port.</summary>
public sealed class WorkerBoard(DashboardUser user) : IWorkerBoard
{
    public Task<IReadOnlyList<WorkerDto>> ListAsync(CancellationToken ct = default) =>
        user.RunAsync<IReadOnlyList<WorkerDto>>(Permission.WorkersRead, async sp =>
        {
            var db = sp.GetRequiredService<CodeTetherDb>();
            var rows = await db.Workers.AsNoTracking().OrderBy(w => w.Name).ThenBy(w => w.Id).ToListAsync(ct);
            return await WorkerViews.ToDtosAsync(db, rows, ct);
        });

    public Task<WorkerDto?> GetAsync(string workerId, CancellationToken ct = default) =>
        user.RunAsync(Permission.WorkersRead, async sp =>
        {
            var db = sp.GetRequiredService<CodeTetherDb>();
            return await db.Workers.AsNoTracking().FirstOrDefaultAsync(w => w.Id == workerId, ct) is { } w
                ? await WorkerViews.ToDtoAsync(db, w, ct)
                : null;
        });
}
