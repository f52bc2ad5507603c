using System.Text.Json;
using CodeTether.Api.Workers;
using CodeTether.Shared.Contracts;

namespace CodeTether.Api.Tasks;

using Worker = CodeTether.Api.Workers.Worker;

/// <summary>Which workers may take which task: codebase (or <c>global</c>), target worker, model and capabilities.</summary>
public static class TaskRouting
{
    public static bool IsEligible(WorkerProfile w, AgentTask t)
    {
        if (t.TargetWorkerId is { } target && target != w.WorkerId) return false;
        if (t.CodebaseId != CodebaseIds.Global && !w.Codebases.Contains(CodebaseIds.Global) && !w.Codebases.Contains(t.CodebaseId))
            return false;
        // A worker that advertises no models is a seed worker that takes any; otherwise the model must be offered.
        if (t.Model is { Length: > 0 } model && w.Models.Count > 0 && !w.Models.Contains(model) && !w.Models.Contains("*"))
            return false;
        foreach (var cap in RequiredCapabilities(t))
            if (!w.Capabilities.Contains(cap)) return false;
        return true;
    }

    /// <summary><c>metadata.required_capabilities</c>: strings the worker must have advertised.</summary>
    public static IEnumerable<string> RequiredCapabilities(AgentTask t)
    {
        if (t.Metadata is null) return [];
        using var doc = JsonDocument.Parse(t.Metadata);
        return doc.RootElement.ValueKind == JsonValueKind.Object &&
               doc.RootElement.TryGetProperty("required_capabilities", out var caps) && caps.ValueKind == JsonValueKind.Array
            ? caps.EnumerateArray().Where(c => c.ValueKind == JsonValueKind.String).Select(c => c.GetString()!).ToList()
            : [];
    }
}

/// <summary>What routing needs to know of a worker.</summary>
public sealed record WorkerProfile(string WorkerId, IReadOnlySet<string> Codebases, IReadOnlySet<string> Capabilities, IReadOnlySet<string> Models)
{
    public static WorkerProfile Of(Worker w) =>
        new(w.Id, w.Codebases.ToHashSet(), w.Capabilities.ToHashSet(), w.Models.ToHashSet());
}
