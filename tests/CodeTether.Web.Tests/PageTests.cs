using Bunit;
using CodeTether.Shared.Contracts;
using CodeTether.Web.Components;
using CodeTether.Web.Pages.Codebases;
using CodeTether.Web.Pages.Overview;
using CodeTether.Web.Pages.Tasks;
using CodeTether.Web.Pages.Workers;
using CodeTether.Web.Services;

namespace CodeTether.Web.Tests;

public sealed class CodebaseListTests
{
    [Fact]
    public async Task CodebaseList_WhenNone_ShowsEmptyStateWithRegisterAction()
    {
        await using var ctx = new BunitContext();
        ctx.Setup();
        var cut = ctx.Render<CodebaseList>();
        cut.WaitForAssertion(() => Assert.Contains("No codebases yet", cut.Find("[data-testid=empty-state]").TextContent));
        Assert.Contains("Register a codebase", cut.Markup);
    }

    [Fact]
    public async Task CodebaseList_WhileLoading_ShowsProgress()
    {
        await using var ctx = new BunitContext();
        var fake = ctx.Setup();
        fake.Gate = new TaskCompletionSource();
        var cut = ctx.Render<CodebaseList>();
        Assert.NotEmpty(cut.FindAll(".mud-progress-linear"));
        fake.Gate.SetResult();
    }

    [Fact]
    public async Task CodebaseList_WhenTheBoardFails_ShowsError()
    {
        await using var ctx = new BunitContext();
        ctx.Setup().Fail = new DashboardException("database is down");
        var cut = ctx.Render<CodebaseList>();
        cut.WaitForAssertion(() => Assert.Contains("database is down", cut.Find("[data-testid=error-panel]").TextContent));
    }

    [Fact]
    public async Task CodebaseList_Full_ListsCodebasesAndTheirWorkers()
    {
        await using var ctx = new BunitContext();
        ctx.Setup().Codebases.AddRange([FakeBoards.Codebase("payments"), FakeBoards.Codebase("frontend")]);
        var cut = ctx.Render<CodebaseList>();
        cut.WaitForAssertion(() => Assert.Equal(2, cut.FindAll(".trigger-button").Count));
        Assert.Contains("/srv/payments", cut.Markup);
        Assert.False(cut.Find("#register-codebase").HasAttribute("disabled"));
    }

    [Fact]
    public async Task CodebaseList_AsViewer_DisablesEveryAction()
    {
        await using var ctx = new BunitContext();
        ctx.Setup(role: "viewer").Codebases.Add(FakeBoards.Codebase());
        var cut = ctx.Render<CodebaseList>();
        cut.WaitForAssertion(() => Assert.Single(cut.FindAll(".trigger-button")));
        Assert.True(cut.Find("#register-codebase").HasAttribute("disabled"));
        Assert.True(cut.Find(".trigger-button").HasAttribute("disabled"));
        Assert.NotNull(cut.Find("[data-testid=read-only]"));
    }
}

public sealed class DialogValidationTests
{
    [Theory]
    [InlineData("", "/srv/x", "name")]
    [InlineData("x", "", "path")]
    [InlineData("x", "relative/dir", "path")]
    public void CodebaseDialog_Validate_RejectsBadInput(string name, string path, string field) =>
        Assert.True(CodebaseDialog.Validate(new CodebaseForm { Name = name, Path = path }).ContainsKey(field));

    [Fact]
    public void CodebaseDialog_Validate_AcceptsAbsolutePath() =>
        Assert.Empty(CodebaseDialog.Validate(new CodebaseForm { Name = "x", Path = "/srv/x" }));

    [Fact]
    public void TriggerDialog_Validate_NeedsPromptAndBoundedPriority()
    {
        var errors = TriggerDialog.Validate(new TriggerForm { Prompt = " ", Priority = 5000 });
        Assert.Contains("prompt", errors.Keys);
        Assert.Contains("priority", errors.Keys);
        Assert.Empty(TriggerDialog.Validate(new TriggerForm { Prompt = "fix it", Priority = 10 }));
    }
}

public sealed class OtherPageTests
{
    [Fact]
    public async Task Overview_Full_ShowsCountersAndWorkers()
    {
        await using var ctx = new BunitContext();
        var fake = ctx.Setup();
        fake.Tasks.AddRange([FakeBoards.NewTask(), FakeBoards.NewTask(TaskStatuses.Failed)]);
        fake.Workers.Add(new WorkerDto { WorkerId = "w1", Name = "build-box", Status = WorkerStatuses.Online });
        var cut = ctx.Render<Overview>();
        cut.WaitForAssertion(() => Assert.Equal("1", cut.Find("[data-testid=counter-completed]").TextContent.Trim()));
        Assert.Equal("1", cut.Find("[data-testid=counter-failed]").TextContent.Trim());
        Assert.Contains("build-box", cut.Markup);
        Assert.Contains("No activity yet", cut.Markup);
    }

    [Fact]
    public async Task Overview_WhenTheBoardFails_ShowsError()
    {
        await using var ctx = new BunitContext();
        ctx.Setup().Fail = new DashboardException("no database");
        var cut = ctx.Render<Overview>();
        cut.WaitForAssertion(() => Assert.Contains("no database", cut.Find("[data-testid=error-panel]").TextContent));
    }

    [Fact]
    public async Task WorkerList_WhenNone_SaysHowToStartOne()
    {
        await using var ctx = new BunitContext();
        ctx.Setup();
        var cut = ctx.Render<WorkerList>();
        cut.WaitForAssertion(() => Assert.Contains("codetether worker", cut.Find("[data-testid=empty-state]").TextContent));
    }

    [Fact]
    public async Task TaskDetail_WhenMissing_ShowsNotFound()
    {
        await using var ctx = new BunitContext();
        ctx.Setup();
        var cut = ctx.Render<TaskDetail>(p => p.Add(x => x.Id, "nope"));
        cut.WaitForAssertion(() => Assert.Contains("Task not found", cut.Markup));
    }

    [Fact]
    public async Task TaskDetail_AsViewer_DisablesCancel()
    {
        await using var ctx = new BunitContext();
        var fake = ctx.Setup(role: "viewer");
        var t = FakeBoards.NewTask(TaskStatuses.Running);
        fake.Tasks.Add(t);
        var cut = ctx.Render<TaskDetail>(p => p.Add(x => x.Id, t.Id));
        cut.WaitForAssertion(() => Assert.True(cut.Find("#cancel-task").HasAttribute("disabled")));
    }

    [Fact]
    public void AttemptPhases_SplitsWaitingClaimedRunning()
    {
        var t0 = DateTimeOffset.UnixEpoch;
        TaskEventDto E(string status, int s, int attempt = 1) => new()
        {
            TaskId = "t", CodebaseId = "c", Type = "status", Status = status, Attempt = attempt, CreatedAt = t0.AddSeconds(s), Id = s,
        };
        var phases = AttemptPhases.From([E("submitted", 0), E("routed", 2), E("claimed", 5), E("running", 6), E("completed", 16)], t0.AddSeconds(100));
        var a = Assert.Single(phases);
        Assert.Equal((5, 1, 10), ((int)a.Waiting.TotalSeconds, (int)a.Claimed.TotalSeconds, (int)a.Running.TotalSeconds));
        Assert.Equal("completed", a.Outcome);
    }

    [Fact]
    public void RelativeTime_ReadsLikeAPerson()
    {
        var now = DateTimeOffset.UnixEpoch.AddDays(10);
        Assert.Equal("just now", RelativeTime.Relative(now.AddSeconds(-3), now));
        Assert.Equal("5 min ago", RelativeTime.Relative(now.AddMinutes(-5), now));
        Assert.Equal("2 h ago", RelativeTime.Relative(now.AddHours(-2), now));
    }
}
