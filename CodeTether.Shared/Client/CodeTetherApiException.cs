using System.Net;

namespace CodeTether.Shared.Client;

/// <summary>An RFC 7807 problem as the server sends it (<c>application/problem+json</c>).</summary>
public sealed record ApiProblem
{
    public string? Type { get; init; }
    public string? Title { get; init; }
    public int? Status { get; init; }
    public string? Detail { get; init; }
    public string? Instance { get; init; }
}

/// <summary>The server answered with a status the call does not treat as an expected outcome.</summary>
public class CodeTetherApiException : Exception
{
    public CodeTetherApiException(HttpStatusCode statusCode, ApiProblem? problem, string method, string path)
        : base(BuildMessage(statusCode, problem, method, path))
    {
        StatusCode = statusCode;
        Problem = problem;
    }

    public HttpStatusCode StatusCode { get; }

    /// <summary>The ProblemDetails body, or a problem made from the raw body when it was not JSON.</summary>
    public ApiProblem? Problem { get; }

    public string? Title => Problem?.Title;
    public string? Detail => Problem?.Detail;

    private static string BuildMessage(HttpStatusCode status, ApiProblem? problem, string method, string path)
    {
        var text = $"{method} {path} failed with {(int)status} {status}";
        if (!string.IsNullOrWhiteSpace(problem?.Title)) text += $": {problem.Title}";
        if (!string.IsNullOrWhiteSpace(problem?.Detail)) text += $" — {problem.Detail}";
        return text;
    }
}

/// <summary>
/// The task's lease is no longer this worker's: the task was cancelled, requeued after lease expiry, or the fencing token
/// is stale. The worker must stop working on it and must not release it.
/// </summary>
public sealed class LeaseLostException(string taskId, HttpStatusCode statusCode, ApiProblem? problem, string method, string path)
    : CodeTetherApiException(statusCode, problem, method, path)
{
    public string TaskId { get; } = taskId;
}
