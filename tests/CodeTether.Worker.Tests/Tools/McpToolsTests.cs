using CodeTether.Worker.Tools;

namespace CodeTether.Worker.Tests.Tools;

/// <summary>MCP client tool source: config format and failure handling (a live-server call is not covered yet, see README).</summary>
public sealed class McpToolsTests : ToolTestBase
{
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
