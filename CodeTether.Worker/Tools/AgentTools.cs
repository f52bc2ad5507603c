using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.AI;

namespace CodeTether.Worker.Tools;

/// <summary>Tools about the agent's own work: todo list, web fetch, asking the user, and RLM over large contexts.</summary>
public static partial class AgentTools
{
    public static IEnumerable<AgentTool> All(HttpClient? http = null) => [TodoWrite(), TodoRead(), WebFetch(http), AskUser(), Rlm()];

    public static AgentTool TodoWrite() => new("todo_write",
        "Replace your todo list for this task (plan the work, then mark items in_progress/completed as you go).",
        """{"type":"object","properties":{"todos":{"type":"array","items":{"type":"object","properties":{"content":{"type":"string"},"status":{"type":"string","enum":["pending","in_progress","completed"]}},"required":["content","status"]}}},"required":["todos"]}""",
        readOnly: true, (args, ctx, ct) =>
        {
            if (args.Raw("todos") is not { ValueKind: JsonValueKind.Array } todos) throw new ToolArgumentException("'todos' must be an array");
            var items = new List<TodoItem>();
            foreach (var t in todos.EnumerateArray())
            {
                var item = new ToolArgs(JsonSerializer.Deserialize<Dictionary<string, object?>>(t.GetRawText()));
                var status = item.OptString("status") ?? "pending";
                if (status is not ("pending" or "in_progress" or "completed"))
                    throw new ToolArgumentException($"todo status must be pending, in_progress or completed, got '{status}'");
                items.Add(new TodoItem((items.Count + 1).ToString(), item.String("content"), status));
            }
            lock (ctx.Todos)
            {
                ctx.Todos.Clear();
                ctx.Todos.AddRange(items);
            }
            return Task.FromResult(ToolResult.Ok(Render(ctx)));
        });

    public static AgentTool TodoRead() => new("todo_read", "Show your todo list.",
        """{"type":"object","properties":{}}""", readOnly: true,
        (args, ctx, ct) => Task.FromResult(ToolResult.Ok(Render(ctx))));

    private static string Render(ToolContext ctx)
    {
        lock (ctx.Todos)
        {
            if (ctx.Todos.Count == 0) return "(no todos)";
            return string.Join('\n', ctx.Todos.Select(t => $"{t.Id}. [{t.Status switch { "completed" => "x", "in_progress" => "~", _ => " " }}] {t.Content}"));
        }
    }

    public static AgentTool WebFetch(HttpClient? http = null) => new("web_fetch",
        "Fetch a web page (http/https GET) as text. Disabled unless the worker runs with --web-fetch.",
        """{"type":"object","properties":{"url":{"type":"string"},"max_chars":{"type":"integer"}},"required":["url"]}""",
        readOnly: true, async (args, ctx, ct) =>
        {
            if (!ctx.Settings.WebFetch) return ToolResult.Error("web_fetch is disabled on this worker (start it with --web-fetch to allow it)");
            if (!Uri.TryCreate(args.String("url"), UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
                throw new ToolArgumentException("url must be an absolute http(s) URL");
            var client = http ?? SharedHttp;
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(30));
            try
            {
                using var response = await client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
                var body = await response.Content.ReadAsStringAsync(timeout.Token);
                if (response.Content.Headers.ContentType?.MediaType?.Contains("html", StringComparison.OrdinalIgnoreCase) == true)
                    body = WebUtility.HtmlDecode(Whitespace().Replace(Tags().Replace(Scripts().Replace(body, " "), " "), " ")).Trim();
                var max = Math.Clamp(args.OptInt("max_chars") ?? 20_000, 100, 200_000);
                var text = $"HTTP {(int)response.StatusCode}\n{(body.Length > max ? body[..max] + $"\n[{body.Length - max} more characters]" : body)}";
                return new ToolResult(text, IsError: !response.IsSuccessStatusCode);
            }
            catch (Exception ex) when (ex is HttpRequestException || (ex is OperationCanceledException && !ct.IsCancellationRequested))
            {
                return ToolResult.Error($"fetching {url} failed: {ex.Message}");
            }
        });

    private static readonly HttpClient SharedHttp = new() { Timeout = TimeSpan.FromSeconds(30) };

    [GeneratedRegex(@"<(script|style)[^>]*>.*?</\1>", RegexOptions.Singleline | RegexOptions.IgnoreCase)]
    private static partial Regex Scripts();

    [GeneratedRegex("<[^>]+>")]
    private static partial Regex Tags();

    [GeneratedRegex(@"[ \t\r\f\v]*\n\s*|[ \t]{2,}")]
    private static partial Regex Whitespace();

    public static AgentTool AskUser() => new("ask_user",
        "Ask the user a question when you cannot continue without their answer. The task stops and waits for input.",
        """{"type":"object","properties":{"question":{"type":"string"}},"required":["question"]}""",
        readOnly: true, (args, ctx, ct) =>
        {
            ctx.InputRequest = args.String("question");
            return Task.FromResult(ToolResult.Ok("the question was sent to the user; stop here and wait for the answer"));
        });

    /// <summary>
    /// RLM (recursive language-model processing): a context too large for one call (a big file or text) is cut into
    /// slices; each slice is sent with the query to a sub-LLM call; the answers are combined and, while they are still
    /// too large, processed again one level deeper — bounded by depth, number of calls and slice size.
    /// </summary>
    public static AgentTool Rlm() => new("rlm",
        "Answer a question about a context too large to read at once (a big file, log or generated output): it is split into slices, each slice is examined by a sub-model call, and the findings are combined (recursively). Give path (a file in the codebase) or text.",
        """{"type":"object","properties":{"query":{"type":"string","description":"What to find out"},"path":{"type":"string"},"text":{"type":"string"},"max_depth":{"type":"integer"}},"required":["query"]}""",
        readOnly: true, async (args, ctx, ct) =>
        {
            if (ctx.Chat is null) return ToolResult.Error("rlm needs a model; none is configured for this task");
            var query = args.String("query");
            string context;
            if (args.OptString("path") is { } p)
            {
                var path = ctx.Root.Resolve(p);
                if (!File.Exists(path)) return ToolResult.Error($"file '{p}' does not exist");
                context = await File.ReadAllTextAsync(path, ct);
            }
            else context = args.OptString("text") ?? throw new ToolArgumentException("give either 'path' or 'text'");
            var budget = new RlmBudget(ctx.Settings.RlmMaxCalls);
            var depth = Math.Clamp(args.OptInt("max_depth") ?? ctx.Settings.RlmMaxDepth, 1, ctx.Settings.RlmMaxDepth);
            var answer = await RlmAsync(ctx, query, context, depth, budget, ct);
            return ToolResult.Ok($"{answer}\n[rlm: {context.Length} characters, {budget.Used} sub-calls]");
        });

    private sealed class RlmBudget(int calls)
    {
        public int Used;
        public bool TryTake() => Interlocked.Increment(ref Used) <= calls;
    }

    private static async Task<string> RlmAsync(ToolContext ctx, string query, string context, int depth, RlmBudget budget, CancellationToken ct)
    {
        var slice = ctx.Settings.RlmSliceChars;
        if (context.Length <= slice || depth <= 0)
            return await AskAsync(ctx, budget, $"Question: {query}\n\nAnswer from this context only. Be concise and quote exact lines, names and numbers.\n\n<context>\n{(context.Length > slice ? context[..slice] : context)}\n</context>", ct);

        var findings = new StringBuilder();
        for (int start = 0, n = 1; start < context.Length; start += slice, n++)
        {
            if (!budget.TryTake())
            {
                findings.Append($"[budget of {ctx.Settings.RlmMaxCalls} sub-calls spent; characters {start}-{context.Length} were not examined]\n");
                break;
            }
            var part = context.Substring(start, Math.Min(slice, context.Length - start));
            var answer = await SubCallAsync(ctx,
                $"You examine slice {n} (characters {start}-{start + part.Length} of {context.Length}) of a large context.\nQuestion: {query}\nReport only what in this slice is relevant (exact quotes, line contents, numbers), or 'nothing relevant'.\n\n<slice>\n{part}\n</slice>", ct);
            if (!answer.Contains("nothing relevant", StringComparison.OrdinalIgnoreCase)) findings.Append($"[slice {n}] {answer}\n");
        }
        var combined = findings.Length == 0 ? "nothing relevant was found in any slice" : findings.ToString();
        return await RlmAsync(ctx, query, combined, depth - 1, budget, ct);
    }

    private static async Task<string> AskAsync(ToolContext ctx, RlmBudget budget, string prompt, CancellationToken ct) =>
        budget.TryTake() ? await SubCallAsync(ctx, prompt, ct) : "[rlm budget spent before the final answer]";

    private static async Task<string> SubCallAsync(ToolContext ctx, string prompt, CancellationToken ct)
    {
        var response = await ctx.Chat!.GetResponseAsync([new ChatMessage(ChatRole.User, prompt)], new ChatOptions(), ct);
        Interlocked.Add(ref ctx.SubInputTokens, response.Usage?.InputTokenCount ?? 0);
        Interlocked.Add(ref ctx.SubOutputTokens, response.Usage?.OutputTokenCount ?? 0);
        return response.Text.Trim();
    }
}
