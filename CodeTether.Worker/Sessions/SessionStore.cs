using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CodeTether.Shared.Contracts;
using Microsoft.Extensions.AI;

namespace CodeTether.Worker.Sessions;

/// <summary>One line of a session transcript (<c>&lt;id&gt;.jsonl</c>); <see cref="Parts"/> is the M.E.AI <c>ChatMessage</c> as JSON.</summary>
public sealed record StoredMessage(string Id, string Role, string? Content, JsonElement Parts, DateTimeOffset CreatedAt, string? TaskId);

/// <summary>A session's header (<c>&lt;id&gt;.json</c>); <see cref="Pending"/> is set while the session waits for the user.</summary>
public sealed record StoredSession(string Id, string CodebaseId, string? Title, string? Agent, string? TaskId,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, PendingInput? Pending = null);

/// <summary>
/// What a session waits for: task <see cref="TaskId"/> went <c>input-required</c> at tool call <see cref="CallId"/>
/// (<see cref="Kind"/> <c>question</c> = <c>ask_user</c>, <c>approval</c> = a call that needs the user's approval).
/// The last assistant turn of the transcript is open: its calls from <see cref="CallId"/> on have no results yet.
/// </summary>
public sealed record PendingInput(string TaskId, string Kind, string CallId, string Tool, string Question)
{
    public const string QuestionKind = "question";
    public const string ApprovalKind = "approval";
}

/// <summary>
/// The worker's local session store: one JSONL transcript per session under <c>&lt;data dir&gt;/sessions</c>, appended after
/// each task. A task with a <c>session_id</c> continues that session's history; every session is synced to the server
/// (<c>POST /v1/agent/codebases/{id}/sessions/sync</c>) after the task.
/// </summary>
public sealed class SessionStore(string directory)
{
    private static readonly JsonSerializerOptions LineJson = Shared.Json.CodeTetherJson.Options;
    private readonly SemaphoreSlim _gate = new(1, 1);

    public string Directory { get; } = directory;

    private string FileOf(string sessionId, string ext)
    {
        var safe = sessionId.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.') && sessionId.Length <= 100 && !sessionId.StartsWith('.')
            ? sessionId
            : Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sessionId)))[..32];
        return Path.Combine(Directory, safe + ext);
    }

    public async Task<IReadOnlyList<StoredMessage>> LoadAsync(string sessionId, CancellationToken ct)
    {
        var file = FileOf(sessionId, ".jsonl");
        if (!File.Exists(file)) return [];
        var list = new List<StoredMessage>();
        foreach (var line in await File.ReadAllLinesAsync(file, ct).ConfigureAwait(false))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            try
            {
                list.Add(JsonSerializer.Deserialize<StoredMessage>(line, LineJson)!);
            }
            catch (JsonException)
            {
                // a torn last line from a crash: skip it
            }
        }
        return list;
    }

    public async Task<StoredSession?> LoadHeaderAsync(string sessionId, CancellationToken ct)
    {
        var file = FileOf(sessionId, ".json");
        return File.Exists(file)
            ? JsonSerializer.Deserialize<StoredSession>(await File.ReadAllTextAsync(file, ct).ConfigureAwait(false), LineJson)
            : null;
    }

    /// <summary>Appends messages and writes the header; returns the whole transcript.</summary>
    public async Task<IReadOnlyList<StoredMessage>> AppendAsync(StoredSession header, IEnumerable<StoredMessage> messages, CancellationToken ct)
    {
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            System.IO.Directory.CreateDirectory(Directory);
            var lines = messages.Select(m => JsonSerializer.Serialize(m, LineJson) + "\n");
            await File.AppendAllTextAsync(FileOf(header.Id, ".jsonl"), string.Concat(lines), ct).ConfigureAwait(false);
            await File.WriteAllTextAsync(FileOf(header.Id, ".json"), JsonSerializer.Serialize(header, LineJson), ct).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
        return await LoadAsync(header.Id, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// The history as chat messages. A trailing assistant turn whose tool calls did not all get results (a crash, or a
    /// turn waiting for the user) is dropped with its partial results, unless <paramref name="keepOpenTurn"/> (resuming it).
    /// </summary>
    public static List<ChatMessage> ToChat(IEnumerable<StoredMessage> stored, bool keepOpenTurn = false)
    {
        var messages = stored.Select(m => m.Parts.Deserialize<ChatMessage>(AIJsonUtilities.DefaultOptions)).OfType<ChatMessage>().ToList();
        if (keepOpenTurn) return messages;
        while (OpenTurn(messages) is { } open) messages.RemoveRange(open, messages.Count - open);
        return messages;
    }

    /// <summary>The index of the last assistant turn with tool calls when some of them have no result after it, else null.</summary>
    public static int? OpenTurn(IReadOnlyList<ChatMessage> messages)
    {
        for (var i = messages.Count - 1; i >= 0; i--)
        {
            var calls = messages[i].Contents.OfType<FunctionCallContent>().Select(c => c.CallId).ToList();
            if (calls.Count == 0)
            {
                if (messages[i].Role == ChatRole.Tool) continue;
                return null;
            }
            var answered = messages.Skip(i + 1).SelectMany(m => m.Contents.OfType<FunctionResultContent>()).Select(r => r.CallId).ToHashSet();
            return calls.All(answered.Contains) ? null : i;
        }
        return null;
    }

    public static StoredMessage FromChat(string id, ChatMessage message, string? taskId, DateTimeOffset now, Func<string, string> redact)
    {
        var content = message.Role == ChatRole.Tool
            ? string.Join("\n", message.Contents.OfType<FunctionResultContent>().Select(r => $"[{r.CallId}] {Truncate(r.Result?.ToString(), 500)}"))
            : message.Text is { Length: > 0 } text
                ? text
                : string.Join("\n", message.Contents.OfType<FunctionCallContent>().Select(c => $"→ {c.Name}"));
        var parts = JsonDocument.Parse(redact(JsonSerializer.Serialize(message, AIJsonUtilities.DefaultOptions))).RootElement.Clone();
        return new StoredMessage(id, message.Role.Value, redact(content), parts, now, taskId);
    }

    public static SessionSyncItem ToSync(StoredSession header, IReadOnlyList<StoredMessage> messages) => new()
    {
        Id = header.Id,
        Title = header.Title,
        Agent = header.Agent,
        TaskId = header.TaskId,
        CreatedAt = header.CreatedAt,
        UpdatedAt = header.UpdatedAt,
        Messages = [.. messages.Select(m => new SessionMessageDto { Id = m.Id, Role = m.Role, Content = m.Content, Parts = m.Parts, CreatedAt = m.CreatedAt })],
    };

    private static string? Truncate(string? s, int max) => s is null || s.Length <= max ? s : s[..max] + "…";
}
