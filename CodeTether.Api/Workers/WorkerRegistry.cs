using CodeTether.Api.Codebases;
using CodeTether.Api.Persistence;
using CodeTether.Shared.Contracts;
using Microsoft.EntityFrameworkCore;

namespace CodeTether.Api.Workers;

/// <summary>Registration and liveness of workers, shared by the register endpoint and the stream's auto-registration.</summary>
public sealed class WorkerRegistry(CodeTetherDb db, Transactions tx)
{
    public sealed record Registration(
        string WorkerId, string? Name, string? Hostname, IReadOnlyList<string>? Codebases,
        IReadOnlyList<string>? Capabilities, IReadOnlyList<string>? Models);

    /// <summary>Creates or updates the worker. Codebases given as absolute paths are registered when unknown.</summary>
    public Task<Worker> RegisterAsync(Registration r, bool online, CancellationToken ct) => tx.RunAsync(async c =>
    {
        var codebaseIds = r.Codebases is null ? null : await ResolveCodebasesAsync(r.Codebases, c.Now, ct);
        var w = await db.Workers.FirstOrDefaultAsync(x => x.Id == r.WorkerId, ct);
        if (w is null)
        {
            w = new Worker
            {
                TenantId = db.TenantId,
                Id = r.WorkerId,
                Name = r.WorkerId,
                Status = WorkerStatuses.Offline,
                RegisteredAt = c.Now,
            };
            db.Workers.Add(w);
        }
        w.Name = string.IsNullOrWhiteSpace(r.Name) ? w.Name : r.Name.Trim();
        w.Hostname = r.Hostname ?? w.Hostname;
        if (codebaseIds is not null) w.Codebases = codebaseIds;
        if (r.Capabilities is not null) w.Capabilities = Clean(r.Capabilities);
        if (r.Models is not null) w.Models = Clean(r.Models);
        if (online)
        {
            w.Status = WorkerStatuses.Online;
            w.LastHeartbeatAt = c.Now;
        }
        await WorkerViews.PublishAsync(db, c, w, ct);
        return w;
    }, ct);

    public Task<Worker?> HeartbeatAsync(string workerId, CancellationToken ct) => tx.RunAsync(async c =>
    {
        var w = await db.Workers.FirstOrDefaultAsync(x => x.Id == workerId, ct);
        if (w is null) return null;
        var wasOffline = w.Status == WorkerStatuses.Offline;
        w.LastHeartbeatAt = c.Now;
        if (wasOffline)
        {
            w.Status = WorkerStatuses.Online;
            await WorkerViews.PublishAsync(db, c, w, ct);
        }
        return w;
    }, ct);

    /// <summary>
    /// Shows the worker offline. With <paramref name="unlessSeenAfter"/> (a stream that closed at that moment) it stays
    /// online if it registered, heartbeated or reconnected since: a quick reconnect must not be undone by the late
    /// close of the old stream.
    /// </summary>
    public Task MarkOfflineAsync(string workerId, CancellationToken ct, DateTimeOffset? unlessSeenAfter = null) => tx.RunAsync(async c =>
    {
        var w = await db.Workers.FirstOrDefaultAsync(x => x.Id == workerId, ct);
        if (w is null || w.Status == WorkerStatuses.Offline) return;
        if (unlessSeenAfter is { } closedAt && w.LastHeartbeatAt > closedAt) return;
        w.Status = WorkerStatuses.Offline;
        await WorkerViews.PublishAsync(db, c, w, ct);
    }, ct);

    /// <summary>Ids stay ids, <c>global</c> stays global, absolute paths become (possibly new) codebases.</summary>
    async Task<List<string>> ResolveCodebasesAsync(IReadOnlyList<string> entries, DateTimeOffset now, CancellationToken ct)
    {
        var ids = new List<string>();
        foreach (var raw in entries.Select(e => e.Trim()).Where(e => e.Length > 0).Distinct())
        {
            if (raw == CodebaseIds.Global) { ids.Add(raw); continue; }
            if (await db.Codebases.AnyAsync(x => x.Id == raw, ct)) { ids.Add(raw); continue; }
            if (CodebasePaths.Validate(raw) is not null)
                throw new InvalidRegistrationException($"Codebase '{raw}' is neither a known codebase id nor an absolute path.");
            var path = CodebasePaths.Normalize(raw);
            var existing = await db.Codebases.FirstOrDefaultAsync(x => x.Path == path, ct)
                ?? db.Codebases.Local.FirstOrDefault(x => x.Path == path);
            if (existing is null)
            {
                existing = new Codebase
                {
                    Id = Tasks.TaskLifecycle.NewId(),
                    TenantId = db.TenantId,
                    Name = CodebasePaths.NameOf(path),
                    Path = path,
                    CreatedAt = now,
                    UpdatedAt = now,
                };
                db.Codebases.Add(existing);
            }
            ids.Add(existing.Id);
        }
        return ids.Distinct().ToList();
    }

    static List<string> Clean(IEnumerable<string> values) =>
        values.Select(v => v.Trim()).Where(v => v.Length > 0).Distinct().Take(200).ToList();
}

public sealed class InvalidRegistrationException(string message) : Exception(message);
