namespace CodeTether.Api.Workers;

/// <summary>A worker names itself by body field, <c>X-Worker-ID</c> header or <c>worker_id</c> query, in that order.</summary>
public static class WorkerIdentity
{
    public const int MaxLength = 200;

    public static string? Resolve(HttpRequest request, string? fromBody)
    {
        var id = Clean(fromBody) ?? Clean(request.Headers["X-Worker-ID"].FirstOrDefault()) ?? Clean(request.Query["worker_id"].FirstOrDefault());
        return id is { Length: <= MaxLength } && !id.Any(char.IsControl) ? id : null;
    }

    public static IReadOnlyList<string>? HeaderList(HttpRequest request, string header) =>
        request.Headers[header].FirstOrDefault() is { Length: > 0 } raw
            ? raw.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : null;

    static string? Clean(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();
}
