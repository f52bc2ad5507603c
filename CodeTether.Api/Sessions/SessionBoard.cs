using CodeTether.Api.Auth;
using CodeTether.Api.Codebases;
using CodeTether.Api.Persistence;
using CodeTether.Api.Tasks;
using CodeTether.Shared.Contracts;
using CodeTether.Web.Services;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace CodeTether.Api.Sessions;

/// <summary>The dashboard's session port: lists, transcripts, and follow-ups that become tasks on the same session.</summary>
public sealed class SessionBoard(DashboardUser user) : ISessionBoard
{
    public Task<IReadOnlyList<SessionDto>> ListAsync(string? codebaseId, string? search, CancellationToken ct = default) =>
        user.RunAsync<IReadOnlyList<SessionDto>>(Permission.SessionsRead, async sp =>
        {
            var db = sp.GetRequiredService<CodeTetherDb>();
            var q = db.Sessions.AsNoTracking();
            if (!string.IsNullOrEmpty(codebaseId)) q = q.Where(s => s.CodebaseId == codebaseId);
            if (!string.IsNullOrWhiteSpace(search)) q = q.Where(s => (s.Title != null && s.Title.Contains(search)) || s.Id.Contains(search));
            var rows = await q.OrderByDescending(s => s.UpdatedAt).Take(500)
                .Select(s => new { s, Count = db.SessionMessages.Count(m => m.SessionId == s.Id) }).ToListAsync(ct);
            return rows.Select(r => new SessionDto
            {
                Id = r.s.Id, CodebaseId = r.s.CodebaseId, WorkerId = r.s.WorkerId, Title = r.s.Title, Agent = r.s.Agent,
                MessageCount = r.Count, CreatedAt = r.s.CreatedAt, UpdatedAt = r.s.UpdatedAt,
            }).ToList();
        });

    public Task<SessionTranscript?> GetAsync(string sessionId, CancellationToken ct = default) =>
        user.RunAsync(Permission.SessionsRead, async sp =>
        {
            var db = sp.GetRequiredService<CodeTetherDb>();
            if ((await SessionsEndpoints.Get(sessionId, db, ct)).Result is not Ok<SessionDto> { Value: { } session}) return null;
            var messages = DashboardUser.Unwrap<List<SessionMessageDto>>(await SessionsEndpoints.Messages(sessionId, db, ct));
            var codebase = (await CodebasesEndpoints.Get(session.CodebaseId, db, ct)).Result is Ok<CodebaseDto> ok ? ok.Value : null;
            return (SessionTranscript?)new SessionTranscript(session, messages, codebase);
        });

    public Task<TaskDto> ContinueAsync(string sessionId, string message, CancellationToken ct = default) =>
        user.RunAsync(Permission.TasksWrite, async sp =>
        {
            var db = sp.GetRequiredService<CodeTetherDb>();
            var session = await db.Sessions.AsNoTracking().FirstOrDefaultAsync(s => s.Id == sessionId, ct)
                ?? throw new DashboardException("Session not found.", status: 404);
            return DashboardUser.Unwrap<TaskDto>(await TasksEndpoints.Submit(session.CodebaseId,
                new TriggerTaskRequest { Prompt = message, Agent = session.Agent, SessionId = session.Id },
                sp.GetRequiredService<TaskLifecycle>(), sp.GetRequiredService<IOptions<TaskOptions>>().Value, ct));
        });
}
