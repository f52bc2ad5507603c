using CodeTether.Worker.Tools;

namespace CodeTether.Worker.Tests.Tools;

public sealed class CodebaseRootTests : ToolTestBase
{
    [Fact]
    public void Resolve_RelativeAndAbsoluteInside_AreAccepted()
    {
        Write("src/a.txt", "x");

        Assert.Equal(Path.Combine(Root, "src", "a.txt"), Ctx.Root.Resolve("src/a.txt"));
        Assert.Equal(Path.Combine(Root, "src", "a.txt"), Ctx.Root.Resolve(Path.Combine(Root, "src/../src/a.txt")));
        Assert.Equal(Path.Combine(Root, "new", "file.txt"), Ctx.Root.Resolve("new/file.txt"));
        Assert.Equal(Root, Ctx.Root.Resolve("."));
    }

    [Theory]
    [InlineData("../outside.txt")]
    [InlineData("src/../../outside.txt")]
    [InlineData("/etc/passwd")]
    public void Resolve_PathsLeavingTheRoot_AreRefused(string path)
    {
        Assert.Throws<PathEscapeException>(() => Ctx.Root.Resolve(path));
    }

    [Fact]
    public void Resolve_SiblingDirectoryWithTheRootAsPrefix_IsRefused()
    {
        Assert.Throws<PathEscapeException>(() => Ctx.Root.Resolve(Root + "-evil/x"));
    }

    [Fact]
    public void Resolve_SymlinksPointingOut_AreRefused_ForFilesDirectoriesAndNewFilesBelowThem()
    {
        File.WriteAllText(Path.Combine(Outside.Path, "secret.txt"), "s");
        File.CreateSymbolicLink(Path.Combine(Root, "file-link"), Path.Combine(Outside.Path, "secret.txt"));
        Directory.CreateSymbolicLink(Path.Combine(Root, "dir-link"), Outside.Path);
        File.CreateSymbolicLink(Path.Combine(Root, "dangling"), Path.Combine(Outside.Path, "not-yet"));

        Assert.Throws<PathEscapeException>(() => Ctx.Root.Resolve("file-link"));
        Assert.Throws<PathEscapeException>(() => Ctx.Root.Resolve("dir-link/secret.txt"));
        Assert.Throws<PathEscapeException>(() => Ctx.Root.Resolve("dir-link/new/file.txt"));
        Assert.Throws<PathEscapeException>(() => Ctx.Root.Resolve("dangling"));
    }

    [Fact]
    public void Resolve_SymlinkInsideTheRoot_ResolvesToItsTarget()
    {
        Write("real/a.txt", "a");
        Directory.CreateSymbolicLink(Path.Combine(Root, "alias"), Path.Combine(Root, "real"));

        Assert.Equal(Path.Combine(Root, "real", "a.txt"), Ctx.Root.Resolve("alias/a.txt"));
    }

    [Fact]
    public async Task Tools_ReportEscapesAsRefusedErrors_AndTouchNothingOutside()
    {
        Directory.CreateSymbolicLink(Path.Combine(Root, "out"), Outside.Path);

        Error(await CallAsync(FileTools.ReadFile(), new { path = "../x" }), "refused: path '../x' is outside the codebase root");
        Error(await CallAsync(FileTools.WriteFile(), new { path = "out/pwned.txt", content = "x" }), "refused:");
        Error(await CallAsync(FileTools.Delete(), new { path = "/tmp" }), "refused:");
        Error(await CallAsync(FileTools.Move(), new { from = "a", to = "../b" }), "refused:");
        Error(await CallAsync(ShellTools.Shell(), new { command = "pwd", cwd = "out" }), "refused:");
        Error(await CallAsync(FileTools.ApplyPatch(), new { patch = "--- /dev/null\n+++ b/../evil.txt\n@@ -0,0 +1 @@\n+x\n" }), "refused:");
        Error(await CallAsync(FileTools.Grep(), new { pattern = "x", path = "out" }), "refused:");

        Assert.Empty(Directory.EnumerateFileSystemEntries(Outside.Path));
    }

    [Fact]
    public async Task GlobAndGrep_DoNotFollowSymlinksOut()
    {
        File.WriteAllText(Path.Combine(Outside.Path, "leak.txt"), "needle");
        Directory.CreateSymbolicLink(Path.Combine(Root, "out"), Outside.Path);
        Write("in.txt", "needle");

        var glob = await CallAsync(FileTools.Glob(), new { pattern = "**/*.txt" });
        var grep = await CallAsync(FileTools.Grep(), new { pattern = "needle" });

        Assert.Equal("in.txt", glob.Text);
        Assert.Equal("in.txt:1: needle", grep.Text);
    }
}
