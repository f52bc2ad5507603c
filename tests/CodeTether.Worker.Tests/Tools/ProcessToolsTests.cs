using System.Diagnostics;
using CodeTether.Worker.Tools;

namespace CodeTether.Worker.Tests.Tools;

public sealed class ProcessToolsTests : ToolTestBase
{
    protected override ToolSettings Settings => new()
    {
        ShellTimeout = TimeSpan.FromSeconds(30),
        OutputCap = 2000,
        HiddenEnvironment = ["CT_TEST_HIDDEN_KEY"],
    };

    [Fact]
    public async Task Shell_RunsInTheRoot_WithExitCodeAndHiddenSecrets()
    {
        Environment.SetEnvironmentVariable("CT_TEST_HIDDEN_KEY", "hidden-value");
        Directory.CreateDirectory(Path.Combine(Dir.Path, "sub"));

        var ok = await CallAsync(ShellTools.Shell(), new { command = "pwd; echo \"key=$CT_TEST_HIDDEN_KEY\"; echo err >&2" });
        var sub = await CallAsync(ShellTools.Shell(), new { command = "pwd", cwd = "sub" });
        var failed = await CallAsync(ShellTools.Shell(), new { command = "exit 3" });

        Assert.Equal($"exit code 0\n{Root}\nkey=\nerr", ok.Text);
        Assert.Equal($"exit code 0\n{Path.Combine(Root, "sub")}", sub.Text);
        Error(failed, "exit code 3");
    }

    [Fact]
    public async Task Shell_TimesOutAndCapsOutput()
    {
        var slow = await CallAsync(ShellTools.Shell(), new { command = "echo started; sleep 30", timeout_seconds = 1 });
        var loud = await CallAsync(ShellTools.Shell(), new { command = "seq 1 5000" });

        Error(slow, "timed out after 1 s");
        Assert.Contains("started", slow.Text);
        Assert.Contains("characters of output omitted", loud.Text);
        Assert.InRange(loud.Text.Length, 1000, 2200);
        Assert.EndsWith("5000", loud.Text);
        Error(await CallAsync(ShellTools.Shell(), new { command = "true", timeout_seconds = 0 }), "timeout_seconds must be positive");
    }

    [Fact]
    public async Task Background_StartLogsStop()
    {
        var started = await CallAsync(ShellTools.BgStart(), new { command = "echo ready; exec sleep 60" });
        Ok(started);
        var entry = Ctx.Background.Get("bg1")!;
        await WaitForLineAsync(entry, "ready");

        var logs = await CallAsync(ShellTools.BgLogs(), new { id = "bg1" });
        Assert.Contains("running", logs.Text);
        Assert.Contains("ready", logs.Text);
        Ok(await CallAsync(ShellTools.BgStop(), new { id = "bg1" }));
        Assert.True(entry.Process.HasExited);
        Error(await CallAsync(ShellTools.BgLogs(), new { id = "bg9" }), "known: bg1");
    }

    private async Task WaitForLineAsync(BackgroundProcesses.Entry entry, string text)
    {
        // the process's own output is the event; bounded by the test timeout
        while (true)
        {
            lock (entry.Lines) if (entry.Lines.Contains(text)) return;
            await Task.Yield();
            Timeout.Token.ThrowIfCancellationRequested();
        }
    }

    private void Git(params string[] args)
    {
        var psi = new ProcessStartInfo("git") { WorkingDirectory = Dir.Path, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
    }

    [Fact]
    public async Task Git_StatusDiffCommitLogBranchCheckoutWorktree()
    {
        Git("init", "-q", "-b", "main");
        Write("a.txt", "one\n");
        Ok(await CallAsync(GitTools.Commit(), new { message = "first" }));
        Write("a.txt", "two\n");

        Assert.Contains(" M a.txt", (await CallAsync(GitTools.Status(), new { })).Text);
        Assert.Contains("-one\n+two", (await CallAsync(GitTools.Diff(), new { path = "a.txt" })).Text);
        Ok(await CallAsync(GitTools.Commit(), new { message = "second", paths = new[] { "a.txt" } }));
        var log = (await CallAsync(GitTools.Log(), new { })).Text.Split('\n');
        Assert.Equal(2, log.Length);
        Assert.EndsWith("second", log[0]);
        Assert.Equal("no changes", (await CallAsync(GitTools.Diff(), new { })).Text);

        Ok(await CallAsync(GitTools.Branch(), new { name = "feature" }));
        Assert.Contains("feature", (await CallAsync(GitTools.Branch(), new { })).Text);
        Ok(await CallAsync(GitTools.Checkout(), new { @ref = "feature" }));
        Ok(await CallAsync(GitTools.Checkout(), new { @ref = "topic", create = true }));
        Error(await CallAsync(GitTools.Checkout(), new { @ref = "--orphan" }), "not a valid git ref");
        Error(await CallAsync(GitTools.Checkout(), new { @ref = "no-such-branch" }), "failed");

        Ok(await CallAsync(GitTools.Worktree(), new { action = "add", path = ".worktrees/wt1", branch = "wt1", create_branch = true }));
        Assert.Contains(".worktrees/wt1", (await CallAsync(GitTools.Worktree(), new { action = "list" })).Text);
        Error(await CallAsync(GitTools.Worktree(), new { action = "add", path = "../escape", branch = "x", create_branch = true }), "refused:");
        Ok(await CallAsync(GitTools.Worktree(), new { action = "remove", path = ".worktrees/wt1" }));
    }

    [Fact]
    public async Task Git_OutsideARepository_FailsClearly()
    {
        Error(await CallAsync(GitTools.Status(), new { }), "git status --short failed");
    }

    [Fact]
    public async Task RunTests_DetectsPython_AndReportsPassAndFail()
    {
        Write("calc.py", "def add(a, b):\n    return a + b\n");
        Write("test_calc.py", "import unittest\nfrom calc import add\nclass T(unittest.TestCase):\n    def test_add(self):\n        self.assertEqual(add(2, 3), 5)\n");

        var passed = await CallAsync(TestTools.RunTests(), new { });
        Write("calc.py", "def add(a, b):\n    return a - b\n");
        var failed = await CallAsync(TestTools.RunTests(), new { });

        Assert.Contains("tests PASSED", passed.Text);
        Assert.Contains("unittest: python3 -m unittest discover -v", passed.Text);
        Error(failed, "tests FAILED");
        Assert.Contains("AssertionError", failed.Text);
    }

    [Fact]
    public async Task RunTests_WithoutATestSetup_SaysWhatItLookedFor()
    {
        Write("notes.md", "hi");

        Error(await CallAsync(TestTools.RunTests(), new { }), "no test setup found");
        Error(await CallAsync(TestTools.RunTests(), new { framework = "make" }), "tests FAILED");
    }

    [Fact]
    public async Task RunTests_DetectsOtherEcosystems()
    {
        Write("a/x.csproj", "<Project/>");
        Write("b/package.json", "{}");
        Write("c/Cargo.toml", "");
        Write("d/go.mod", "module x");
        Write("e/Makefile", "test:\n\ttrue\n");

        Assert.Equal("dotnet", await TestTools.DetectAsync(Path.Combine(Root, "a"), Ctx, Timeout.Token));
        Assert.Equal("npm", await TestTools.DetectAsync(Path.Combine(Root, "b"), Ctx, Timeout.Token));
        Assert.Equal("cargo", await TestTools.DetectAsync(Path.Combine(Root, "c"), Ctx, Timeout.Token));
        Assert.Equal("go", await TestTools.DetectAsync(Path.Combine(Root, "d"), Ctx, Timeout.Token));
        Assert.Equal("make", await TestTools.DetectAsync(Path.Combine(Root, "e"), Ctx, Timeout.Token));
    }
}
