using CodeTether.Api.Auth;
using CodeTether.Api.Persistence;
using CodeTether.Api.Tasks;
using CodeTether.Shared.Contracts;
using System.Net.Http.Json;
using CodeTether.Shared.Events;
using CodeTether.Api.Tests.A2A;
using CodeTether.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace CodeTether.Api.Tests.Persistence;

/// <summary>
/// Task creation goes through <see cref="GroupCommit"/>: concurrent creates share transactions, every caller is answered
/// only with committed work, and one failing unit does not take its batch down.
/// </summary>
public sealed class GroupCommitTests
{
    static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A unit that keeps the writer inside its batch until <paramref name="release"/> completes; returns once taken.</summary>
    static async Task<Task<int>> HoldWriterAsync(GroupCommit commits, Task release)
    {
        var blocker = commits.RunAsync(Tenant.DefaultId, async (_, _, _) => { await release; return 0; }, Ct);
        while (commits.Queued > 0) await Task.Delay(5, Ct); // the writer took it and waits inside its batch
        return blocker;
    }

    [Theory]
    [InlineData(DbKind.Sqlite)]
    [InlineData(DbKind.Postgres)]
    public async Task ConcurrentCreates_ShareTransactions_AndAllAreCommittedWithTheirEvents(DbKind kind)
    {
        await using var host = await ApiHost.StartAsync(kind);
        var commits = host.Service<GroupCommit>();
        var before = commits.Committed;
        var http = host.Client();

        // Hold the writer in a batch of its own while the requests queue up behind it.
        var hold = new TaskCompletionSource();
        var blocker = await HoldWriterAsync(commits, hold.Task);
        const int n = 96;
        var requests = Task.WhenAll(Enumerable.Range(0, n).Select(async i =>
        {
            var res = await http.PostAsJsonAsync("/v1/agent/tasks", new { prompt = $"batched {i}" }, Ct);
            Assert.Equal(202, (int)res.StatusCode);
            return (await res.ReadAsync<TaskDto>()).Id;
        }));
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (commits.Queued < n && !requests.IsCompleted && waited.Elapsed < TimeSpan.FromSeconds(30)) await Task.Delay(10, Ct);
        if (requests.IsFaulted) await requests;
        Assert.Equal(n, commits.Queued);
        Assert.False(requests.IsCompleted, "no request may be answered before its create is committed");
        hold.SetResult();
        await blocker;
        var ids = await requests;

        var after = commits.Committed;
        Assert.Equal(n + 1, after.Units - before.Units);
        Assert.Equal(2, after.Transactions - before.Transactions); // the blocker's, then all 96 together

        // Every answered task is there, with its submitted event, exactly once.
        await using var scope = host.Service<IServiceScopeFactory>().CreateTenantScope(Tenant.DefaultId);
        var db = scope.ServiceProvider.GetRequiredService<CodeTetherDb>();
        Assert.Equal(n, await db.Tasks.CountAsync(t => ids.Contains(t.Id), Ct));
        var events = await db.TaskEvents.Where(e => ids.Contains(e.TaskId)).Select(e => new { e.TaskId, e.Status }).ToListAsync(Ct);
        Assert.All(ids, id => Assert.Single(events, e => e.TaskId == id && e.Status == TaskStatuses.Submitted));
    }

    [Theory]
    [InlineData(DbKind.Sqlite)]
    [InlineData(DbKind.Postgres)]
    public async Task WhatSendAnswers_IsWhatWasStored(DbKind kind)
    {
        // message/send answers from the entities it committed (no read-back); on SQLite they are written by prepared
        // statements, not SaveChanges. Reading the task back must give the very same A2A task, field for field.
        await using var host = await ApiHost.StartAsync(kind);
        var http = host.Client();
        var sent = await http.ResultAsync("message/send", new
        {
            message = new
            {
                kind = "message", role = "user", messageId = Guid.NewGuid().ToString(), contextId = "ctx-" + Guid.NewGuid().ToString("N"),
                parts = new object[]
                {
                    new { kind = "text", text = "first line\nsecond \"quoted\" ünïcødé" },
                    new { kind = "data", data = new { n = 1.5, list = new[] { "a", "b" } } },
                    new { kind = "file", file = new { name = "a.bin", mimeType = "application/octet-stream", bytes = "AAEC" } },
                },
                metadata = new { agent = "plan", model = "m-1" },
            },
            configuration = new { blocking = false },
        });
        var id = sent["id"]!.GetValue<string>();
        var got = await http.ResultAsync("tasks/get", new { id });
        Assert.True(System.Text.Json.Nodes.JsonNode.DeepEquals(sent, got), $"send: {sent.ToJsonString()}\nget:  {got.ToJsonString()}");

        var task = await http.GetTaskAsync(id);
        Assert.Equal(("plan", "m-1", TaskStatuses.Submitted), (task.Task.Agent, task.Task.Model, task.Task.Status));
        Assert.InRange(task.Task.CreatedAt, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddSeconds(1));
    }

    [Fact]
    public async Task AFailingUnit_FailsAlone_TheOthersInItsBatchCommit()
    {
        await using var host = await ApiHost.StartAsync(DbKind.Sqlite);
        var commits = host.Service<GroupCommit>();

        // Units queued together land in one batch; the bad one (a duplicate key) makes the batch's SaveChanges fail.
        var duplicate = TaskLifecycle.NewId();
        Task<string> Create(string id) => commits.RunAsync(Tenant.DefaultId, (b, c, _) =>
        {
            var t = new AgentTask
            {
                Id = id, TenantId = Tenant.DefaultId, CodebaseId = "global", Title = id, Prompt = "p", Agent = "build",
                Status = TaskStatuses.Submitted, MaxAttempts = 1, CreatedAt = c.Now, UpdatedAt = c.Now,
            };
            b.Db.Tasks.Add(t);
            c.AddTaskEvent(t, TaskEventTypes.Status, new { to = TaskStatuses.Submitted });
            return Task.FromResult(id);
        }, Ct);

        await Create(duplicate);
        var hold = new TaskCompletionSource();
        var blocker = await HoldWriterAsync(commits, hold.Task);
        var good = Enumerable.Range(0, 20).Select(_ => TaskLifecycle.NewId()).ToList();
        var calls = good.Take(10).Select(Create).Append(Create(duplicate)).Concat(good.Skip(10).Select(Create)).ToList();
        Assert.Equal(21, commits.Queued); // one batch behind the blocker
        var before = commits.Committed;
        hold.SetResult();
        await blocker;
        await Assert.ThrowsAnyAsync<DbUpdateException>(() => calls[10]);
        foreach (var (call, i) in calls.Select((c, i) => (c, i)).Where(x => x.i != 10)) Assert.Equal(good[i < 10 ? i : i - 1], await call);

        await using var scope = host.Service<IServiceScopeFactory>().CreateTenantScope(Tenant.DefaultId);
        var db = scope.ServiceProvider.GetRequiredService<CodeTetherDb>();
        Assert.Equal(20, await db.Tasks.CountAsync(t => good.Contains(t.Id), Ct));
        Assert.Equal(1, await db.TaskEvents.CountAsync(e => e.TaskId == duplicate, Ct));
        // The batch failed as a whole, then its 21 units were written one by one: 20 more commits after the blocker's.
        Assert.Equal(20, commits.Committed.Units - before.Units - 1);
    }
}
