using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace CodeTether.Worker.Tools;

/// <summary>One MCP server of the worker's MCP config: a local command (stdio) or a URL (streamable HTTP).</summary>
public sealed record McpServerConfig
{
    public string? Command { get; init; }
    public IReadOnlyList<string>? Args { get; init; }
    public IReadOnlyDictionary<string, string?>? Env { get; init; }
    public string? Url { get; init; }
}

/// <summary>
/// MCP client tools (ModelContextProtocol <c>McpClient</c>): connects the servers of the worker's MCP config
/// (<c>{"mcpServers": {"name": {"command": ..., "args": [...]} | {"url": ...}}}</c>, the format of other agents) and
/// offers each of their tools as <c>mcp__&lt;server&gt;__&lt;tool&gt;</c>. A tool is read-only only when the server says so
/// (<c>readOnlyHint</c>). Connections live as long as the task.
/// </summary>
public sealed class McpToolSource : IAsyncDisposable
{
    private readonly List<McpClient> _clients = [];

    public List<AgentTool> Tools { get; } = [];

    /// <summary>Servers that could not be connected, with the reason (reported to the user, never fatal).</summary>
    public List<string> Failures { get; } = [];

    public static IReadOnlyDictionary<string, McpServerConfig> LoadConfig(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var servers = doc.RootElement.TryGetProperty("mcpServers", out var s) ? s
            : doc.RootElement.TryGetProperty("servers", out s) ? s
            : throw new InvalidDataException($"{path}: expected an object with 'mcpServers'");
        return servers.EnumerateObject().ToDictionary(p => p.Name,
            p => p.Value.Deserialize<McpServerConfig>(new JsonSerializerOptions(JsonSerializerDefaults.Web))!);
    }

    public static async Task<McpToolSource> ConnectAsync(IReadOnlyDictionary<string, McpServerConfig> servers,
        ILoggerFactory? loggers, CancellationToken ct, IReadOnlyDictionary<string, IClientTransport>? transports = null)
    {
        var source = new McpToolSource();
        foreach (var (name, config) in servers)
        {
            try
            {
                var transport = transports?.GetValueOrDefault(name) ?? CreateTransport(name, config);
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                timeout.CancelAfter(TimeSpan.FromSeconds(30));
                var client = await McpClient.CreateAsync(transport, loggerFactory: loggers, cancellationToken: timeout.Token).ConfigureAwait(false);
                source._clients.Add(client);
                foreach (var tool in await client.ListToolsAsync(cancellationToken: timeout.Token).ConfigureAwait(false))
                    source.Tools.Add(Wrap(name, client, tool));
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                source.Failures.Add($"{name}: {ex.Message}");
            }
        }
        return source;
    }

    private static IClientTransport CreateTransport(string name, McpServerConfig config)
    {
        if (config.Url is { } url)
            return new HttpClientTransport(new HttpClientTransportOptions { Endpoint = new Uri(url), Name = name });
        if (config.Command is { } command)
            return new StdioClientTransport(new StdioClientTransportOptions
            {
                Name = name,
                Command = command,
                Arguments = [.. config.Args ?? []],
                EnvironmentVariables = config.Env?.ToDictionary(),
            });
        throw new InvalidDataException("needs 'command' or 'url'");
    }

    private static AgentTool Wrap(string server, McpClient client, McpClientTool tool) =>
        new($"mcp__{Sanitize(server)}__{Sanitize(tool.Name)}",
            $"[MCP server {server}] {tool.Description}",
            tool.JsonSchema,
            readOnly: tool.ProtocolTool.Annotations?.ReadOnlyHint == true,
            async (args, ctx, ct) =>
            {
                var arguments = args.Values.ToDictionary(kv => kv.Key, kv => (object?)kv.Value);
                try
                {
                    var result = await client.CallToolAsync(tool.Name, arguments, cancellationToken: ct).ConfigureAwait(false);
                    var text = new StringBuilder();
                    foreach (var block in result.Content)
                        text.Append(block is TextContentBlock t ? t.Text : $"[{block.Type} content]").Append('\n');
                    var output = ShellTools.Cap(text.ToString().TrimEnd('\n'), ctx.Settings.OutputCap);
                    return new ToolResult(output.Length == 0 ? "(no content)" : output, IsError: result.IsError == true);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
                {
                    return ToolResult.Error($"MCP server {server} failed: {ex.Message}");
                }
            });

    private static string Sanitize(string name) =>
        new([.. name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' ? c : '_')]);

    public async ValueTask DisposeAsync()
    {
        foreach (var c in _clients)
        {
            try { await c.DisposeAsync().ConfigureAwait(false); }
            catch (Exception) { /* the server went away already */ }
        }
    }
}
