using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.FileSystemGlobbing;

namespace CodeTether.Worker.Tools;

/// <summary>File tools: every path goes through <see cref="CodebaseRoot.Resolve"/>.</summary>
public static class FileTools
{
    private static readonly string[] SkippedDirectories = [".git", "node_modules", "bin", "obj", ".venv", "__pycache__", "target"];

    public static IEnumerable<AgentTool> All() =>
        [ReadFile(), WriteFile(), Edit(), MultiEdit(), ApplyPatch(), ListDir(), Glob(), Grep(), FileInfoTool(), Move(), Delete(), MakeDir()];

    public static AgentTool ReadFile() => new("read_file",
        "Read a text file of the codebase. Returns numbered lines ('   12| text'). Use offset/limit for large files.",
        """{"type":"object","properties":{"path":{"type":"string","description":"Path relative to the codebase root"},"offset":{"type":"integer","description":"First line to return (1-based, default 1)"},"limit":{"type":"integer","description":"Number of lines (default 2000)"}},"required":["path"]}""",
        readOnly: true, async (args, ctx, ct) =>
        {
            var path = ctx.Root.Resolve(args.String("path"));
            if (Directory.Exists(path)) return ToolResult.Error($"'{args.String("path")}' is a directory; use list_dir");
            if (!File.Exists(path)) return ToolResult.Error($"file '{args.String("path")}' does not exist");
            if (await IsBinaryAsync(path, ct)) return ToolResult.Error($"'{args.String("path")}' is a binary file");
            var offset = Math.Max(1, args.OptInt("offset") ?? 1);
            var limit = Math.Clamp(args.OptInt("limit") ?? 2000, 1, 20_000);
            var lines = TextDiff.SplitLines(await File.ReadAllTextAsync(path, ct));
            if (lines.Length == 0) return ToolResult.Ok("(empty file)");
            if (offset > lines.Length) return ToolResult.Error($"offset {offset} is past the end of the file ({lines.Length} lines)");
            var sb = new StringBuilder();
            var end = Math.Min(lines.Length, offset - 1 + limit);
            for (var i = offset - 1; i < end && sb.Length < ctx.Settings.ReadCap; i++)
                sb.Append((i + 1).ToString().PadLeft(6)).Append("| ").Append(lines[i]).Append('\n');
            var shownTo = offset - 1 + sb.ToString().Count(c => c == '\n');
            if (shownTo < lines.Length) sb.Append($"[lines {offset}-{shownTo} of {lines.Length}; read on with offset={shownTo + 1}]");
            return ToolResult.Ok(sb.ToString().TrimEnd('\n'));
        });

    public static AgentTool WriteFile() => new("write_file",
        "Create or overwrite a text file with the given content (parent directories are created).",
        """{"type":"object","properties":{"path":{"type":"string"},"content":{"type":"string","description":"The complete new content"}},"required":["path","content"]}""",
        readOnly: false, async (args, ctx, ct) =>
        {
            var path = ctx.Root.Resolve(args.String("path"));
            var content = args.OptString("content") ?? throw new ToolArgumentException("missing required argument 'content'");
            if (Directory.Exists(path)) return ToolResult.Error($"'{args.String("path")}' is a directory");
            var before = File.Exists(path) ? await File.ReadAllTextAsync(path, ct) : null;
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await File.WriteAllTextAsync(path, content, ct);
            var rel = ctx.Root.Relative(path);
            return Changed(rel, before, content, $"{(before is null ? "created" : "wrote")} {rel} ({TextDiff.SplitLines(content).Length} lines)");
        });

    public static AgentTool Edit() => new("edit",
        "Replace an exact string in a file. old_string must match exactly once (include surrounding lines to make it unique) unless replace_all is true.",
        """{"type":"object","properties":{"path":{"type":"string"},"old_string":{"type":"string"},"new_string":{"type":"string"},"replace_all":{"type":"boolean"}},"required":["path","old_string","new_string"]}""",
        readOnly: false, async (args, ctx, ct) =>
        {
            var path = ExistingFile(ctx, args.String("path"));
            var before = await File.ReadAllTextAsync(path, ct);
            var after = Replace(before, args.String("old_string"), args.OptString("new_string") ?? "", args.Bool("replace_all"), out var count);
            await File.WriteAllTextAsync(path, after, ct);
            var rel = ctx.Root.Relative(path);
            return Changed(rel, before, after, $"edited {rel}: {count} replacement(s)");
        });

    public static AgentTool MultiEdit() => new("multi_edit",
        "Apply several exact replacements to one file, in order, all or nothing.",
        """{"type":"object","properties":{"path":{"type":"string"},"edits":{"type":"array","items":{"type":"object","properties":{"old_string":{"type":"string"},"new_string":{"type":"string"},"replace_all":{"type":"boolean"}},"required":["old_string","new_string"]}}},"required":["path","edits"]}""",
        readOnly: false, async (args, ctx, ct) =>
        {
            var path = ExistingFile(ctx, args.String("path"));
            if (args.Raw("edits") is not { ValueKind: JsonValueKind.Array } edits || edits.GetArrayLength() == 0)
                throw new ToolArgumentException("'edits' must be a non-empty array of {old_string, new_string}");
            var before = await File.ReadAllTextAsync(path, ct);
            var text = before;
            var n = 0;
            foreach (var e in edits.EnumerateArray())
            {
                n++;
                var edit = new ToolArgs(JsonSerializer.Deserialize<Dictionary<string, object?>>(e.GetRawText()));
                try
                {
                    text = Replace(text, edit.String("old_string"), edit.OptString("new_string") ?? "", edit.Bool("replace_all"), out _);
                }
                catch (ToolArgumentException ex)
                {
                    throw new ToolArgumentException($"edit #{n}: {ex.Message}; no edit was applied");
                }
            }
            await File.WriteAllTextAsync(path, text, ct);
            var rel = ctx.Root.Relative(path);
            return Changed(rel, before, text, $"applied {n} edit(s) to {rel}");
        });

    public static AgentTool ApplyPatch() => new("apply_patch",
        "Apply a unified diff (as produced by 'git diff' or 'diff -u') to one or more files; '/dev/null' creates or deletes. All files or none.",
        """{"type":"object","properties":{"patch":{"type":"string","description":"The unified diff text"}},"required":["patch"]}""",
        readOnly: false, async (args, ctx, ct) =>
        {
            var files = TextDiff.Parse(args.String("patch"));
            var planned = new List<(string Full, string Rel, string? Before, string? After)>();
            foreach (var f in files)
            {
                var target = ctx.Root.Resolve(f.NewPath ?? f.OldPath);
                var source = f.OldPath is null ? null : ctx.Root.Resolve(f.OldPath);
                if (source is not null && !File.Exists(source)) return ToolResult.Error($"{f.OldPath}: file does not exist");
                if (source is null && File.Exists(target)) return ToolResult.Error($"{f.NewPath}: patch creates it but it already exists");
                var before = source is null ? null : await File.ReadAllTextAsync(source, ct);
                var after = f.NewPath is null ? null : TextDiff.Apply(before, f.Hunks, f.NewPath);
                if (source is not null && source != target) planned.Add((source, ctx.Root.Relative(source), before, null));
                planned.Add((target, ctx.Root.Relative(target), source == target ? before : null, after));
            }
            foreach (var (full, _, _, after) in planned)
            {
                if (after is null) File.Delete(full);
                else
                {
                    Directory.CreateDirectory(Path.GetDirectoryName(full)!);
                    await File.WriteAllTextAsync(full, after, ct);
                }
            }
            var diffs = planned.Select(p => TextDiff.Unified(p.Rel, p.Before, p.After) is { } d ? new FileDiff(p.Rel, d) : null)
                .OfType<FileDiff>().ToList();
            return new ToolResult($"patched {string.Join(", ", planned.Select(p => p.Rel).Distinct())}") { Diffs = diffs };
        });

    public static AgentTool ListDir() => new("list_dir",
        "List a directory (default: the codebase root). Directories end with '/'. depth 1-4 (default 1); .git, node_modules, bin, obj are not descended into.",
        """{"type":"object","properties":{"path":{"type":"string"},"depth":{"type":"integer"}}}""",
        readOnly: true, (args, ctx, ct) =>
        {
            var dir = ctx.Root.Resolve(args.OptString("path"));
            if (!Directory.Exists(dir)) return Task.FromResult(ToolResult.Error($"directory '{args.OptString("path")}' does not exist"));
            var depth = Math.Clamp(args.OptInt("depth") ?? 1, 1, 4);
            var sb = new StringBuilder();
            var count = 0;
            void Walk(string d, int level, string indent)
            {
                foreach (var e in new DirectoryInfo(d).EnumerateFileSystemInfos().OrderBy(e => e.Name, StringComparer.Ordinal))
                {
                    if (++count > 1000) return;
                    var isDir = e is DirectoryInfo && e.LinkTarget is null;
                    sb.Append(indent).Append(e.Name).Append(isDir ? "/" : e.LinkTarget is not null ? " -> " + e.LinkTarget : $"  ({((FileInfo)e).Length} B)").Append('\n');
                    if (isDir && level < depth && !SkippedDirectories.Contains(e.Name)) Walk(e.FullName, level + 1, indent + "  ");
                }
            }
            Walk(dir, 1, "");
            if (count > 1000) sb.Append("[truncated at 1000 entries]");
            return Task.FromResult(ToolResult.Ok(sb.Length == 0 ? "(empty directory)" : sb.ToString().TrimEnd('\n')));
        });

    public static AgentTool Glob() => new("glob",
        "Find files by glob pattern (e.g. '**/*.cs', 'src/**/test_*.py'), relative to path (default: root). Max 500 results.",
        """{"type":"object","properties":{"pattern":{"type":"string"},"path":{"type":"string"}},"required":["pattern"]}""",
        readOnly: true, (args, ctx, ct) =>
        {
            var dir = ctx.Root.Resolve(args.OptString("path"));
            if (!Directory.Exists(dir)) return Task.FromResult(ToolResult.Error($"directory '{args.OptString("path")}' does not exist"));
            var matcher = new Matcher(StringComparison.Ordinal);
            matcher.AddInclude(args.String("pattern"));
            foreach (var s in SkippedDirectories) matcher.AddExclude($"**/{s}/**");
            var hits = matcher.GetResultsInFullPath(dir).Where(p => ctx.Root.IsInside(CodebaseRoot.RealPath(p))).Select(ctx.Root.Relative).Order(StringComparer.Ordinal).ToList();
            var text = hits.Count == 0 ? "no files match" : string.Join('\n', hits.Take(500)) + (hits.Count > 500 ? $"\n[{hits.Count - 500} more]" : "");
            return Task.FromResult(ToolResult.Ok(text));
        });

    public static AgentTool Grep() => new("grep",
        "Search file contents with a regular expression (.NET syntax). Returns 'path:line: text' (context lines use '-'). Optional glob filter, context lines, case-insensitivity.",
        """{"type":"object","properties":{"pattern":{"type":"string"},"path":{"type":"string","description":"File or directory (default: root)"},"glob":{"type":"string","description":"Only files matching, e.g. '**/*.py'"},"context":{"type":"integer","description":"Lines before and after each match (0-10)"},"ignore_case":{"type":"boolean"},"max_results":{"type":"integer"}},"required":["pattern"]}""",
        readOnly: true, async (args, ctx, ct) =>
        {
            Regex regex;
            try
            {
                regex = new Regex(args.String("pattern"), (args.Bool("ignore_case") ? RegexOptions.IgnoreCase : RegexOptions.None) | RegexOptions.CultureInvariant,
                    TimeSpan.FromSeconds(1));
            }
            catch (ArgumentException ex)
            {
                return ToolResult.Error($"invalid regular expression: {ex.Message}");
            }
            var start = ctx.Root.Resolve(args.OptString("path"));
            var contextLines = Math.Clamp(args.OptInt("context") ?? 0, 0, 10);
            var max = Math.Clamp(args.OptInt("max_results") ?? 200, 1, 2000);
            IEnumerable<string> files;
            if (File.Exists(start)) files = [start];
            else if (Directory.Exists(start))
            {
                var matcher = new Matcher(StringComparison.Ordinal);
                matcher.AddInclude(args.OptString("glob") ?? "**/*");
                foreach (var s in SkippedDirectories) matcher.AddExclude($"**/{s}/**");
                files = matcher.GetResultsInFullPath(start).Order(StringComparer.Ordinal);
            }
            else return ToolResult.Error($"'{args.OptString("path")}' does not exist");

            var sb = new StringBuilder();
            var hits = 0;
            foreach (var file in files)
            {
                ct.ThrowIfCancellationRequested();
                if (!ctx.Root.IsInside(CodebaseRoot.RealPath(file))) continue;
                var info = new FileInfo(file);
                if (info.Length > 2_000_000 || await IsBinaryAsync(file, ct)) continue;
                var lines = TextDiff.SplitLines(await File.ReadAllTextAsync(file, ct));
                var lastShown = -1;
                for (var i = 0; i < lines.Length && hits < max; i++)
                {
                    bool match;
                    try { match = regex.IsMatch(lines[i]); }
                    catch (RegexMatchTimeoutException) { return ToolResult.Error("the regular expression took too long; simplify it"); }
                    if (!match) continue;
                    hits++;
                    var rel = ctx.Root.Relative(file);
                    if (contextLines > 0 && lastShown >= 0 && i - contextLines > lastShown + 1) sb.Append("--\n");
                    for (var k = Math.Max(lastShown + 1, i - contextLines); k < i; k++) sb.Append($"{rel}-{k + 1}- {lines[k]}\n");
                    sb.Append($"{rel}:{i + 1}: {lines[i]}\n");
                    lastShown = i;
                    for (var k = i + 1; k <= Math.Min(lines.Length - 1, i + contextLines); k++)
                    {
                        if (regex.IsMatch(lines[k])) break;
                        sb.Append($"{rel}-{k + 1}- {lines[k]}\n");
                        lastShown = k;
                    }
                }
                if (hits >= max) break;
            }
            if (hits == 0) return ToolResult.Ok("no matches");
            if (hits >= max) sb.Append($"[stopped at {max} matches]");
            return ToolResult.Ok(sb.ToString().TrimEnd('\n'));
        });

    public static AgentTool FileInfoTool() => new("file_info",
        "Type, size, line count and modification time of a file or directory.",
        """{"type":"object","properties":{"path":{"type":"string"}},"required":["path"]}""",
        readOnly: true, async (args, ctx, ct) =>
        {
            var path = ctx.Root.Resolve(args.String("path"));
            var rel = ctx.Root.Relative(path);
            if (Directory.Exists(path))
            {
                var d = new DirectoryInfo(path);
                return ToolResult.Ok($"{rel}: directory, {d.EnumerateFileSystemInfos().Count()} entries, modified {d.LastWriteTimeUtc:O}");
            }
            if (!File.Exists(path)) return ToolResult.Error($"'{args.String("path")}' does not exist");
            var f = new FileInfo(path);
            var binary = await IsBinaryAsync(path, ct);
            var lines = binary || f.Length > 20_000_000 ? "" : $", {TextDiff.SplitLines(await File.ReadAllTextAsync(path, ct)).Length} lines";
            return ToolResult.Ok($"{rel}: {(binary ? "binary" : "text")} file, {f.Length} bytes{lines}, modified {f.LastWriteTimeUtc:O}");
        });

    public static AgentTool Move() => new("move",
        "Move or rename a file or directory inside the codebase. Refuses to overwrite unless overwrite is true.",
        """{"type":"object","properties":{"from":{"type":"string"},"to":{"type":"string"},"overwrite":{"type":"boolean"}},"required":["from","to"]}""",
        readOnly: false, (args, ctx, ct) =>
        {
            var from = ctx.Root.Resolve(args.String("from"));
            var to = ctx.Root.Resolve(args.String("to"));
            if (from == ctx.Root.Path) return Task.FromResult(ToolResult.Error("refused: cannot move the codebase root"));
            if (Guarded(ctx, from) || Guarded(ctx, to)) return Task.FromResult(ToolResult.Error("refused: the .git directory is off limits"));
            var overwrite = args.Bool("overwrite");
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            if (File.Exists(from)) File.Move(from, to, overwrite);
            else if (Directory.Exists(from))
            {
                if (Path.Exists(to)) return Task.FromResult(ToolResult.Error($"'{args.String("to")}' already exists"));
                Directory.Move(from, to);
            }
            else return Task.FromResult(ToolResult.Error($"'{args.String("from")}' does not exist"));
            return Task.FromResult(ToolResult.Ok($"moved {ctx.Root.Relative(from)} -> {ctx.Root.Relative(to)}"));
        });

    public static AgentTool Delete() => new("delete",
        "Delete a file, or a directory with recursive=true. The codebase root and .git are protected.",
        """{"type":"object","properties":{"path":{"type":"string"},"recursive":{"type":"boolean"}},"required":["path"]}""",
        readOnly: false, async (args, ctx, ct) =>
        {
            var input = args.String("path");
            var path = ctx.Root.Resolve(input);
            if (path == ctx.Root.Path) return ToolResult.Error("refused: cannot delete the codebase root");
            if (Guarded(ctx, path)) return ToolResult.Error("refused: the .git directory is off limits");
            var rel = ctx.Root.Relative(path);
            if (File.Exists(path))
            {
                var before = await IsBinaryAsync(path, ct) ? null : await File.ReadAllTextAsync(path, ct);
                File.Delete(path);
                return before is null ? ToolResult.Ok($"deleted {rel}") : Changed(rel, before, null, $"deleted {rel}");
            }
            if (!Directory.Exists(path)) return ToolResult.Error($"'{input}' does not exist");
            if (!args.Bool("recursive") && Directory.EnumerateFileSystemEntries(path).Any())
                return ToolResult.Error($"'{input}' is a non-empty directory; pass recursive=true to delete it with its contents");
            Directory.Delete(path, recursive: true);
            return ToolResult.Ok($"deleted directory {rel}");
        });

    public static AgentTool MakeDir() => new("make_dir",
        "Create a directory (and its parents).",
        """{"type":"object","properties":{"path":{"type":"string"}},"required":["path"]}""",
        readOnly: false, (args, ctx, ct) =>
        {
            var path = ctx.Root.Resolve(args.String("path"));
            if (File.Exists(path)) return Task.FromResult(ToolResult.Error($"'{args.String("path")}' is a file"));
            Directory.CreateDirectory(path);
            return Task.FromResult(ToolResult.Ok($"created {ctx.Root.Relative(path)}/"));
        });

    private static bool Guarded(ToolContext ctx, string full)
    {
        var rel = ctx.Root.Relative(full);
        return rel == ".git" || rel.StartsWith(".git/", StringComparison.Ordinal);
    }

    private static string ExistingFile(ToolContext ctx, string input)
    {
        var path = ctx.Root.Resolve(input);
        if (!File.Exists(path)) throw new ToolArgumentException($"file '{input}' does not exist (create it with write_file)");
        return path;
    }

    private static string Replace(string text, string oldString, string newString, bool all, out int count)
    {
        if (oldString.Length == 0) throw new ToolArgumentException("old_string must not be empty");
        if (oldString == newString) throw new ToolArgumentException("old_string and new_string are the same");
        count = CountOf(text, oldString);
        if (count == 0)
        {
            var normalized = text.Replace("\r\n", "\n");
            if (normalized != text && CountOf(normalized, oldString.Replace("\r\n", "\n")) > 0)
                throw new ToolArgumentException("old_string matches only with different line endings (the file uses CRLF)");
            throw new ToolArgumentException("old_string was not found in the file; read the file again and copy the text exactly (whitespace matters)");
        }
        if (count > 1 && !all)
            throw new ToolArgumentException($"old_string occurs {count} times; include more surrounding text to make it unique, or set replace_all=true");
        return all ? text.Replace(oldString, newString, StringComparison.Ordinal) : ReplaceFirst(text, oldString, newString);
    }

    private static string ReplaceFirst(string text, string oldString, string newString)
    {
        var at = text.IndexOf(oldString, StringComparison.Ordinal);
        return string.Concat(text.AsSpan(0, at), newString, text.AsSpan(at + oldString.Length));
    }

    private static int CountOf(string text, string needle)
    {
        var count = 0;
        for (var i = text.IndexOf(needle, StringComparison.Ordinal); i >= 0; i = text.IndexOf(needle, i + needle.Length, StringComparison.Ordinal)) count++;
        return count;
    }

    private static ToolResult Changed(string rel, string? before, string? after, string message) =>
        new(message) { Diffs = TextDiff.Unified(rel, before, after) is { } d ? [new FileDiff(rel, d)] : [] };

    public static async Task<bool> IsBinaryAsync(string path, CancellationToken ct)
    {
        var buffer = new byte[8000];
        await using var stream = File.OpenRead(path);
        var read = await stream.ReadAsync(buffer, ct);
        return Array.IndexOf(buffer, (byte)0, 0, read) >= 0;
    }
}
