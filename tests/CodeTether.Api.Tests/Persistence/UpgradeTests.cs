using CodeTether.Api.Auth;
using CodeTether.Api.Persistence;
using CodeTether.Shared.Contracts;
using CodeTether.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.DependencyInjection;

namespace CodeTether.Api.Tests.Persistence;

/// <summary>
/// A database created by the first release, with data in it, upgrades to the current schema without losing rows:
/// event positions are backfilled in order, session keys gain the tenant, worker counters become derived.
/// </summary>
public sealed class UpgradeTests
{
    const string First = "Initial";

    static string Seed(bool sqlite)
    {
        string T(int minutes) => sqlite
            ? new DateTimeOffset(2026, 1, 1, 12, minutes, 0, TimeSpan.Zero).UtcTicks.ToString()
            : $"'2026-01-01 12:{minutes:00}:00+00'";
        // JSON on SQLite, text[] on PostgreSQL (braces doubled: ExecuteSqlRaw formats its string)
        string List(string item) => sqlite ? "'[\"" + item + "\"]'" : "'{{" + item + "}}'";
        var empty = sqlite ? "'[]'" : "'{{}}'";
        return $"""
            INSERT INTO codebases (id, tenant_id, name, path, created_at, updated_at) VALUES ('cb1', 'default', 'demo', '/srv/demo', {T(0)}, {T(0)});
            INSERT INTO workers (tenant_id, id, name, codebases, capabilities, models, status, current_task_id, tasks_completed, tasks_failed, registered_at)
                VALUES ('default', 'w1', 'w1', {List("cb1")}, {empty}, {empty}, 'online', NULL, 7, 1, {T(0)});
            INSERT INTO tasks (id, tenant_id, codebase_id, title, prompt, agent, priority, status, attempt, max_attempts, fencing_token, worker_id, result, created_at, updated_at, completed_at)
                VALUES ('t1', 'default', 'cb1', 'old task', 'do it', 'build', 0, 'completed', 1, 3, 1, 'w1', 'done', {T(1)}, {T(3)}, {T(3)});
            INSERT INTO task_events (tenant_id, task_id, codebase_id, type, status, attempt, worker_id, created_at) VALUES
                ('default', 't1', 'cb1', 'status', 'submitted', 1, NULL, {T(1)}),
                ('default', 't1', 'cb1', 'status', 'claimed', 1, 'w1', {T(2)}),
                ('default', 't1', 'cb1', 'status', 'completed', 1, 'w1', {T(3)});
            INSERT INTO sessions (id, tenant_id, codebase_id, worker_id, title, created_at, updated_at) VALUES ('s1', 'default', 'cb1', 'w1', 'chat', {T(1)}, {T(3)});
            INSERT INTO session_messages (id, session_id, tenant_id, seq, role, content, created_at) VALUES
                ('m1', 's1', 'default', 1, 'user', 'hello', {T(1)}), ('m2', 's1', 'default', 2, 'assistant', 'hi', {T(2)});
            """;
    }

    [Theory]
    [InlineData(DbKind.Sqlite)]
    [InlineData(DbKind.Postgres)]
    public async Task FirstReleaseDatabase_WithData_UpgradesWithoutLosingRows(DbKind kind)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var host = await ApiHost.StartAsync(kind, new Dictionary<string, string?> { ["Database:MigrateOnStart"] = "false" });
        await using (var scope = host.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<CodeTetherDb>();
            var migrator = db.GetService<IMigrator>();
            var initial = db.Database.GetMigrations().First(m => m.EndsWith("_" + First, StringComparison.Ordinal));
            await migrator.MigrateAsync(initial, ct);
            await db.Database.ExecuteSqlRawAsync(Seed(kind == DbKind.Sqlite), ct);

            await DatabaseMigrator.MigrateAsync(host.Services.GetRequiredService<IServiceScopeFactory>(), ct); // what `codetether migrate` runs
            Assert.Empty(await db.Database.GetPendingMigrationsAsync(ct));
        }

        var http = host.Client();
        var task = await http.GetTaskAsync("t1");
        Assert.Equal((TaskStatuses.Completed, "done", "w1"), (task.Task.Status, task.Task.Result, task.Task.WorkerId));
        Assert.Equal([TaskStatuses.Submitted, TaskStatuses.Claimed, TaskStatuses.Completed], task.Timeline.Select(e => e.Status));
        Assert.True(task.Timeline.All(e => e.Id > 0), "every old event got a position");
        Assert.Equal(task.Timeline.Select(e => e.Id).Order(), task.Timeline.Select(e => e.Id));

        var codebase = await (await http.GetAsync("/v1/agent/codebases/cb1", ct)).ReadAsync<CodebaseDto>();
        Assert.Equal(("demo", "/srv/demo"), (codebase.Name, codebase.Path));
        var worker = await (await http.GetAsync("/v1/agent/workers/w1", ct)).ReadAsync<WorkerDto>();
        Assert.Equal(1, worker.TasksCompleted); // now counted from the tasks it finished, not a stored counter
        var messages = await (await http.GetAsync("/v1/agent/sessions/s1/messages", ct)).ReadAsync<List<SessionMessageDto>>();
        Assert.Equal(["hello", "hi"], messages.Select(m => m.Content));

        // New events after the upgrade continue after the backfilled positions.
        var created = await http.TriggerAsync("cb1", "after the upgrade");
        var fresh = await http.GetTaskAsync(created.Id);
        Assert.True(fresh.Timeline[0].Id > task.Timeline[^1].Id);
    }
}
