namespace CodeTether.Worker.Tools;

/// <summary>A path argument that would leave the codebase root (via <c>..</c>, an absolute path or a symlink).</summary>
public sealed class PathEscapeException(string message) : Exception(message);

/// <summary>
/// The one directory an agent's file and shell tools may touch. Every path argument goes through <see cref="Resolve"/>:
/// made absolute against the root, normalized (<c>..</c> folded), checked to stay inside, then every symlink on the way
/// is resolved (like <c>realpath</c>) and the real path is checked again — so a link pointing out of the root is refused.
/// </summary>
public sealed class CodebaseRoot
{
    private const int MaxLinkHops = 40;

    public CodebaseRoot(string path)
    {
        if (!Directory.Exists(path)) throw new DirectoryNotFoundException($"codebase root '{path}' does not exist");
        Path = RealPath(System.IO.Path.GetFullPath(path));
    }

    /// <summary>The canonical (symlink-free) absolute root.</summary>
    public string Path { get; }

    /// <summary>Resolves <paramref name="input"/> (relative to the root, or absolute) to a real path inside the root.</summary>
    /// <exception cref="PathEscapeException">the path, or what a symlink on it points to, is outside the root.</exception>
    public string Resolve(string? input)
    {
        if (string.IsNullOrWhiteSpace(input) || input is "." or "./") return Path;
        if (input.Contains('\0')) throw new PathEscapeException("path contains a NUL character");
        var full = System.IO.Path.GetFullPath(System.IO.Path.IsPathRooted(input) ? input : System.IO.Path.Combine(Path, input));
        if (!IsInside(full))
            throw new PathEscapeException($"path '{input}' is outside the codebase root ({Path}); use a path relative to it");
        var real = RealPath(full);
        if (!IsInside(real))
            throw new PathEscapeException($"path '{input}' goes through a symlink that points outside the codebase root");
        return real;
    }

    /// <summary>The path relative to the root, with '/' separators (for results shown to the model).</summary>
    public string Relative(string full)
    {
        var rel = System.IO.Path.GetRelativePath(Path, full);
        return rel == "." ? "." : rel.Replace(System.IO.Path.DirectorySeparatorChar, '/');
    }

    public bool IsInside(string full) =>
        string.Equals(full, Path, StringComparison.Ordinal) ||
        full.StartsWith(System.IO.Path.TrimEndingDirectorySeparator(Path) + System.IO.Path.DirectorySeparatorChar, StringComparison.Ordinal);

    /// <summary>realpath(3) for a possibly partly non-existing path: every existing symlink on it is resolved.</summary>
    public static string RealPath(string full)
    {
        var hops = 0;
        return Walk(full, ref hops);

        static string Walk(string full, ref int hops)
        {
            var rootOfPath = System.IO.Path.GetPathRoot(full) ?? "/";
            var parts = full[rootOfPath.Length..].Split(System.IO.Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries);
            var current = rootOfPath;
            for (var i = 0; i < parts.Length; i++)
            {
                var next = System.IO.Path.Combine(current, parts[i]);
                var info = new FileInfo(next);
                string? target = null;
                try
                {
                    target = info.LinkTarget;
                }
                catch (IOException)
                {
                    // not a link, or unreadable: treat as a plain entry
                }
                if (target is null)
                {
                    current = next;
                    continue;
                }
                if (++hops > MaxLinkHops) throw new PathEscapeException($"too many levels of symlinks at '{next}'");
                var resolved = Walk(System.IO.Path.GetFullPath(target, current), ref hops);
                current = resolved;
            }
            return current;
        }
    }
}
