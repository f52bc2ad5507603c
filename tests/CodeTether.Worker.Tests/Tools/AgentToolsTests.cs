using System.Net;
using CodeTether.Worker.Tests.Agent;
using CodeTether.Worker.Tools;
using Microsoft.Extensions.AI;

namespace CodeTether.Worker.Tests.Tools;

public sealed class AgentToolsTests : ToolTestBase
{
    [Fact]
    public async Task Todo_WriteThenRead()
    {
        var written = await CallAsync(AgentTools.TodoWrite(), new { todos = new[] { new { content = "read", status = "completed" }, new { content = "fix", status = "in_progress" } } });

        Assert.Equal("1. [x] read\n2. [~] fix", written.Text);
        Assert.Equal(written.Text, (await CallAsync(AgentTools.TodoRead(), new { })).Text);
        Error(await CallAsync(AgentTools.TodoWrite(), new { todos = new[] { new { content = "x", status = "maybe" } } }), "status must be");
        Error(await CallAsync(AgentTools.TodoWrite(), new { todos = "x" }), "must be an array");
    }

    [Fact]
    public async Task WebFetch_IsOffByDefault()
    {
        Error(await CallAsync(AgentTools.WebFetch(), new { url = "http://example.com" }), "disabled on this worker (start it with --web-fetch");
    }

    [Fact]
    public async Task WebFetch_WhenEnabled_ReturnsTextOfHtml_AndRejectsBadUrls()
    {
        var ctx = new ToolContext(Ctx.Root, new ToolSettings { WebFetch = true });
        using var http = new HttpClient(new StaticHandler("<html><script>x()</script><body><h1>Title</h1><p>Body &amp; more</p></body></html>"));
        var tool = AgentTools.WebFetch(http);

        var page = await tool.InvokeAsync(ToolArgs.FromJson("""{"url":"http://docs.local/page"}"""), ctx, Timeout.Token);
        var bad = await tool.InvokeAsync(ToolArgs.FromJson("""{"url":"file:///etc/passwd"}"""), ctx, Timeout.Token);

        Assert.Equal("HTTP 200\nTitle Body & more", page.Text);
        Error(bad, "absolute http(s) URL");
    }

    private sealed class StaticHandler(string html) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct) =>
            Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(html, System.Text.Encoding.UTF8, "text/html") });
    }

    [Fact]
    public async Task AskUser_RecordsTheQuestion()
    {
        Ok(await CallAsync(AgentTools.AskUser(), new { question = "Which database?" }));
        Assert.Equal("Which database?", Ctx.InputRequest);
    }

    [Fact]
    public async Task Rlm_SlicesALargeFile_QueriesEachSlice_AndCombines()
    {
        var chat = new ScriptedChatClient(prompt => prompt.Contains("<slice>", StringComparison.Ordinal)
            ? (prompt.Contains("MAGIC=42", StringComparison.Ordinal) ? "found MAGIC=42" : "nothing relevant")
            : "The magic value is 42");
        var ctx = new ToolContext(Ctx.Root, new ToolSettings { RlmSliceChars = 1000, RlmMaxCalls = 50 }, chat);
        var lines = Enumerable.Range(0, 400).Select(i => i == 250 ? "MAGIC=42" : $"filler line {i:D4}");
        Write("big.log", string.Join('\n', lines));

        var r = await AgentTools.Rlm().InvokeAsync(ToolArgs.FromJson("""{"query":"What is MAGIC?","path":"big.log"}"""), ctx, Timeout.Token);

        Assert.StartsWith("The magic value is 42", r.Text);
        Assert.Contains("sub-calls]", r.Text);
        var finalPrompt = chat.Prompts[^1];
        Assert.Contains("[slice", finalPrompt);
        Assert.Contains("found MAGIC=42", finalPrompt);
        Assert.True(chat.Prompts.Count > 5);
        Assert.True(ctx.SubInputTokens > 0);
    }

    [Fact]
    public async Task Rlm_StopsAtItsBudget_AndNeedsAModel()
    {
        var chat = new ScriptedChatClient(_ => "found something");
        var ctx = new ToolContext(Ctx.Root, new ToolSettings { RlmSliceChars = 100, RlmMaxCalls = 3 }, chat);

        var r = await AgentTools.Rlm().InvokeAsync(ToolArgs.FromJson($$"""{"query":"q","text":"{{new string('x', 1000)}}"}"""), ctx, Timeout.Token);

        Assert.Equal(3, chat.Prompts.Count);
        Assert.Contains("budget", r.Text);
        Error(await CallAsync(AgentTools.Rlm(), new { query = "q", text = "t" }), "rlm needs a model");
    }

    [Fact]
    public void BuiltIn_HasAtLeast28Tools_WithUniqueNamesAndObjectSchemas()
    {
        var tools = ToolSet.BuiltIn();

        Assert.True(tools.Count >= 28, $"{tools.Count} tools");
        Assert.Equal(tools.Count, tools.Select(t => t.Name).Distinct().Count());
        Assert.All(tools, t => Assert.Equal("object", t.Schema.GetProperty("type").GetString()));
        Assert.All(tools, t => Assert.IsAssignableFrom<AIFunctionDeclaration>(t.Declaration));
    }

    [Fact]
    public void PlanAndExplore_GetOnlyReadOnlyTools()
    {
        var build = ToolSet.For("build", new ToolSettings()).Select(t => t.Name).ToList();
        var plan = ToolSet.For("plan", new ToolSettings()).Select(t => t.Name).ToList();

        Assert.Contains("write_file", build);
        Assert.Contains("shell", build);
        Assert.DoesNotContain("web_fetch", build);
        Assert.Equal(["read_file", "list_dir", "glob", "grep", "file_info", "bg_logs", "git_status", "git_diff", "git_log", "todo_write", "todo_read", "ask_user", "rlm"], plan);
        Assert.Contains("web_fetch", ToolSet.For("explore", new ToolSettings { WebFetch = true }).Select(t => t.Name));
    }
}
