using System.Text;

namespace CodeTether.Worker.Tools;

/// <summary>
/// <c>shell</c>, <c>bg_start</c>/<c>bg_stop</c>/<c>bg_logs</c>: <c>/bin/sh -c</c> with the working directory inside the codebase
/// root, stdin closed, provider keys removed from the environment, a timeout and an output cap. The command itself is not
/// sandboxed (it can <c>cd</c> elsewhere): that is why these tools are "mutating" and need approval under <c>safe</c>.
/// </summary>
public static class ShellTools
{
    public static IEnumerable<AgentTool> All() => [Shell(), BgStart(), BgStop(), BgLogs()];

    public static AgentTool Shell() => new("shell",
        "Run a shell command (/bin/sh -c) in the codebase (or a subdirectory via cwd). Returns the exit code and the (capped) combined output. Default timeout 120 s.",
        """{"type":"object","properties":{"command":{"type":"string"},"cwd":{"type":"string","description":"Directory relative to the root"},"timeout_seconds":{"type":"integer"}},"required":["command"]}""",
        readOnly: false, async (args, ctx, ct) =>
        {
            var cwd = WorkingDirectory(ctx, args);
            var timeout = Timeout(ctx, args);
            var result = await ProcessRunner.RunAsync("/bin/sh", ["-c", args.String("command")], cwd, timeout,
                ctx.Settings.OutputCap, ctx.Settings.HiddenEnvironment, ct, Env);
            return Format(result, timeout);
        });

    public static AgentTool BgStart() => new("bg_start",
        "Start a long-running command in the background (a dev server, a watcher). Returns its id for bg_logs/bg_stop. It is killed when the task ends.",
        """{"type":"object","properties":{"command":{"type":"string"},"cwd":{"type":"string"}},"required":["command"]}""",
        readOnly: false, (args, ctx, ct) =>
        {
            var entry = ctx.Background.Start(args.String("command"), WorkingDirectory(ctx, args), ctx.Settings.HiddenEnvironment);
            return Task.FromResult(ToolResult.Ok($"started {entry.Id} (pid {entry.Process.Id})"));
        });

    public static AgentTool BgStop() => new("bg_stop",
        "Stop a background process started with bg_start (kills its process tree).",
        """{"type":"object","properties":{"id":{"type":"string"}},"required":["id"]}""",
        readOnly: false, async (args, ctx, ct) =>
        {
            var entry = ctx.Background.Get(args.String("id"));
            if (entry is null) return ToolResult.Error($"no background process '{args.String("id")}'; known: {Known(ctx)}");
            await BackgroundProcesses.StopAsync(entry);
            return ToolResult.Ok($"stopped {entry.Id}");
        });

    public static AgentTool BgLogs() => new("bg_logs",
        "Status and the last lines of output of a background process.",
        """{"type":"object","properties":{"id":{"type":"string"},"lines":{"type":"integer","description":"default 100"}},"required":["id"]}""",
        readOnly: true, (args, ctx, ct) =>
        {
            var entry = ctx.Background.Get(args.String("id"));
            if (entry is null) return Task.FromResult(ToolResult.Error($"no background process '{args.String("id")}'; known: {Known(ctx)}"));
            var n = Math.Clamp(args.OptInt("lines") ?? 100, 1, 2000);
            string[] lines;
            long total;
            lock (entry.Lines)
            {
                lines = [.. entry.Lines.TakeLast(n)];
                total = entry.TotalLines;
            }
            var status = entry.Process.HasExited ? $"exited with code {entry.Process.ExitCode}" : "running";
            var sb = new StringBuilder($"{entry.Id} ({entry.Command}): {status}, {total} lines of output\n");
            foreach (var l in lines) sb.Append(l).Append('\n');
            return Task.FromResult(ToolResult.Ok(Cap(sb.ToString().TrimEnd('\n'), ctx.Settings.OutputCap)));
        });

    internal static readonly IReadOnlyDictionary<string, string?> Env = new Dictionary<string, string?>
    {
        ["CODETETHER_AGENT"] = "1",
        ["GIT_TERMINAL_PROMPT"] = "0",
        ["PAGER"] = "cat",
        ["GIT_PAGER"] = "cat",
    };

    internal static string WorkingDirectory(ToolContext ctx, ToolArgs args)
    {
        var cwd = ctx.Root.Resolve(args.OptString("cwd"));
        if (!Directory.Exists(cwd)) throw new ToolArgumentException($"cwd '{args.OptString("cwd")}' is not a directory");
        return cwd;
    }

    internal static TimeSpan Timeout(ToolContext ctx, ToolArgs args)
    {
        var seconds = args.OptInt("timeout_seconds");
        if (seconds is <= 0) throw new ToolArgumentException("timeout_seconds must be positive");
        var t = seconds is { } s ? TimeSpan.FromSeconds(s) : ctx.Settings.ShellTimeout;
        return t > ctx.Settings.MaxShellTimeout ? ctx.Settings.MaxShellTimeout : t;
    }

    internal static ToolResult Format(ProcessOutput result, TimeSpan timeout)
    {
        if (result.TimedOut)
            return new ToolResult($"error: timed out after {timeout.TotalSeconds:0.#} s (process killed); output so far:\n{result.Output}", IsError: true);
        var text = $"exit code {result.ExitCode}\n{result.Output}".TrimEnd('\n');
        return new ToolResult(text, IsError: result.ExitCode != 0);
    }

    private static string Known(ToolContext ctx) =>
        ctx.Background.All.Count == 0 ? "(none)" : string.Join(", ", ctx.Background.All.Select(e => e.Id));

    internal static string Cap(string text, int cap) =>
        text.Length <= cap ? text : text[..(cap / 2)] + $"\n[... {text.Length - cap} characters omitted ...]\n" + text[^(cap / 2)..];
}
