using System.Text;
using System.Text.RegularExpressions;

namespace CodeTether.Worker.Tools;

/// <summary>Unified diffs: made for <c>diff</c> steps, and parsed/applied by <c>apply_patch</c>.</summary>
public static partial class TextDiff
{
    private const int Context = 3;

    /// <summary>A unified diff of one file (one hunk around the changed region; null when equal).</summary>
    public static string? Unified(string path, string? before, string? after)
    {
        if (before == after) return null;
        var a = SplitLines(before);
        var b = SplitLines(after);
        var prefix = 0;
        while (prefix < a.Length && prefix < b.Length && a[prefix] == b[prefix]) prefix++;
        var suffix = 0;
        while (suffix < a.Length - prefix && suffix < b.Length - prefix && a[^(suffix + 1)] == b[^(suffix + 1)]) suffix++;

        var start = Math.Max(0, prefix - Context);
        var endA = Math.Min(a.Length, a.Length - suffix + Context);
        var endB = Math.Min(b.Length, b.Length - suffix + Context);
        var sb = new StringBuilder();
        sb.Append("--- ").Append(before is null ? "/dev/null" : "a/" + path).Append('\n');
        sb.Append("+++ ").Append(after is null ? "/dev/null" : "b/" + path).Append('\n');
        sb.Append($"@@ -{Range(start, endA - start)} +{Range(start, endB - start)} @@\n");
        for (var i = start; i < prefix; i++) sb.Append(' ').Append(a[i]).Append('\n');
        for (var i = prefix; i < a.Length - suffix; i++) sb.Append('-').Append(a[i]).Append('\n');
        for (var i = prefix; i < b.Length - suffix; i++) sb.Append('+').Append(b[i]).Append('\n');
        for (var i = a.Length - suffix; i < endA; i++) sb.Append(' ').Append(a[i]).Append('\n');
        return sb.ToString();

        static string Range(int start, int count) => count == 0 ? $"{start},0" : $"{start + 1},{count}";
    }

    public static string[] SplitLines(string? text)
    {
        if (string.IsNullOrEmpty(text)) return [];
        var lines = text.Replace("\r\n", "\n").Split('\n');
        return text.EndsWith('\n') ? lines[..^1] : lines;
    }

    public sealed record Hunk(int OldStart, List<string> OldLines, List<string> NewLines);

    public sealed record FilePatch(string? OldPath, string? NewPath, List<Hunk> Hunks);

    [GeneratedRegex(@"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")]
    private static partial Regex HunkHeader();

    /// <summary>Parses a unified diff (git or plain <c>diff -u</c>) into per-file hunks.</summary>
    public static List<FilePatch> Parse(string patch)
    {
        var lines = patch.Replace("\r\n", "\n").Split('\n');
        var files = new List<FilePatch>();
        FilePatch? current = null;
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            if (line.StartsWith("--- ", StringComparison.Ordinal) && i + 1 < lines.Length && lines[i + 1].StartsWith("+++ ", StringComparison.Ordinal))
            {
                current = new FilePatch(PathOf(line[4..]), PathOf(lines[i + 1][4..]), []);
                files.Add(current);
                i++;
                continue;
            }
            var m = HunkHeader().Match(line);
            if (!m.Success) continue;
            if (current is null) throw new InvalidDataException("hunk before any '--- a/file' / '+++ b/file' header");
            var oldCount = m.Groups[2].Success ? int.Parse(m.Groups[2].Value) : 1;
            var newCount = m.Groups[4].Success ? int.Parse(m.Groups[4].Value) : 1;
            var hunk = new Hunk(int.Parse(m.Groups[1].Value), [], []);
            while ((hunk.OldLines.Count < oldCount || hunk.NewLines.Count < newCount) && i + 1 < lines.Length)
            {
                var l = lines[++i];
                if (l.StartsWith('\\')) continue; // "\ No newline at end of file"
                var body = l.Length > 0 ? l[1..] : "";
                switch (l.Length > 0 ? l[0] : ' ')
                {
                    case ' ': hunk.OldLines.Add(body); hunk.NewLines.Add(body); break;
                    case '-': hunk.OldLines.Add(body); break;
                    case '+': hunk.NewLines.Add(body); break;
                    default: throw new InvalidDataException($"unexpected line in hunk: '{l}'");
                }
            }
            if (hunk.OldLines.Count != oldCount || hunk.NewLines.Count != newCount)
                throw new InvalidDataException($"hunk '{line}' is truncated: line counts do not match its header");
            current.Hunks.Add(hunk);
        }
        if (files.Count == 0) throw new InvalidDataException("no file headers found: expected a unified diff ('--- a/path', '+++ b/path', '@@ ... @@')");
        return files;

        static string? PathOf(string header)
        {
            var p = header.Split('\t')[0].Trim();
            if (p == "/dev/null") return null;
            return p.StartsWith("a/", StringComparison.Ordinal) || p.StartsWith("b/", StringComparison.Ordinal) ? p[2..] : p;
        }
    }

    /// <summary>Applies hunks to a file's text; each hunk is searched near its stated line (exact context match).</summary>
    public static string Apply(string? original, IReadOnlyList<Hunk> hunks, string path)
    {
        var lines = SplitLines(original).ToList();
        var offset = 0;
        foreach (var hunk in hunks)
        {
            var expected = Math.Max(0, hunk.OldStart - 1 + offset);
            var at = Find(lines, hunk.OldLines, expected)
                ?? throw new InvalidDataException(
                    $"{path}: hunk at line {hunk.OldStart} does not match the file (context differs); read the file and regenerate the patch");
            lines.RemoveRange(at, hunk.OldLines.Count);
            lines.InsertRange(at, hunk.NewLines);
            offset += hunk.NewLines.Count - hunk.OldLines.Count + (at - expected);
        }
        return lines.Count == 0 ? "" : string.Join('\n', lines) + "\n";
    }

    private static int? Find(List<string> lines, List<string> needle, int expected)
    {
        if (needle.Count == 0) return Math.Min(expected, lines.Count);
        for (var distance = 0; distance <= lines.Count; distance++)
        {
            foreach (var at in (ReadOnlySpan<int>)[expected - distance, expected + distance])
            {
                if (at < 0 || at + needle.Count > lines.Count) continue;
                var ok = true;
                for (var k = 0; k < needle.Count && ok; k++) ok = lines[at + k] == needle[k];
                if (ok) return at;
            }
        }
        return null;
    }
}
