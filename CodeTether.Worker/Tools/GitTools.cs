namespace CodeTether.Worker.Tools;

/// <summary>Git tools: the <c>git</c> CLI (CliWrap) in the codebase root, with arguments passed as a list (no shell).</summary>
public static class GitTools
{
    private const string FallbackName = "CodeTether Agent";
    private const string FallbackEmail = "agent@codetether.local";

    public static IEnumerable<AgentTool> All() =>
        [Status(), Diff(), Log(), Branch(), Checkout(), Commit(), Worktree()];

    public static AgentTool Status() => new("git_status", "Show the working tree status (short format, with the branch).",
        """{"type":"object","properties":{}}""", readOnly: true,
        (args, ctx, ct) => GitAsync(ctx, ["status", "--short", "--branch"], ct));

    public static AgentTool Diff() => new("git_diff",
        "Show changes: unstaged by default, staged with staged=true, or against a ref (e.g. 'HEAD~1', 'main'). Optional path.",
        """{"type":"object","properties":{"path":{"type":"string"},"staged":{"type":"boolean"},"ref":{"type":"string"}}}""",
        readOnly: true, (args, ctx, ct) =>
        {
            List<string> git = ["diff", "--no-color"];
            if (args.Bool("staged")) git.Add("--cached");
            if (args.OptString("ref") is { } r) git.Add(Ref(r));
            AddPath(ctx, args, git);
            return GitAsync(ctx, git, ct, emptyMeans: "no changes");
        });

    public static AgentTool Log() => new("git_log", "Recent commits (hash, date, author, subject), optionally for one path.",
        """{"type":"object","properties":{"max_count":{"type":"integer","description":"default 20"},"path":{"type":"string"},"ref":{"type":"string"}}}""",
        readOnly: true, (args, ctx, ct) =>
        {
            List<string> git = ["log", $"-n{Math.Clamp(args.OptInt("max_count") ?? 20, 1, 500)}", "--format=%h %ad %an: %s", "--date=short"];
            if (args.OptString("ref") is { } r) git.Add(Ref(r));
            AddPath(ctx, args, git);
            return GitAsync(ctx, git, ct, emptyMeans: "no commits");
        });

    public static AgentTool Branch() => new("git_branch", "List branches, or create one (name, optional start point). Does not switch to it.",
        """{"type":"object","properties":{"name":{"type":"string"},"start_point":{"type":"string"}}}""",
        readOnly: false, (args, ctx, ct) =>
        {
            if (args.OptString("name") is not { } name) return GitAsync(ctx, ["branch", "--list", "-vv", "--no-color"], ct);
            List<string> git = ["branch", Ref(name)];
            if (args.OptString("start_point") is { } s) git.Add(Ref(s));
            return GitAsync(ctx, git, ct, emptyMeans: $"created branch {name}");
        });

    public static AgentTool Checkout() => new("git_checkout", "Switch to a branch or commit; create=true creates the branch first.",
        """{"type":"object","properties":{"ref":{"type":"string"},"create":{"type":"boolean"}},"required":["ref"]}""",
        readOnly: false, (args, ctx, ct) =>
        {
            List<string> git = args.Bool("create") ? ["checkout", "-b", Ref(args.String("ref"))] : ["checkout", Ref(args.String("ref"))];
            return GitAsync(ctx, git, ct);
        });

    public static AgentTool Commit() => new("git_commit",
        "Stage and commit. By default stages every change (git add -A); pass paths to stage only those.",
        """{"type":"object","properties":{"message":{"type":"string"},"paths":{"type":"array","items":{"type":"string"}}},"required":["message"]}""",
        readOnly: false, async (args, ctx, ct) =>
        {
            var message = args.String("message");
            var paths = args.StringList("paths").Select(p => ctx.Root.Relative(ctx.Root.Resolve(p))).ToList();
            var add = await GitAsync(ctx, paths.Count == 0 ? ["add", "-A"] : ["add", "--", .. paths], ct);
            if (add.IsError) return add;
            var identity = await ProcessRunner.RunAsync("git", ["config", "user.email"], ctx.Root.Path, TimeSpan.FromSeconds(10), 1000, [], ct);
            List<string> git = identity.ExitCode == 0 && identity.Output.Trim().Length > 0
                ? ["commit", "-m", message]
                : ["-c", $"user.name={FallbackName}", "-c", $"user.email={FallbackEmail}", "commit", "-m", message];
            return await GitAsync(ctx, git, ct);
        });

    public static AgentTool Worktree() => new("git_worktree",
        "Manage worktrees: action 'list', 'add' (path inside the codebase, branch; create_branch=true makes a new branch) or 'remove' (path).",
        """{"type":"object","properties":{"action":{"type":"string","enum":["list","add","remove"]},"path":{"type":"string"},"branch":{"type":"string"},"create_branch":{"type":"boolean"}},"required":["action"]}""",
        readOnly: false, (args, ctx, ct) =>
        {
            switch (args.String("action"))
            {
                case "list":
                    return GitAsync(ctx, ["worktree", "list"], ct);
                case "add":
                {
                    var path = ctx.Root.Resolve(args.String("path"));
                    List<string> git = ["worktree", "add"];
                    if (args.Bool("create_branch")) git.AddRange(["-b", Ref(args.String("branch")), path]);
                    else
                    {
                        git.Add(path);
                        if (args.OptString("branch") is { } b) git.Add(Ref(b));
                    }
                    return GitAsync(ctx, git, ct);
                }
                case "remove":
                    return GitAsync(ctx, ["worktree", "remove", ctx.Root.Resolve(args.String("path"))], ct);
                default:
                    throw new ToolArgumentException("action must be list, add or remove");
            }
        });

    private static void AddPath(ToolContext ctx, ToolArgs args, List<string> git)
    {
        if (args.OptString("path") is not { } p) return;
        git.Add("--");
        git.Add(ctx.Root.Relative(ctx.Root.Resolve(p)));
    }

    /// <summary>A ref or branch name; one starting with '-' would be read as an option.</summary>
    private static string Ref(string value) =>
        value.StartsWith('-') || value.Contains('\0') ? throw new ToolArgumentException($"'{value}' is not a valid git ref") : value;

    private static async Task<ToolResult> GitAsync(ToolContext ctx, IReadOnlyList<string> args, CancellationToken ct, string? emptyMeans = null)
    {
        var result = await ProcessRunner.RunAsync("git", args, ctx.Root.Path, TimeSpan.FromSeconds(120), ctx.Settings.OutputCap,
            ctx.Settings.HiddenEnvironment, ct, ShellTools.Env);
        if (result.TimedOut) return ToolResult.Error($"git {args[0]} timed out");
        if (result.ExitCode != 0) return ToolResult.Error($"git {string.Join(' ', args.Take(2))} failed (exit code {result.ExitCode}): {result.Output}");
        return ToolResult.Ok(result.Output.Length == 0 ? emptyMeans ?? "ok" : result.Output);
    }
}
