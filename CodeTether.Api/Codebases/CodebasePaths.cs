namespace CodeTether.Api.Codebases;

/// <summary>Rules for a codebase path: absolute, no <c>..</c> segments, no control characters.</summary>
public static class CodebasePaths
{
    public const int MaxLength = 1024;

    /// <summary>Null when valid, else why not.</summary>
    public static string? Validate(string? path)
    {
        if (string.IsNullOrWhiteSpace(path)) return "path is required.";
        if (path.Length > MaxLength) return $"path must be at most {MaxLength} characters.";
        if (path.Any(char.IsControl)) return "path must not contain control characters.";
        var isAbsolute = path.StartsWith('/') || (path.Length >= 3 && char.IsAsciiLetter(path[0]) && path[1] == ':' && path[2] is '\\' or '/');
        if (!isAbsolute) return "path must be absolute (e.g. /home/me/project).";
        if (path.Split('/', '\\').Any(s => s is ".." or ".")) return "path must not contain '.' or '..' segments.";
        return null;
    }

    public static string Normalize(string path)
    {
        var p = path.Trim();
        while (p.Length > 1 && (p.EndsWith('/') || p.EndsWith('\\')) && !(p.Length == 3 && p[1] == ':')) p = p[..^1];
        while (p.Contains("//")) p = p.Replace("//", "/");
        return p;
    }

    public static string NameOf(string path)
    {
        var name = Path.GetFileName(path.TrimEnd('/', '\\'));
        return string.IsNullOrEmpty(name) ? path : name;
    }
}
