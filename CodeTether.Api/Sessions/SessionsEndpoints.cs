using CodeTether.Api.Auth;
using CodeTether.Api.Hosting;
using CodeTether.Api.Persistence;
using CodeTether.Api.Workers;
using CodeTether.Shared.Contracts;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace CodeTether.Api.Sessions;

/// <summary>Sessions synced from workers, and their transcripts.</summary>
public static class SessionsEndpoints
{
    public static IEndpointRouteBuilder MapSessions(this IEndpointRouteBuilder app)
    {
        var g = app.MapGroup("/v1/agent/sessions").WithTags("Sessions");
        g.MapGet("/{sessionId}", Get).RequirePermission(Permission.SessionsRead).WithName("GetSession");
        g.MapGet("/{sessionId}/messages", Messages).RequirePermission(Permission.SessionsRead).WithName("GetSessionMessages");
        return app;
    }

    internal static async Task<Results<Ok<SessionSyncResponse>, ProblemHttpResult>> Sync(
        string codebaseId, SessionSyncRequest body, HttpRequest req, CodeTetherDb db, Transactions tx, CancellationToken ct)
    {
        if (!await db.Codebases.AnyAsync(c => c.Id == codebaseId, ct)) return Problems.NotFound("Codebase", codebaseId);
        var workerId = WorkerIdentity.Resolve(req, body.WorkerId);
        var sessions = body.Sessions ?? [];
        if (sessions.Count > 200) return Problems.Invalid("at most 200 sessions per sync.");
        if (sessions.Any(s => string.IsNullOrWhiteSpace(s.Id) || s.Id.Length > 200)) return Problems.Invalid("every session needs an id (at most 200 characters).");
        if (sessions.SelectMany(s => s.Messages ?? []).Any(m => string.IsNullOrWhiteSpace(m.Id) || m.Id.Length > 200 || string.IsNullOrWhiteSpace(m.Role) || m.Role.Length > 32))
            return Problems.Invalid("every message needs an id (at most 200 characters) and a role.");

        var ids = sessions.Select(s => s.Id!).ToList();
        if (await db.Sessions.AnyAsync(x => ids.Contains(x.Id) && x.CodebaseId != codebaseId, ct))
            return Problems.Conflict("session-codebase-mismatch", "Session belongs to another codebase", "A session with one of these ids is already synced under a different codebase.");

        var messages = 0;
        await tx.RunAsync(async c =>
        {
            foreach (var s in sessions)
            {
                var row = await db.Sessions.FirstOrDefaultAsync(x => x.Id == s.Id, ct);
                if (row is null)
                {
                    row = new Session { Id = s.Id!, TenantId = db.TenantId, CodebaseId = codebaseId, CreatedAt = s.CreatedAt ?? c.Now };
                    db.Sessions.Add(row);
                }
                row.WorkerId = workerId ?? row.WorkerId;
                row.Title = s.Title ?? row.Title;
                row.Agent = s.Agent ?? row.Agent;
                row.TaskId = s.TaskId ?? row.TaskId;
                row.UpdatedAt = s.UpdatedAt ?? c.Now;

                var known = await db.SessionMessages.Where(m => m.SessionId == row.Id).ToDictionaryAsync(m => m.Id, ct);
                var seq = known.Count == 0 ? 0 : known.Values.Max(m => m.Seq);
                foreach (var m in s.Messages ?? [])
                {
                    if (!known.TryGetValue(m.Id!, out var msg))
                    {
                        msg = new SessionMessage { Id = m.Id!, TenantId = db.TenantId, SessionId = row.Id, Role = m.Role!, Seq = ++seq };
                        db.SessionMessages.Add(msg);
                        known[msg.Id] = msg;
                    }
                    msg.Role = m.Role!;
                    msg.Content = m.Content;
                    msg.Parts = m.Parts?.GetRawText();
                    msg.CreatedAt = m.CreatedAt ?? c.Now;
                    messages++;
                }
            }
        }, ct);
        return TypedResults.Ok(new SessionSyncResponse(sessions.Count, messages));
    }

    internal static async Task<Results<Ok<List<SessionDto>>, ProblemHttpResult>> List(
        string codebaseId, CodeTetherDb db, string? q, CancellationToken ct)
    {
        if (!await db.Codebases.AnyAsync(c => c.Id == codebaseId, ct)) return Problems.NotFound("Codebase", codebaseId);
        var query = db.Sessions.AsNoTracking().Where(s => s.CodebaseId == codebaseId);
        if (!string.IsNullOrWhiteSpace(q)) query = query.Where(s => s.Title != null && s.Title.Contains(q));
        var rows = await query.OrderByDescending(s => s.UpdatedAt).Take(500)
            .Select(s => new { s, Count = db.SessionMessages.Count(m => m.SessionId == s.Id) }).ToListAsync(ct);
        return TypedResults.Ok(rows.Select(r => r.s.ToDto(r.Count)).ToList());
    }

    internal static async Task<Results<Ok<SessionDto>, ProblemHttpResult>> Get(string sessionId, CodeTetherDb db, CancellationToken ct)
    {
        var s = await db.Sessions.AsNoTracking().FirstOrDefaultAsync(x => x.Id == sessionId, ct);
        if (s is null) return Problems.NotFound("Session", sessionId);
        return TypedResults.Ok(s.ToDto(await db.SessionMessages.CountAsync(m => m.SessionId == sessionId, ct)));
    }

    internal static async Task<Results<Ok<List<SessionMessageDto>>, ProblemHttpResult>> Messages(string sessionId, CodeTetherDb db, CancellationToken ct)
    {
        if (!await db.Sessions.AnyAsync(x => x.Id == sessionId, ct)) return Problems.NotFound("Session", sessionId);
        var rows = await db.SessionMessages.AsNoTracking().Where(m => m.SessionId == sessionId).OrderBy(m => m.Seq).ToListAsync(ct);
        return TypedResults.Ok(rows.Select(m => new SessionMessageDto
        {
            Id = m.Id, Role = m.Role, Content = m.Content, CreatedAt = m.CreatedAt,
            Parts = m.Parts is null ? null : System.Text.Json.JsonDocument.Parse(m.Parts).RootElement.Clone(),
        }).ToList());
    }

    static SessionDto ToDto(this Session s, int count) => new()
    {
        Id = s.Id, CodebaseId = s.CodebaseId, WorkerId = s.WorkerId, Title = s.Title, Agent = s.Agent,
        MessageCount = count, CreatedAt = s.CreatedAt, UpdatedAt = s.UpdatedAt,
    };
}
