using CodeTether.Worker.Tests.Fakes;

namespace CodeTether.Worker.Tests;

public sealed class WorkerCommandTests
{
    private static WorkerOptions Resolve(string[] args, Dictionary<string, string>? env = null)
    {
        var parse = WorkerCommand.Create().Parse(args);
        Assert.Empty(parse.Errors);
        return WorkerCommand.ResolveOptions(parse, k => env?.GetValueOrDefault(k));
    }

    [Fact]
    public void Resolve_WithNothingSet_UsesTheDefaults()
    {
        using var data = new TempDirectory();

        var options = Resolve([], new() { ["CODETETHER_DATA_DIR"] = data.Path });

        Assert.Equal(new Uri("http://127.0.0.1:8000"), options.ServerUrl);
        Assert.Equal([Path.GetFullPath(Environment.CurrentDirectory)], options.Codebases);
        Assert.Null(options.Token);
        Assert.Equal((AutoApproveModes.Safe, ExecutorKinds.Unconfigured, 1), (options.AutoApprove, options.Executor, options.MaxConcurrent));
        Assert.Equal(TimeSpan.FromSeconds(20), options.Grace);
        Assert.Matches("^[a-z0-9-]+-[0-9a-f]{6}$", options.WorkerId);
    }

    [Fact]
    public void Resolve_FlagsWinOverEnvironment_AndEnvironmentFillsTheRest()
    {
        var options = Resolve(
            ["--server", "https://ct.example.com", "--worker-id", "w-flag", "--auto-approve", "all", "--max-concurrent", "3",
             "--executor", "shell", "--grace", "5"],
            new()
            {
                ["A2A_SERVER_URL"] = "http://ignored:1",
                ["A2A_WORKER_ID"] = "w-env",
                ["A2A_WORKER_TOKEN"] = "env-token",
                ["A2A_CAPABILITIES"] = "shell, git",
                ["A2A_MODELS"] = "a,b",
            });

        Assert.Equal(new Uri("https://ct.example.com"), options.ServerUrl);
        Assert.Equal("w-flag", options.WorkerId);
        Assert.Equal("env-token", options.Token);
        Assert.Equal(["shell", "git"], options.Capabilities);
        Assert.Equal(["a", "b"], options.Models);
        Assert.Equal((AutoApproveModes.All, 3, ExecutorKinds.Shell), (options.AutoApprove, options.MaxConcurrent, options.Executor));
        Assert.Equal(TimeSpan.FromSeconds(5), options.Grace);
    }

    [Fact]
    public void Resolve_Codebases_AreSplitOnCommaAndColon_AndMadeAbsolute()
    {
        var options = Resolve(["--codebases", "/srv/a:/srv/b/,relative/c,global"]);

        Assert.Equal(["/srv/a", "/srv/b", Path.GetFullPath("relative/c"), "global"], options.Codebases);
    }

    [Fact]
    public void Resolve_OnALoopbackServerWithoutToken_ReadsTheAdminTokenFromTheDataDirectory()
    {
        using var data = new TempDirectory();
        File.WriteAllText(Path.Combine(data.Path, "admin-token"), "local-admin-token\n");
        var env = new Dictionary<string, string> { ["CODETETHER_DATA_DIR"] = data.Path };

        Assert.Equal("local-admin-token", Resolve(["--server", "http://localhost:8000"], env).Token);
        Assert.Equal("local-admin-token", Resolve(["--server", "http://[::1]:8000"], env).Token);
        Assert.Null(Resolve(["--server", "http://ct.example.com"], env).Token);
        Assert.Equal("flag", Resolve(["--token", "flag"], env).Token);
    }

    [Fact]
    public void Parse_RejectsUnknownAutoApproveModes()
    {
        var parse = WorkerCommand.Create().Parse(["--auto-approve", "sometimes"]);

        Assert.NotEmpty(parse.Errors);
    }

    [Fact]
    public void Options_ToString_NeverShowsTheToken()
    {
        var options = Resolve(["--token", "very-secret"]);

        Assert.DoesNotContain("very-secret", options.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_WithAProviderKey_DefaultsToTheAgent_AndAdvertisesItsModels()
    {
        var options = Resolve([], new() { ["ANTHROPIC_API_KEY"] = "k" });

        Assert.Equal(ExecutorKinds.Agent, options.Executor);
        Assert.Equal(["anthropic:claude-sonnet-4-0", "fast", "balanced", "best"], options.Models);
    }

    [Fact]
    public void Resolve_AgentFlags_AreParsed()
    {
        var options = Resolve(["--executor", "agent", "--models", "openai:gpt-test,fast=ollama:qwen2.5-coder", "--web-fetch",
            "--max-steps", "7", "--tool-timeout", "30", "--data-dir", "/tmp/ct-data"],
            new() { ["OPENAI_API_KEY"] = "k" });

        Assert.Equal("ollama:qwen2.5-coder", options.Catalog.Resolve("fast")!.Id);
        Assert.Equal(["openai:gpt-test", "ollama:qwen2.5-coder", "fast", "balanced", "best"], options.Models);
        Assert.Equal((true, 7, TimeSpan.FromSeconds(30), "/tmp/ct-data"), (options.WebFetch, options.MaxSteps, options.ToolTimeout, options.DataDir));
    }

    [Fact]
    public void Resolve_AgentWithoutAServableModel_IsRefusedAtStartup()
    {
        var parse = WorkerCommand.Create().Parse(["--executor", "agent"]);
        var noKey = WorkerCommand.Create().Parse(["--models", "anthropic:claude-sonnet-4"]);

        Assert.Contains("needs a model", Assert.Throws<ArgumentException>(() => WorkerCommand.ResolveOptions(parse, _ => null)).Message);
        Assert.Contains("needs ANTHROPIC_API_KEY", Assert.Throws<ArgumentException>(() => WorkerCommand.ResolveOptions(noKey, _ => null)).Message);
    }
}
