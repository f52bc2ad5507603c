using Microsoft.AspNetCore.Http.HttpResults;

namespace CodeTether.Api.Hosting;

/// <summary>Every expected failure of the API, with a stable <c>type</c> URI.</summary>
public static class Problems
{
    const string Base = "https://codetether.dev/problems/";

    public static ProblemHttpResult NotFound(string what, string id) =>
        Make(404, "not-found", $"{what} not found", $"No {what.ToLowerInvariant()} with id '{id}'.");

    public static ProblemHttpResult Invalid(string detail) => Make(400, "invalid-request", "Invalid request", detail);

    public static ProblemHttpResult TaskAlreadyClaimed(string taskId) =>
        Make(409, "task-already-claimed", "Task already claimed", $"Task '{taskId}' is not claimable: another worker holds it or it has finished.");

    public static ProblemHttpResult NotEligible(string taskId, string workerId) =>
        Make(409, "worker-not-eligible", "Worker not eligible", $"Worker '{workerId}' may not take task '{taskId}' (codebase, target worker, model or capabilities do not match).");

    public static ProblemHttpResult StaleLease(string taskId) =>
        Make(409, "stale-fencing-token", "Stale lease", $"The fencing token for task '{taskId}' is no longer current; the task was claimed again.");

    public static ProblemHttpResult NotHolder(string taskId, string workerId) =>
        Make(404, "lease-not-held", "Lease not held", $"Worker '{workerId}' does not hold task '{taskId}'.");

    public static ProblemHttpResult InvalidState(string taskId, string status, string action) =>
        Make(409, "invalid-task-state", "Invalid task state", $"Task '{taskId}' is {status}; it cannot be {action}.");

    public static ProblemHttpResult Conflict(string slug, string title, string detail) => Make(409, slug, title, detail);

    public static ProblemHttpResult Make(int status, string slug, string title, string detail) =>
        TypedResults.Problem(detail: detail, statusCode: status, title: title, type: Base + slug);
}
