using System.Text.Json;
using CodeTether.Worker.Tests.Fakes;
using CodeTether.Worker.Tools;

namespace CodeTether.Worker.Tests.Tools;

/// <summary>A temp codebase root and a way to call one tool as the agent loop does (JSON arguments in, result out).</summary>
public abstract class ToolTestBase : IAsyncDisposable
{
    protected readonly TempDirectory Dir = new();
    protected readonly TempDirectory Outside = new();
    protected readonly CancellationTokenSource Timeout = TestTimeout.Create(60);
    private ToolContext? _ctx;

    protected virtual ToolSettings Settings => new() { ShellTimeout = TimeSpan.FromSeconds(30) };
    protected ToolContext Ctx => _ctx ??= new ToolContext(new CodebaseRoot(Dir.Path), Settings);
    protected string Root => Ctx.Root.Path;

    protected async Task<ToolResult> CallAsync(AgentTool tool, object args)
    {
        var json = JsonSerializer.Serialize(args);
        return await tool.InvokeAsync(ToolArgs.FromJson(json), Ctx, Timeout.Token);
    }

    protected string Write(string rel, string content)
    {
        var path = Path.Combine(Dir.Path, rel);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }

    protected string Read(string rel) => File.ReadAllText(Path.Combine(Dir.Path, rel));

    protected static void Ok(ToolResult r) => Assert.False(r.IsError, r.Text);

    protected static void Error(ToolResult r, string contains)
    {
        Assert.True(r.IsError, "expected an error, got: " + r.Text);
        Assert.Contains(contains, r.Text, StringComparison.Ordinal);
    }

    public async ValueTask DisposeAsync()
    {
        if (_ctx is not null) await _ctx.DisposeAsync();
        Timeout.Dispose();
        Dir.Dispose();
        Outside.Dispose();
        GC.SuppressFinalize(this);
    }
}
