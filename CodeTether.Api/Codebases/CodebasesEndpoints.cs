using CodeTether.Api.Auth;
using CodeTether.Api.Hosting;
using CodeTether.Api.Persistence;
using CodeTether.Api.Realtime;
using CodeTether.Api.Sessions;
using CodeTether.Api.Tasks;
using CodeTether.Shared.Contracts;
using CodeTether.Shared.Events;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace CodeTether.Api.Codebases;

public static class CodebasesEndpoints
{
    /// <summary>Every route twice: the original's clients say "codebases" and "workspaces".</summary>
    public static IEndpointRouteBuilder MapCodebases(this IEndpointRouteBuilder app)
    {
        MapRoutes(app.MapGroup("/v1/agent/codebases").WithTags("Codebases"), "");
        MapRoutes(app.MapGroup("/v1/agent/workspaces").WithTags("Codebases"), "Workspace");
        return app;
    }

    static void MapRoutes(RouteGroupBuilder g, string alias)
    {
        g.MapGet("", List).RequirePermission(Permission.CodebasesRead).WithName($"List{alias}Codebases");
        g.MapPost("", Register).RequirePermission(Permission.CodebasesWrite).WithName($"Register{alias}Codebase");
        g.MapGet("/{codebaseId}", Get).RequirePermission(Permission.CodebasesRead).WithName($"Get{alias}Codebase");
        g.MapPatch("/{codebaseId}", Update).RequirePermission(Permission.CodebasesWrite).WithName($"Update{alias}Codebase");
        g.MapDelete("/{codebaseId}", Delete).RequirePermission(Permission.CodebasesWrite).WithName($"Delete{alias}Codebase");
        g.MapPost("/{codebaseId}/trigger", Trigger).RequirePermission(Permission.TasksWrite).WithName($"Trigger{alias}Codebase");
        g.MapGet("/{codebaseId}/events", Events).RequirePermission(Permission.TasksRead).WithName($"{alias}CodebaseEvents");
        g.MapPost("/{codebaseId}/sessions/sync", SessionsEndpoints.Sync).RequirePermission(Permission.WorkerProtocol).WithName($"Sync{alias}Sessions");
        g.MapGet("/{codebaseId}/sessions", SessionsEndpoints.List).RequirePermission(Permission.SessionsRead).WithName($"List{alias}Sessions");
    }

    internal static async Task<Ok<List<CodebaseDto>>> List(CodeTetherDb db, CancellationToken ct)
    {
        var rows = await db.Codebases.AsNoTracking().OrderBy(c => c.Name).ThenBy(c => c.Id).ToListAsync(ct);
        var servers = await ServersAsync(db, ct);
        return TypedResults.Ok(rows.Select(c => c.ToDto(servers)).ToList());
    }

    internal static async Task<Results<Created<CodebaseDto>, Ok<CodebaseDto>, ProblemHttpResult, ValidationProblem>> Register(
        RegisterCodebaseRequest body, CodeTetherDb db, Transactions tx, CancellationToken ct)
    {
        var errors = Validate(body.Name, body.Path, body.Description, requireAll: true);
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors, title: "Invalid codebase");
        var path = CodebasePaths.Normalize(body.Path!);
        if (await db.Codebases.AsNoTracking().FirstOrDefaultAsync(c => c.Path == path, ct) is { } existing)
            return TypedResults.Ok(existing.ToDto(await ServersAsync(db, ct))); // registering the same path again is idempotent

        var codebase = await tx.RunAsync(c =>
        {
            var cb = new Codebase
            {
                Id = TaskLifecycle.NewId(),
                TenantId = db.TenantId,
                Name = body.Name!.Trim(),
                Path = path,
                Description = body.Description,
                CreatedAt = c.Now,
                UpdatedAt = c.Now,
            };
            db.Codebases.Add(cb);
            c.Publish(new LiveEvent { TenantId = db.TenantId, Codebase = cb.ToDto([]) });
            return Task.FromResult(cb);
        }, ct);
        return TypedResults.Created($"/v1/agent/codebases/{codebase.Id}", codebase.ToDto([]));
    }

    internal static async Task<Results<Ok<CodebaseDto>, ProblemHttpResult>> Get(string codebaseId, CodeTetherDb db, CancellationToken ct) =>
        await db.Codebases.AsNoTracking().FirstOrDefaultAsync(c => c.Id == codebaseId, ct) is { } cb
            ? TypedResults.Ok(cb.ToDto(await ServersAsync(db, ct)))
            : Problems.NotFound("Codebase", codebaseId);

    internal static async Task<Results<Ok<CodebaseDto>, ProblemHttpResult, ValidationProblem>> Update(
        string codebaseId, UpdateCodebaseRequest body, CodeTetherDb db, Transactions tx, CancellationToken ct)
    {
        var errors = Validate(body.Name, body.Path, body.Description, requireAll: false);
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors, title: "Invalid codebase");
        var path = body.Path is null ? null : CodebasePaths.Normalize(body.Path);
        if (path is not null && await db.Codebases.AnyAsync(c => c.Path == path && c.Id != codebaseId, ct))
            return Problems.Conflict("codebase-path-taken", "Path already registered", $"Another codebase is registered at '{path}'.");
        var updated = await tx.RunAsync(async c =>
        {
            var cb = await db.Codebases.FirstOrDefaultAsync(x => x.Id == codebaseId, ct);
            if (cb is null) return null;
            if (body.Name is not null) cb.Name = body.Name.Trim();
            if (path is not null) cb.Path = path;
            if (body.Description is not null) cb.Description = body.Description;
            cb.UpdatedAt = c.Now;
            c.Publish(new LiveEvent { TenantId = db.TenantId, Codebase = cb.ToDto([]) });
            return cb;
        }, ct);
        return updated is null ? Problems.NotFound("Codebase", codebaseId) : TypedResults.Ok(updated.ToDto(await ServersAsync(db, ct)));
    }

    internal static async Task<Results<NoContent, ProblemHttpResult>> Delete(string codebaseId, CodeTetherDb db, Transactions tx, CancellationToken ct)
    {
        var deleted = await tx.RunAsync(async c =>
        {
            var cb = await db.Codebases.FirstOrDefaultAsync(x => x.Id == codebaseId, ct);
            if (cb is null) return false;
            db.Codebases.Remove(cb);
            return true;
        }, ct);
        return deleted ? TypedResults.NoContent() : Problems.NotFound("Codebase", codebaseId);
    }

    internal static async Task<Results<Accepted<TaskDto>, ProblemHttpResult, ValidationProblem>> Trigger(
        string codebaseId, TriggerTaskRequest body, CodeTetherDb db, TaskLifecycle lifecycle, IOptions<TaskOptions> options, CancellationToken ct)
    {
        if (!await db.Codebases.AnyAsync(c => c.Id == codebaseId, ct)) return Problems.NotFound("Codebase", codebaseId);
        return await TasksEndpoints.Submit(codebaseId, body, lifecycle, options.Value, ct);
    }

    static async Task<Results<SseResult, ProblemHttpResult>> Events(
        string codebaseId, HttpRequest req, CodeTetherDb db, TaskEventStream stream, CancellationToken ct)
    {
        if (codebaseId != CodebaseIds.Global && !await db.Codebases.AnyAsync(c => c.Id == codebaseId, ct))
            return Problems.NotFound("Codebase", codebaseId);
        return new SseResult(stream.ReadAsync(db.TenantId, null, codebaseId, SseItems.LastEventId(req), ct));
    }

    static Dictionary<string, string[]> Validate(string? name, string? path, string? description, bool requireAll)
    {
        var errors = new Dictionary<string, string[]>();
        if (name is not null || requireAll)
        {
            if (string.IsNullOrWhiteSpace(name)) errors["name"] = ["name is required."];
            else if (name.Length > 200) errors["name"] = ["name must be at most 200 characters."];
        }
        if ((path is not null || requireAll) && CodebasePaths.Validate(path) is { } why) errors["path"] = [why];
        if (description is { Length: > 4000 }) errors["description"] = ["description must be at most 4000 characters."];
        return errors;
    }

    /// <summary>codebase id → ids of the workers that registered it.</summary>
    static async Task<ILookup<string, string>> ServersAsync(CodeTetherDb db, CancellationToken ct)
    {
        var workers = await db.Workers.AsNoTracking().Select(w => new { w.Id, w.Codebases }).ToListAsync(ct);
        return workers.SelectMany(w => w.Codebases.Select(c => (c, w.Id))).ToLookup(x => x.c, x => x.Id);
    }

    static CodebaseDto ToDto(this Codebase c, ILookup<string, string> servers) => new()
    {
        Id = c.Id,
        Name = c.Name,
        Path = c.Path,
        Description = c.Description,
        Workers = servers[c.Id].Concat(servers[CodebaseIds.Global]).Distinct().Order().ToList(),
        CreatedAt = c.CreatedAt,
        UpdatedAt = c.UpdatedAt,
    };

    static CodebaseDto ToDto(this Codebase c, IEnumerable<string> workers) => new()
    {
        Id = c.Id, Name = c.Name, Path = c.Path, Description = c.Description, Workers = workers.ToList(),
        CreatedAt = c.CreatedAt, UpdatedAt = c.UpdatedAt,
    };
}
