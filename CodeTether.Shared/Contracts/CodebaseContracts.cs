namespace CodeTether.Shared.Contracts;

public static class CodebaseIds
{
    /// <summary>The pseudo-codebase of tasks that any worker may take, and of workers that take anything.</summary>
    public const string Global = "global";
}

public sealed record RegisterCodebaseRequest
{
    public string? Name { get; init; }
    public string? Path { get; init; }
    public string? Description { get; init; }
    public string? WorkerId { get; init; }
}

public sealed record UpdateCodebaseRequest
{
    public string? Name { get; init; }
    public string? Path { get; init; }
    public string? Description { get; init; }
}

public sealed record CodebaseDto
{
    public required string Id { get; init; }
    public required string Name { get; init; }
    public required string Path { get; init; }
    public string? Description { get; init; }
    /// <summary>Workers that registered this codebase (online or not).</summary>
    public IReadOnlyList<string> Workers { get; init; } = [];
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
}
