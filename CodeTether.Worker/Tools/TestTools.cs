namespace CodeTether.Worker.Tools;

/// <summary><c>run_tests</c>: detects the project's test runner (dotnet, npm, cargo, go, pytest/unittest, make) and runs it.</summary>
public static class TestTools
{
    public static AgentTool RunTests() => new("run_tests",
        "Run the project's tests. Detects dotnet (*.sln/*.csproj), npm (package.json), cargo (Cargo.toml), go (go.mod), python (pytest, else unittest) or 'make test'. Optional path (subdirectory), framework to force one, filter to select tests.",
        """{"type":"object","properties":{"path":{"type":"string"},"framework":{"type":"string","enum":["dotnet","npm","cargo","go","pytest","unittest","make"]},"filter":{"type":"string"},"timeout_seconds":{"type":"integer"}}}""",
        readOnly: false, async (args, ctx, ct) =>
        {
            var dir = ctx.Root.Resolve(args.OptString("path"));
            if (!Directory.Exists(dir)) return ToolResult.Error($"'{args.OptString("path")}' is not a directory");
            var framework = args.OptString("framework") ?? await DetectAsync(dir, ctx, ct);
            if (framework is null)
                return ToolResult.Error("no test setup found (looked for *.sln/*.csproj, package.json, Cargo.toml, go.mod, python tests, a Makefile 'test' target); pass framework or use shell");
            var filter = args.OptString("filter");
            if (filter is not null && filter.StartsWith('-')) throw new ToolArgumentException("filter must not start with '-'");
            (string File, List<string> Args) command = framework switch
            {
                "dotnet" => ("dotnet", ["test", "--nologo", .. filter is null ? Array.Empty<string>() : ["--filter", filter]]),
                "npm" => ("npm", ["test", "--silent", .. filter is null ? Array.Empty<string>() : ["--", filter]]),
                "cargo" => ("cargo", ["test", .. filter is null ? Array.Empty<string>() : [filter]]),
                "go" => ("go", ["test", "./...", .. filter is null ? Array.Empty<string>() : ["-run", filter]]),
                "pytest" => ("python3", ["-m", "pytest", "-q", .. filter is null ? Array.Empty<string>() : ["-k", filter]]),
                "unittest" => ("python3", ["-m", "unittest", .. filter is null ? new[] { "discover", "-v" } : ["-v", filter]]),
                "make" => ("make", ["test"]),
                _ => throw new ToolArgumentException($"unknown framework '{framework}'"),
            };
            var timeout = args.Has("timeout_seconds") ? ShellTools.Timeout(ctx, args) : ctx.Settings.MaxShellTimeout;
            var result = await ProcessRunner.RunAsync(command.File, command.Args, dir, timeout, ctx.Settings.OutputCap,
                ctx.Settings.HiddenEnvironment, ct, ShellTools.Env);
            var header = $"{framework}: {command.File} {string.Join(' ', command.Args)}";
            if (result.TimedOut) return ToolResult.Error($"{header}: timed out after {timeout.TotalSeconds:0} s\n{result.Output}");
            var verdict = result.ExitCode == 0 ? "tests PASSED" : $"tests FAILED (exit code {result.ExitCode})";
            return new ToolResult($"{header}\n{verdict}\n{result.Output}".TrimEnd('\n'), IsError: result.ExitCode != 0);
        });

    public static async Task<string?> DetectAsync(string dir, ToolContext ctx, CancellationToken ct)
    {
        bool Has(string pattern) => Directory.EnumerateFiles(dir, pattern).Any();
        if (Has("*.sln") || Has("*.slnx") || Has("*.csproj") || Has("*.fsproj")) return "dotnet";
        if (Has("package.json")) return "npm";
        if (Has("Cargo.toml")) return "cargo";
        if (Has("go.mod")) return "go";
        var python = Has("pyproject.toml") || Has("setup.py") || Has("pytest.ini") || Has("setup.cfg") || Has("tox.ini")
            || Has("test_*.py") || Has("*_test.py") || (Directory.Exists(Path.Combine(dir, "tests")) && Directory.EnumerateFiles(Path.Combine(dir, "tests"), "*.py").Any());
        if (python)
        {
            var probe = await ProcessRunner.RunAsync("python3", ["-c", "import pytest"], dir, TimeSpan.FromSeconds(20), 1000,
                ctx.Settings.HiddenEnvironment, ct);
            return probe.ExitCode == 0 ? "pytest" : "unittest";
        }
        if (File.Exists(Path.Combine(dir, "Makefile")) &&
            (await File.ReadAllLinesAsync(Path.Combine(dir, "Makefile"), ct)).Any(l => l.StartsWith("test:", StringComparison.Ordinal)))
            return "make";
        return null;
    }
}
