using Microsoft.Extensions.AI;

namespace CodeTether.Worker.Tools;

/// <summary>Limits and switches of the tools, from the worker's flags.</summary>
public sealed record ToolSettings
{
    /// <summary>Default timeout of one <c>shell</c>/<c>run_tests</c> call; the model may ask for less, never more than <see cref="MaxShellTimeout"/>.</summary>
    public TimeSpan ShellTimeout { get; init; } = TimeSpan.FromMinutes(2);
    public TimeSpan MaxShellTimeout { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>Characters of command output handed to the model (head and tail are kept).</summary>
    public int OutputCap { get; init; } = 30_000;

    /// <summary>Largest file <c>read_file</c> returns in one call.</summary>
    public int ReadCap { get; init; } = 100_000;

    /// <summary><c>web_fetch</c> is off unless the worker runs with <c>--web-fetch</c>.</summary>
    public bool WebFetch { get; init; }

    /// <summary>Environment variables removed from every child process (provider keys, tokens).</summary>
    public IReadOnlyList<string> HiddenEnvironment { get; init; } = [];

    /// <summary>Limits of the <c>rlm</c> tool.</summary>
    public int RlmMaxDepth { get; init; } = 2;
    public int RlmMaxCalls { get; init; } = 24;
    public int RlmSliceChars { get; init; } = 24_000;
}

/// <summary>What one task's tools share: the root, the settings, the model (for <c>rlm</c>) and per-task state.</summary>
public sealed class ToolContext(CodebaseRoot root, ToolSettings settings, IChatClient? chat = null) : IAsyncDisposable
{
    public CodebaseRoot Root { get; } = root;
    public ToolSettings Settings { get; } = settings;
    public IChatClient? Chat { get; } = chat;

    /// <summary>The agent's own todo list (<c>todo_write</c>/<c>todo_read</c>).</summary>
    public List<TodoItem> Todos { get; } = [];

    public BackgroundProcesses Background { get; } = new();

    /// <summary>Set by <c>ask_user</c>: the loop stops and the task waits for (or, today, fails asking for) input.</summary>
    public string? InputRequest { get; set; }

    /// <summary>Tokens spent by sub-LLM calls (<c>rlm</c>), added to the task's usage.</summary>
    public long SubInputTokens;
    public long SubOutputTokens;

    public ValueTask DisposeAsync() => Background.DisposeAsync();
}

public sealed record TodoItem(string Id, string Content, string Status);
