using System.Security.Claims;
using Bunit;
using CodeTether.Shared.Contracts;
using CodeTether.Shared.Events;
using CodeTether.Web.Services;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using MudBlazor.Services;

namespace CodeTether.Web.Tests;

/// <summary>The dashboard's ports, faked: components are the unit here.</summary>
public sealed class FakeBoards : ITaskBoard, ICodebaseBoard, IWorkerBoard, ISessionBoard, ILiveFeed
{
    public List<CodebaseDto> Codebases { get; } = [];
    public List<TaskDto> Tasks { get; } = [];
    public List<WorkerDto> Workers { get; } = [];
    public Dictionary<string, List<TaskEventDto>> Events { get; } = [];
    public List<(string TaskId, string Answer)> Answers { get; } = [];
    /// <summary>What <see cref="ResumeAsync"/> throws (e.g. the server's refusal), if anything.</summary>
    public Exception? ResumeFails { get; set; }
    public Exception? Fail { get; set; }
    public TaskCompletionSource? Gate { get; set; }

    async Task Wait() { if (Gate is not null) await Gate.Task; if (Fail is not null) throw Fail; }

    public async Task<IReadOnlyList<CodebaseDto>> ListAsync(CancellationToken ct = default) { await Wait(); return Codebases; }
    public async Task<CodebaseDto?> GetAsync(string id, CancellationToken ct = default) { await Wait(); return Codebases.FirstOrDefault(c => c.Id == id); }
    public Task<CodebaseDto> RegisterAsync(CodebaseForm f, CancellationToken ct = default) => throw new DashboardException("Your role does not allow this.", status: 403);
    public Task<CodebaseDto> UpdateAsync(string id, CodebaseForm f, CancellationToken ct = default) => throw new NotSupportedException();
    public Task RemoveAsync(string id, CancellationToken ct = default) => Task.CompletedTask;

    public async Task<TaskQueryResult> QueryAsync(TaskQuery q, CancellationToken ct = default) { await Wait(); return new(Tasks, Tasks.Count); }
    async Task<TaskView?> ITaskBoard.GetAsync(string id, CancellationToken ct)
    {
        await Wait();
        return Tasks.FirstOrDefault(t => t.Id == id) is { } t ? new TaskView(t, Events.GetValueOrDefault(id) ?? [], null) : null;
    }
    public async Task<OverviewStats> GetOverviewAsync(CancellationToken ct = default)
    {
        await Wait();
        return new OverviewStats
        {
            TasksByStatus = Tasks.GroupBy(t => t.Status).ToDictionary(g => g.Key, g => g.Count()),
            Codebases = Codebases.Count, WorkersOnline = Workers.Count,
            LastHour = Enumerable.Range(0, 12).Select(i => new HourBucket(DateTimeOffset.UtcNow.AddMinutes(-60 + 5 * i), i, 0, i)).ToList(),
            RecentActivity = [], Workers = Workers,
        };
    }
    public Task<TaskDto> TriggerAsync(string codebaseId, TriggerForm form, CancellationToken ct = default) => throw new NotSupportedException();
    public Task<TaskDto> CancelAsync(string taskId, CancellationToken ct = default) => throw new NotSupportedException();
    public Task<TaskDto> RetryAsync(string taskId, CancellationToken ct = default) => throw new NotSupportedException();
    public Task<TaskDto> ResumeAsync(string taskId, string answer, CancellationToken ct = default)
    {
        if (ResumeFails is not null) throw ResumeFails;
        Answers.Add((taskId, answer));
        var i = Tasks.FindIndex(t => t.Id == taskId);
        Tasks[i] = Tasks[i] with { Status = TaskStatuses.Submitted, Prompt = answer, StatusMessage = null };
        return Task.FromResult(Tasks[i]);
    }

    async Task<IReadOnlyList<WorkerDto>> IWorkerBoard.ListAsync(CancellationToken ct) { await Wait(); return Workers; }
    async Task<WorkerDto?> IWorkerBoard.GetAsync(string id, CancellationToken ct) { await Wait(); return Workers.FirstOrDefault(w => w.WorkerId == id); }

    public Task<IReadOnlyList<SessionDto>> ListAsync(string? codebaseId, string? search, CancellationToken ct = default) => Task.FromResult<IReadOnlyList<SessionDto>>([]);
    public Dictionary<string, SessionTranscript> Transcripts { get; } = [];
    public List<(string SessionId, string Message)> FollowUps { get; } = [];
    Task<SessionTranscript?> ISessionBoard.GetAsync(string id, CancellationToken ct) => Task.FromResult(Transcripts.GetValueOrDefault(id));
    public Task<TaskDto> ContinueAsync(string sessionId, string message, CancellationToken ct = default)
    {
        FollowUps.Add((sessionId, message));
        var t = NewTask() with { SessionId = sessionId, Prompt = message };
        Tasks.Add(t);
        return Task.FromResult(t);
    }

    public IDisposable Subscribe(Func<LiveEvent, Task> onEvent, Func<LiveEvent, bool>? filter = null) => new Nothing();
    public bool IsLive => true;
    public event Action? LiveChanged { add { } remove { } }
    sealed class Nothing : IDisposable { public void Dispose() { } }

    public static CodebaseDto Codebase(string name = "payments") => new() { Id = "cb-" + name, Name = name, Path = "/srv/" + name, Workers = ["w1"] };
    public static TaskDto NewTask(string status = TaskStatuses.Completed) => new()
    {
        Id = "t-" + Guid.NewGuid().ToString("N")[..8], CodebaseId = "cb-payments", Title = "Run the tests", Prompt = "dotnet test",
        Agent = "build", Status = status, CreatedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow,
    };
}

public static class TestSetup
{
    /// <summary>MudBlazor's test services, the fakes, and a signed-in user with <paramref name="role"/>.</summary>
    public static FakeBoards Setup(this BunitContext ctx, string role = "admin")
    {
        ctx.JSInterop.Mode = JSRuntimeMode.Loose;
        ctx.Services.AddMudServices(o => o.PopoverOptions.CheckForPopoverProvider = false);
        ctx.Services.AddSingleton(TimeProvider.System);
        var fake = new FakeBoards();
        ctx.Services.AddSingleton<ITaskBoard>(fake).AddSingleton<ICodebaseBoard>(fake).AddSingleton<IWorkerBoard>(fake)
            .AddSingleton<ISessionBoard>(fake).AddSingleton<ILiveFeed>(fake);
        var auth = ctx.AddAuthorization();
        auth.SetAuthorized("someone");
        auth.SetClaims(new Claim("role", role), new Claim("name", "Some One"));
        return fake;
    }
}
