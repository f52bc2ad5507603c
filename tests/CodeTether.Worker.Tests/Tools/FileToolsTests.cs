using CodeTether.Worker.Tools;

namespace CodeTether.Worker.Tests.Tools;

public sealed class FileToolsTests : ToolTestBase
{
    [Fact]
    public async Task ReadFile_ReturnsNumberedLines_AndHonoursRanges()
    {
        Write("a.txt", "one\ntwo\nthree\nfour\n");

        var all = await CallAsync(FileTools.ReadFile(), new { path = "a.txt" });
        var range = await CallAsync(FileTools.ReadFile(), new { path = "a.txt", offset = 2, limit = 2 });

        Assert.Equal("     1| one\n     2| two\n     3| three\n     4| four", all.Text);
        Assert.Equal("     2| two\n     3| three\n[lines 2-3 of 4; read on with offset=4]", range.Text);
    }

    [Fact]
    public async Task ReadFile_Failures_AreExplained()
    {
        Write("bin.dat", "a\0b");
        Write("a.txt", "x\n");
        Directory.CreateDirectory(Path.Combine(Dir.Path, "d"));

        Error(await CallAsync(FileTools.ReadFile(), new { path = "missing.txt" }), "does not exist");
        Error(await CallAsync(FileTools.ReadFile(), new { path = "bin.dat" }), "binary");
        Error(await CallAsync(FileTools.ReadFile(), new { path = "d" }), "is a directory");
        Error(await CallAsync(FileTools.ReadFile(), new { path = "a.txt", offset = 5 }), "past the end");
        Error(await CallAsync(FileTools.ReadFile(), new { }), "missing required argument 'path'");
    }

    [Fact]
    public async Task WriteFile_CreatesParents_AndReportsADiff()
    {
        var created = await CallAsync(FileTools.WriteFile(), new { path = "new/dir/f.txt", content = "hello\n" });
        var rewritten = await CallAsync(FileTools.WriteFile(), new { path = "new/dir/f.txt", content = "hello\nworld\n" });

        Assert.Equal("hello\nworld\n", Read("new/dir/f.txt"));
        Assert.Contains("+++ b/new/dir/f.txt", Assert.Single(created.Diffs).Diff);
        Assert.Contains("--- /dev/null", created.Diffs[0].Diff);
        Assert.Contains(" hello\n+world\n", Assert.Single(rewritten.Diffs).Diff);
        Error(await CallAsync(FileTools.WriteFile(), new { path = "new" , content = "x" }), "is a directory");
    }

    [Fact]
    public async Task Edit_ReplacesExactlyOnce_OrExplainsWhyNot()
    {
        Write("c.py", "x = 1\ny = 1\n");

        Error(await CallAsync(FileTools.Edit(), new { path = "c.py", old_string = "= 1", new_string = "= 2" }), "occurs 2 times");
        Error(await CallAsync(FileTools.Edit(), new { path = "c.py", old_string = "z = 1", new_string = "z = 2" }), "was not found");
        Error(await CallAsync(FileTools.Edit(), new { path = "nope.py", old_string = "a", new_string = "b" }), "does not exist");
        Ok(await CallAsync(FileTools.Edit(), new { path = "c.py", old_string = "y = 1", new_string = "y = 3" }));
        Ok(await CallAsync(FileTools.Edit(), new { path = "c.py", old_string = " = ", new_string = "=", replace_all = true }));

        Assert.Equal("x=1\ny=3\n", Read("c.py"));
    }

    [Fact]
    public async Task MultiEdit_IsAllOrNothing()
    {
        Write("m.txt", "alpha beta gamma\n");

        var failed = await CallAsync(FileTools.MultiEdit(), new { path = "m.txt", edits = new object[] { new { old_string = "alpha", new_string = "A" }, new { old_string = "delta", new_string = "D" } } });
        Error(failed, "edit #2");
        Assert.Equal("alpha beta gamma\n", Read("m.txt"));

        var ok = await CallAsync(FileTools.MultiEdit(), new { path = "m.txt", edits = new object[] { new { old_string = "alpha", new_string = "A" }, new { old_string = "gamma", new_string = "G" } } });
        Ok(ok);
        Assert.Equal("A beta G\n", Read("m.txt"));
        Assert.Single(ok.Diffs);
    }

    [Fact]
    public async Task ApplyPatch_AppliesMultiFileUnifiedDiffs_WithOffsetsCreatesAndDeletes()
    {
        Write("a.txt", "header\nline1\nline2\nline3\n");
        Write("gone.txt", "bye\n");
        var patch = """
            diff --git a/a.txt b/a.txt
            --- a/a.txt
            +++ b/a.txt
            @@ -1,3 +1,3 @@
             line1
            -line2
            +LINE2
             line3
            --- /dev/null
            +++ b/new.txt
            @@ -0,0 +1,2 @@
            +first
            +second
            --- a/gone.txt
            +++ /dev/null
            @@ -1 +0,0 @@
            -bye

            """;

        var r = await CallAsync(FileTools.ApplyPatch(), new { patch });

        Ok(r);
        Assert.Equal("header\nline1\nLINE2\nline3\n", Read("a.txt"));
        Assert.Equal("first\nsecond\n", Read("new.txt"));
        Assert.False(File.Exists(Path.Combine(Dir.Path, "gone.txt")));
        Assert.Equal(3, r.Diffs.Count);
    }

    [Fact]
    public async Task ApplyPatch_WhenContextDoesNotMatch_ChangesNothing()
    {
        Write("a.txt", "one\ntwo\n");
        Write("b.txt", "x\n");
        var patch = "--- a/b.txt\n+++ b/b.txt\n@@ -1 +1 @@\n-x\n+y\n--- a/a.txt\n+++ b/a.txt\n@@ -1,2 +1,2 @@\n one\n-three\n+four\n";

        Error(await CallAsync(FileTools.ApplyPatch(), new { patch }), "does not match the file");
        Error(await CallAsync(FileTools.ApplyPatch(), new { patch = "not a diff" }), "no file headers");
        Assert.Equal("x\n", Read("b.txt"));
    }

    [Fact]
    public async Task ListDir_ShowsEntries_WithDepth()
    {
        Write("src/a.cs", "x");
        Write("README.md", "r");
        Write(".git/HEAD", "ref");

        var r = await CallAsync(FileTools.ListDir(), new { depth = 2 });

        Assert.Equal(".git/\nREADME.md  (1 B)\nsrc/\n  a.cs  (1 B)", r.Text);
        Error(await CallAsync(FileTools.ListDir(), new { path = "nope" }), "does not exist");
    }

    [Fact]
    public async Task Glob_FindsFilesByPattern()
    {
        Write("src/a.cs", "");
        Write("src/sub/b.cs", "");
        Write("src/c.txt", "");
        Write("node_modules/x.cs", "");

        Assert.Equal("src/a.cs\nsrc/sub/b.cs", (await CallAsync(FileTools.Glob(), new { pattern = "**/*.cs" })).Text);
        Assert.Equal("no files match", (await CallAsync(FileTools.Glob(), new { pattern = "**/*.go" })).Text);
    }

    [Fact]
    public async Task Grep_MatchesRegexWithContext_AndRejectsBadPatterns()
    {
        Write("a.py", "def f():\n    return 1\n\ndef g():\n    return 2\n");
        Write("b.txt", "DEF nothing\n");

        var r = await CallAsync(FileTools.Grep(), new { pattern = @"^def (\w+)", glob = "**/*.py", context = 1 });
        var ci = await CallAsync(FileTools.Grep(), new { pattern = "def nothing", ignore_case = true });

        Assert.Equal("a.py:1: def f():\na.py-2-     return 1\na.py-3- \na.py:4: def g():\na.py-5-     return 2", r.Text);
        Assert.Equal("b.txt:1: DEF nothing", ci.Text);
        Error(await CallAsync(FileTools.Grep(), new { pattern = "(unclosed" }), "invalid regular expression");
        Assert.Equal("no matches", (await CallAsync(FileTools.Grep(), new { pattern = "zzz" })).Text);
    }

    [Fact]
    public async Task FileInfo_DescribesFilesAndDirectories()
    {
        Write("a.txt", "1\n2\n");

        Assert.StartsWith("a.txt: text file, 4 bytes, 2 lines", (await CallAsync(FileTools.FileInfoTool(), new { path = "a.txt" })).Text);
        Assert.StartsWith(".: directory, 1 entries", (await CallAsync(FileTools.FileInfoTool(), new { path = "." })).Text);
        Error(await CallAsync(FileTools.FileInfoTool(), new { path = "x" }), "does not exist");
    }

    [Fact]
    public async Task Move_RenamesAndRefusesOverwritesAndGit()
    {
        Write("a.txt", "a");
        Write("b.txt", "b");

        Error(await CallAsync(FileTools.Move(), new { from = "a.txt", to = "b.txt" }), "already exists");
        Ok(await CallAsync(FileTools.Move(), new { from = "a.txt", to = "sub/c.txt" }));
        Error(await CallAsync(FileTools.Move(), new { from = "sub/c.txt", to = ".git/c.txt" }), ".git");
        Error(await CallAsync(FileTools.Move(), new { from = "missing", to = "x" }), "does not exist");

        Assert.Equal("a", Read("sub/c.txt"));
    }

    [Fact]
    public async Task Delete_IsGuarded()
    {
        Write("a.txt", "a");
        Write("d/x.txt", "x");
        Write(".git/HEAD", "ref");

        Error(await CallAsync(FileTools.Delete(), new { path = "." }), "cannot delete the codebase root");
        Error(await CallAsync(FileTools.Delete(), new { path = ".git/HEAD" }), ".git");
        Error(await CallAsync(FileTools.Delete(), new { path = "d" }), "recursive=true");
        var deleted = await CallAsync(FileTools.Delete(), new { path = "a.txt" });
        Ok(deleted);
        Assert.Contains("-a", Assert.Single(deleted.Diffs).Diff);
        Ok(await CallAsync(FileTools.Delete(), new { path = "d", recursive = true }));

        Assert.Equal([".git"], Directory.EnumerateFileSystemEntries(Dir.Path).Select(Path.GetFileName));
    }

    [Fact]
    public async Task MakeDir_CreatesNestedDirectories()
    {
        Write("f", "x");

        Ok(await CallAsync(FileTools.MakeDir(), new { path = "a/b/c" }));
        Error(await CallAsync(FileTools.MakeDir(), new { path = "f" }), "is a file");
        Assert.True(Directory.Exists(Path.Combine(Dir.Path, "a/b/c")));
    }
}
