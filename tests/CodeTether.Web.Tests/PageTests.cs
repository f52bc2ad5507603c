using Bunit;
using CodeTether.Shared.Contracts;
using CodeTether.Web.Components;
using CodeTether.Web.Pages.Codebases;
using CodeTether.Web.Pages.Overview;
using CodeTether.Web.Pages.Sessions;
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
    public async Task SessionDetail_FollowUp_IsRequired_ErrorClearsAsTheUserTypes_ThenItIsSent()
    {
        await using var ctx = new BunitContext();
        var fake = ctx.Setup();
        var now = DateTimeOffset.UtcNow;
        fake.Transcripts["s1"] = new SessionTranscript(
            new SessionDto { Id = "s1", CodebaseId = "cb1", Title = "chat", MessageCount = 0, CreatedAt = now, UpdatedAt = now }, [], null);
        var cut = ctx.Render<SessionDetail>(p => p.Add(x => x.Id, "s1"));
        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("#session-continue")));

        cut.Find("#session-continue").Click();
        cut.WaitForAssertion(() => Assert.Contains("Write a message first.", cut.Markup));
        Assert.Empty(fake.FollowUps);

        cut.Find("#session-followup").Input("and now the docs");
        cut.WaitForAssertion(() => Assert.DoesNotContain("Write a message first.", cut.Markup));
        cut.Find("#session-continue").Click();
        cut.WaitForAssertion(() => Assert.Equal(("s1", "and now the docs"), Assert.Single(fake.FollowUps)));
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

    static TaskDto AskingTask(FakeBoards fake, string question = "Which branch should I push to?")
    {
        var t = FakeBoards.NewTask(TaskStatuses.InputRequired) with { StatusMessage = question };
        fake.Tasks.Add(t);
        return t;
    }

    [Fact]
    public async Task TaskDetail_InputRequired_ShowsQuestionAndAnswersThroughThePort()
    {
        await using var ctx = new BunitContext();
        var fake = ctx.Setup(role: "operator");
        var t = AskingTask(fake);
        var cut = ctx.Render<TaskDetail>(p => p.Add(x => x.Id, t.Id));
        cut.WaitForAssertion(() => Assert.Contains("Which branch should I push to?", cut.Find("[data-testid=question]").TextContent));
        Assert.False(cut.Find("#answer-input").HasAttribute("disabled"));
        Assert.False(cut.Find("#answer-submit").HasAttribute("disabled"));

        cut.Find("#answer-submit").Click(); // empty: refused in the page, the port is not called
        cut.WaitForAssertion(() => Assert.Contains("An answer is required.", cut.Markup));
        Assert.Empty(fake.Answers);

        cut.Find("#answer-input").Input("release/2.0"); // the error clears as the user types, not only on blur
        cut.WaitForAssertion(() => Assert.DoesNotContain("An answer is required.", cut.Markup));
        cut.Find("#answer-submit").Click();
        cut.WaitForAssertion(() => Assert.Equal((t.Id, "release/2.0"), Assert.Single(fake.Answers)));
        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("[data-testid=input-required]")));
        Assert.Equal(TaskStatuses.Submitted, cut.Find("[data-testid=task-status] .ct-status").GetAttribute("data-status"));
    }

    [Fact]
    public async Task TaskDetail_InputRequired_AsViewer_DisablesTheAnswerBox()
    {
        await using var ctx = new BunitContext();
        var fake = ctx.Setup(role: "viewer");
        var t = AskingTask(fake);
        var cut = ctx.Render<TaskDetail>(p => p.Add(x => x.Id, t.Id));
        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("[data-testid=question]")));
        Assert.True(cut.Find("#answer-input").HasAttribute("disabled"));
        Assert.True(cut.Find("#answer-submit").HasAttribute("disabled"));
        Assert.Contains("Viewers cannot answer", cut.Markup);
    }

    [Fact]
    public async Task TaskDetail_InputRequired_PrefersTheFullQuestionOfTheStatusEvent()
    {
        await using var ctx = new BunitContext();
        var fake = ctx.Setup();
        var t = AskingTask(fake, "truncated…");
        fake.Events[t.Id] =
        [
            new TaskEventDto
            {
                Id = 7, TaskId = t.Id, CodebaseId = t.CodebaseId, Type = "status", Status = TaskStatuses.InputRequired, CreatedAt = DateTimeOffset.UtcNow,
                Data = System.Text.Json.JsonSerializer.SerializeToElement(new { from = "running", to = "input-required", message = "The whole question, untruncated?" }),
            },
        ];
        var cut = ctx.Render<TaskDetail>(p => p.Add(x => x.Id, t.Id));
        cut.WaitForAssertion(() => Assert.Equal("The whole question, untruncated?", cut.Find("[data-testid=question]").TextContent.Trim()));
    }

    [Fact]
    public async Task TaskDetail_InputRequired_ServerRefusal_KeepsTheAnswer()
    {
        await using var ctx = new BunitContext();
        var fake = ctx.Setup();
        fake.ResumeFails = new DashboardException("An answer is required.", new Dictionary<string, string[]> { ["answer"] = ["At most 10 characters."] });
        var t = AskingTask(fake);
        var cut = ctx.Render<TaskDetail>(p => p.Add(x => x.Id, t.Id));
        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("#answer-input")));
        cut.Find("#answer-input").Input("a very long answer");
        cut.Find("#answer-submit").Click();
        cut.WaitForAssertion(() => Assert.Contains("At most 10 characters.", cut.Markup));
        Assert.NotEmpty(cut.FindAll("[data-testid=input-required]"));
    }

    [Theory]
    [InlineData(TaskStatuses.Running)]
    [InlineData(TaskStatuses.Completed)]
    [InlineData(TaskStatuses.Submitted)]
    public async Task TaskDetail_NotWaitingForInput_ShowsNoAnswerBox(string status)
    {
        await using var ctx = new BunitContext();
        var fake = ctx.Setup();
        var t = FakeBoards.NewTask(status);
        fake.Tasks.Add(t);
        var cut = ctx.Render<TaskDetail>(p => p.Add(x => x.Id, t.Id));
        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("[data-testid=timeline]")));
        Assert.Empty(cut.FindAll("[data-testid=input-required]"));
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
    public void AttemptPhases_CountsTimeWaitingForAnAnswerApartFromRunning()
    {
        var t0 = DateTimeOffset.UnixEpoch;
        TaskEventDto E(string status, int s) => new() { TaskId = "t", CodebaseId = "c", Type = "status", Status = status, Attempt = 1, CreatedAt = t0.AddSeconds(s), Id = s };
        var a = Assert.Single(AttemptPhases.From([E("submitted", 0), E("claimed", 1), E("running", 2), E("input-required", 5), E("submitted", 65), E("claimed", 66), E("running", 67), E("completed", 70)], t0.AddSeconds(100)));
        Assert.Equal((60, 6), ((int)a.AwaitingInput.TotalSeconds, (int)a.Running.TotalSeconds));
    }

    [Fact]
    public async Task BarChart_AllZero_SaysSoInsteadOfDrawingNothing()
    {
        await using var ctx = new BunitContext();
        var empty = ctx.Render<BarChart>(p => p.Add(x => x.Values, [0, 0, 0]).Add(x => x.EmptyText, "Nothing yet."));
        Assert.Equal("Nothing yet.", empty.Find("[data-testid=chart-empty]").TextContent);
        var full = ctx.Render<BarChart>(p => p.Add(x => x.Values, [0, 2.5, 1]).Add(x => x.EmptyText, "Nothing yet.").Add(x => x.Unit, " s"));
        Assert.Empty(full.FindAll("[data-testid=chart-empty]"));
        Assert.Contains("max 2.5 s", full.Markup);
    }

    [Fact]
    public async Task TaskList_ShowsTheTotalNextToTheTitle()
    {
        await using var ctx = new BunitContext();
        var fake = ctx.Setup();
        fake.Tasks.AddRange([FakeBoards.NewTask(), FakeBoards.NewTask(TaskStatuses.Failed)]);
        var cut = ctx.Render<TaskList>();
        cut.WaitForAssertion(() => Assert.Equal("2 tasks", cut.Find("[data-testid=task-total]").TextContent.Trim()));
        Assert.Contains("Filters", cut.Find("#filters-toggle").TextContent);
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
