using System.ComponentModel;
using CodeTether.Worker.Tools;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Server;

namespace CodeTether.Worker.Tests.Tools;

/// <summary>MCP client tool source: config format, failure handling, and tools of a live server over Streamable HTTP.</summary>
public sealed class McpToolsTests : ToolTestBase
{
    [McpServerToolType]
    public sealed class LiveTools
    {
        [McpServerTool(Name = "shout", ReadOnly = true), Description("Upper-cases the text.")]
        public static string Shout([Description("Text to shout")] string text) => text.ToUpperInvariant();

        [McpServerTool(Name = "refuse"), Description("Always fails, as a server tool sometimes does.")]
        public static string Refuse() => throw new McpException("the server refused");
    }

    [Fact]
    public async Task LiveServer_OverStreamableHttp_ToolsAreOfferedWithTheirHintsAndCalled()
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = ["--urls", "http://127.0.0.1:0"] });
        builder.Logging.ClearProviders();
        builder.Services.AddMcpServer().WithHttpTransport().WithTools<LiveTools>();
        await using var app = builder.Build();
        app.MapMcp("/mcp");
        await app.StartAsync(Timeout.Token);

        await using var source = await McpToolSource.ConnectAsync(
            new Dictionary<string, McpServerConfig> { ["live"] = new() { Url = app.Urls.First() + "/mcp" } }, null, Timeout.Token);

        Assert.Empty(source.Failures);
        var shout = Assert.Single(source.Tools, t => t.Name == "mcp__live__shout");
        var refuse = Assert.Single(source.Tools, t => t.Name == "mcp__live__refuse");
        Assert.True(shout.ReadOnly);   // the server said readOnlyHint
        Assert.False(refuse.ReadOnly); // no hint: treated as mutating (needs approval under --auto-approve safe)
        Assert.Contains("Upper-cases", shout.Description);

        var ok = await CallAsync(shout, new { text = "hello mcp" });
        Assert.False(ok.IsError);
        Assert.Equal("HELLO MCP", ok.Text);

        var failed = await CallAsync(refuse, new { });
        Assert.True(failed.IsError);
        Assert.Contains("the server refused", failed.Text);
    }

    [Fact]
    public async Task UnreachableServer_IsReportedAsAFailure_NotAnException()
    {
        await using var source = await McpToolSource.ConnectAsync(
            new Dictionary<string, McpServerConfig> { ["broken"] = new() { Command = "/nonexistent/mcp-server" }, ["empty"] = new() },
            null, Timeout.Token);

        Assert.Empty(source.Tools);
        Assert.Equal(2, source.Failures.Count);
        Assert.Contains(source.Failures, f => f.StartsWith("empty: needs 'command' or 'url'", StringComparison.Ordinal));
    }

    [Fact]
    public void LoadConfig_ReadsTheMcpServersFormat()
    {
        var file = Write("mcp.json", """{"mcpServers":{"fs":{"command":"npx","args":["-y","server"],"env":{"A":"1"}},"remote":{"url":"http://127.0.0.1:1/mcp"}}}""");

        var config = McpToolSource.LoadConfig(file);

        Assert.Equal(["-y", "server"], config["fs"].Args);
        Assert.Equal("http://127.0.0.1:1/mcp", config["remote"].Url);
    }
}
