using System.Text.Json;
using CodeTether.Shared.Contracts;

namespace CodeTether.Api.Tasks;

public static class TaskMappings
{
    public static TaskDto ToDto(this AgentTask t) => new()
    {
        Id = t.Id,
        CodebaseId = t.CodebaseId,
        Title = t.Title,
        Prompt = t.Prompt,
        Agent = t.Agent,
        Model = t.Model,
        Priority = t.Priority,
        Status = t.Status,
        Attempt = t.Attempt,
        MaxAttempts = t.MaxAttempts,
        WorkerId = t.WorkerId,
        TargetWorkerId = t.TargetWorkerId,
        SessionId = t.SessionId,
        Result = t.Result,
        Error = t.Error,
        ProgressPct = t.ProgressPct,
        StatusMessage = t.StatusMessage,
        Metadata = ParseJson(t.Metadata),
        FencingToken = t.FencingToken,
        LeaseExpiresAt = t.LeaseExpiresAt,
        CreatedAt = t.CreatedAt,
        UpdatedAt = t.UpdatedAt,
        RoutedAt = t.RoutedAt,
        ClaimedAt = t.ClaimedAt,
        StartedAt = t.StartedAt,
        CompletedAt = t.CompletedAt,
    };

    /// <summary>The DTO's id is the commit-ordered position (0 on a live event published before it was read back).</summary>
    public static TaskEventDto ToDto(this TaskEvent e) => new()
    {
        Id = e.Position ?? 0,
        TaskId = e.TaskId,
        CodebaseId = e.CodebaseId,
        Type = e.Type,
        Status = e.Status,
        Attempt = e.Attempt,
        WorkerId = e.WorkerId,
        Data = ParseJson(e.Data),
        CreatedAt = e.CreatedAt,
    };

    static JsonElement? ParseJson(string? json) =>
        json is null ? null : JsonDocument.Parse(json).RootElement.Clone();
}
