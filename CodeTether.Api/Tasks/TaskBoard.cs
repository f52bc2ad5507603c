using CodeTether.Api.Auth;
using CodeTether.Api.Codebases;
using CodeTether.Api.Persistence;
using CodeTether.Api.Workers;
using CodeTether.Shared.Contracts;
using CodeTether.Web.Services;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace CodeTether.Api.Tasks;

/// <summary>The dashboard's task port: the grid, a task's whole log, the overview figures, and the task actions.</summary>
public sealed class TaskBoard(DashboardUser user, TimeProvider clock) : ITaskBoard
{
    public Task<TaskQueryResult> QueryAsync(TaskQuery query, CancellationToken ct = default) =>
        user.RunAsync(Permission.TasksRead, async sp =>
        {
            var q = sp.GetRequiredService<CodeTetherDb>().Tasks.AsNoTracking();
            if (!string.IsNullOrEmpty(query.Status))
                q = query.Status == TaskStatuses.Pending
                    ? q.Where(t => t.Status == TaskStatuses.Submitted || t.Status == TaskStatuses.Routed)
                    : q.Where(t => t.Status == query.Status);
            if (!string.IsNullOrEmpty(query.CodebaseId)) q = q.Where(t => t.CodebaseId == query.CodebaseId);
            if (!string.IsNullOrEmpty(query.WorkerId)) q = q.Where(t => t.WorkerId == query.WorkerId);
            if (!string.IsNullOrEmpty(query.Agent)) q = q.Where(t => t.Agent == query.Agent);
            if (!string.IsNullOrWhiteSpace(query.Text))
            {
                var text = query.Text.Trim();
                q = q.Where(t => t.Title.Contains(text) || t.Prompt.Contains(text) || t.Id == text);
            }
            if (query.Within is { } within)
            {
                var since = clock.GetUtcNow() - within;
                q = q.Where(t => t.CreatedAt >= since);
            }
            q = (query.SortBy, query.Descending) switch
            {
                ("status", false) => q.OrderBy(t => t.Status).ThenByDescending(t => t.Id),
                ("status", true) => q.OrderByDescending(t => t.Status).ThenByDescending(t => t.Id),
                ("priority", false) => q.OrderBy(t => t.Priority).ThenByDescending(t => t.Id),
                ("priority", true) => q.OrderByDescending(t => t.Priority).ThenByDescending(t => t.Id),
                ("title", false) => q.OrderBy(t => t.Title).ThenByDescending(t => t.Id),
                ("title", true) => q.OrderByDescending(t => t.Title).ThenByDescending(t => t.Id),
                ("updated", false) => q.OrderBy(t => t.UpdatedAt).ThenBy(t => t.Id),
                ("updated", true) => q.OrderByDescending(t => t.UpdatedAt).ThenByDescending(t => t.Id),
                (_, false) => q.OrderBy(t => t.Id), // ids are time-ordered (UUIDv7)
                _ => q.OrderByDescending(t => t.Id),
            };
            var total = await q.CountAsync(ct);
            var size = Math.Clamp(query.PageSize, 1, 200);
            var rows = await q.Skip(Math.Max(0, query.Page) * size).Take(size).ToListAsync(ct);
            return new TaskQueryResult(rows.Select(t => t.ToDto()).ToList(), total);
        });

    public Task<TaskView?> GetAsync(string taskId, CancellationToken ct = default) =>
        user.RunAsync(Permission.TasksRead, async sp =>
        {
            var db = sp.GetRequiredService<CodeTetherDb>();
            var task = await db.Tasks.AsNoTracking().FirstOrDefaultAsync(t => t.Id == taskId, ct);
            if (task is null) return null;
            var events = await db.TaskEvents.AsNoTracking().Where(e => e.TaskId == taskId)
                .OrderBy(e => e.Position).ThenBy(e => e.Id).Take(5000).ToListAsync(ct);
            var codebase = task.CodebaseId == CodebaseIds.Global ? null
                : (await CodebasesEndpoints.Get(task.CodebaseId, db, ct)).Result is Ok<CodebaseDto> ok ? ok.Value : null;
            return (TaskView?)new TaskView(task.ToDto(), events.Select(e => e.ToDto()).ToList(), codebase);
        });

    public Task<OverviewStats> GetOverviewAsync(CancellationToken ct = default) =>
        user.RunAsync(Permission.TasksRead, async sp =>
        {
            var db = sp.GetRequiredService<CodeTetherDb>();
            var now = clock.GetUtcNow();
            var hourAgo = now.AddHours(-1);
            var byStatus = await db.Tasks.AsNoTracking().GroupBy(t => t.Status).Select(g => new { g.Key, Count = g.Count() }).ToListAsync(ct);
            var workers = await Workers.WorkerViews.ToDtosAsync(db, await db.Workers.AsNoTracking().OrderBy(w => w.Name).ToListAsync(ct), ct);
            var codebases = await db.Codebases.CountAsync(ct);
            var finished = await db.Tasks.AsNoTracking().Where(t => t.CompletedAt >= hourAgo)
                .Select(t => new { t.Status, t.CompletedAt }).ToListAsync(ct);
            var claimed = await db.Tasks.AsNoTracking().Where(t => t.ClaimedAt >= hourAgo)
                .Select(t => new { t.CreatedAt, t.RoutedAt, t.ClaimedAt }).ToListAsync(ct);
            var recent = await db.TaskEvents.AsNoTracking().Where(e => e.Type == Shared.Events.TaskEventTypes.Status)
                .OrderByDescending(e => e.Position).Take(25).ToListAsync(ct);

            var start = hourAgo;
            var buckets = Enumerable.Range(0, 12).Select(i =>
            {
                var from = start.AddMinutes(5 * i);
                var to = from.AddMinutes(5);
                var done = finished.Where(t => t.CompletedAt >= from && t.CompletedAt < to).ToList();
                var waits = claimed.Where(t => t.ClaimedAt >= from && t.ClaimedAt < to)
                    .Select(t => (t.ClaimedAt!.Value - t.CreatedAt).TotalSeconds).ToList();
                return new HourBucket(from, done.Count(t => t.Status == TaskStatuses.Completed),
                    done.Count(t => t.Status != TaskStatuses.Completed), waits.Count == 0 ? null : waits.Average());
            }).ToList();

            return new OverviewStats
            {
                TasksByStatus = byStatus.ToDictionary(x => x.Key, x => x.Count),
                WorkersOnline = workers.Count(w => w.Status == WorkerStatuses.Online),
                WorkersBusy = workers.Count(w => w.Status == WorkerStatuses.Busy),
                WorkersOffline = workers.Count(w => w.Status == WorkerStatuses.Offline),
                Codebases = codebases,
                LastHour = buckets,
                RecentActivity = recent.Select(e => e.ToDto()).ToList(),
                Workers = workers,
            };
        });

    public Task<TaskDto> TriggerAsync(string codebaseId, TriggerForm form, CancellationToken ct = default) =>
        user.RunAsync(Permission.TasksWrite, async sp => DashboardUser.Unwrap<TaskDto>(await CodebasesEndpoints.Trigger(codebaseId,
            new TriggerTaskRequest
            {
                Prompt = form.Prompt, Title = string.IsNullOrWhiteSpace(form.Title) ? null : form.Title, Agent = form.Agent,
                Model = string.IsNullOrWhiteSpace(form.Model) ? null : form.Model, Priority = form.Priority,
            },
            sp.GetRequiredService<CodeTetherDb>(), sp.GetRequiredService<TaskLifecycle>(), sp.GetRequiredService<IOptions<TaskOptions>>(), ct)));

    public Task<TaskDto> CancelAsync(string taskId, CancellationToken ct = default) =>
        user.RunAsync(Permission.TasksWrite, async sp =>
        {
            var name = (await user.PrincipalAsync()).FindFirst(CodeTetherClaims.Name)?.Value ?? "a user";
            var (outcome, task) = await sp.GetRequiredService<TaskLifecycle>().CancelAsync(taskId, $"cancelled by {name} in the dashboard", ct);
            return Outcome(outcome, task, taskId, "cancelled");
        });

    public Task<TaskDto> RetryAsync(string taskId, CancellationToken ct = default) =>
        user.RunAsync(Permission.TasksWrite, async sp =>
        {
            var (outcome, task) = await sp.GetRequiredService<TaskLifecycle>().RetryAsync(taskId, ct);
            return Outcome(outcome, task, taskId, "retried (only failed or cancelled tasks can be)");
        });

    public Task<TaskDto> ResumeAsync(string taskId, string answer, CancellationToken ct = default) =>
        user.RunAsync(Permission.TasksWrite, async sp =>
        {
            var max = sp.GetRequiredService<IOptions<TaskOptions>>().Value.MaxPromptLength;
            if (string.IsNullOrWhiteSpace(answer))
                throw new DashboardException("An answer is required.", new Dictionary<string, string[]> { ["answer"] = ["An answer is required."] });
            if (answer.Length > max)
                throw new DashboardException($"The answer must be at most {max} characters.", new Dictionary<string, string[]> { ["answer"] = [$"At most {max} characters."] });
            var (outcome, task) = await sp.GetRequiredService<TaskLifecycle>().ResumeAsync(taskId, answer, ct);
            return Outcome(outcome, task, taskId, "answered (only tasks waiting for input can be)");
        });

    static TaskDto Outcome(TaskLifecycle.Outcome outcome, AgentTask? task, string taskId, string verb) => outcome switch
    {
        TaskLifecycle.Outcome.Done => task!.ToDto(),
        TaskLifecycle.Outcome.NotFound => throw new DashboardException($"Task {taskId} not found.", status: 404),
        _ => throw new DashboardException($"The task is {task!.Status} and cannot be {verb}.", status: 409),
    };
}
