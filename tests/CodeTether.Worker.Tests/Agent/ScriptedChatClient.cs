using System.Text.Json;
using Microsoft.Extensions.AI;

namespace CodeTether.Worker.Tests.Agent;

/// <summary>An in-process <see cref="IChatClient"/> that answers from a script and records every call.</summary>
public sealed class ScriptedChatClient : IChatClient
{
    private readonly Func<IReadOnlyList<ChatMessage>, ChatOptions?, int, ChatResponse> _answer;

    public ScriptedChatClient(Func<string, string> answerForPrompt)
        : this((messages, _, _) => Reply(answerForPrompt(messages[^1].Text)))
    {
    }

    public ScriptedChatClient(params ChatResponse[] turns)
        : this((_, _, n) => turns[Math.Min(n, turns.Length - 1)])
    {
    }

    public ScriptedChatClient(Func<IReadOnlyList<ChatMessage>, ChatOptions?, int, ChatResponse> answer) => _answer = answer;

    public List<(List<ChatMessage> Messages, ChatOptions? Options)> Calls { get; } = [];
    public List<string> Prompts => [.. Calls.Select(c => c.Messages[^1].Text)];

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var list = messages.ToList();
        int n;
        lock (Calls)
        {
            n = Calls.Count;
            Calls.Add((list, options));
        }
        return Task.FromResult(_answer(list, options, n));
    }

    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public object? GetService(Type serviceType, object? serviceKey = null) => null;

    public void Dispose()
    {
    }

    public static ChatResponse Reply(string text) =>
        new(new ChatMessage(ChatRole.Assistant, text)) { Usage = new UsageDetails { InputTokenCount = 10, OutputTokenCount = 2 } };

    private static int _callIds;

    public static ChatResponse Call(string name, object args, string? text = null)
    {
        var arguments = JsonSerializer.Deserialize<Dictionary<string, object?>>(JsonSerializer.Serialize(args));
        var contents = new List<AIContent>();
        if (text is not null) contents.Add(new TextContent(text));
        contents.Add(new FunctionCallContent($"call_{Interlocked.Increment(ref _callIds)}", name, arguments));
        return new ChatResponse(new ChatMessage(ChatRole.Assistant, contents)) { Usage = new UsageDetails { InputTokenCount = 10, OutputTokenCount = 2 } };
    }
}
