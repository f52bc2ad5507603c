using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CodeTether.Worker.Agent;

/// <summary>
/// A CI-like executor (<c>--executor shell</c>): the task's prompt is a shell command, run as <c>/bin/sh -c "&lt;prompt&gt;"</c>
/// in the task's codebase directory (see <see cref="TaskContext.ResolveWorkingDirectory"/>), with stdin closed and
/// <c>CODETETHER_TASK_ID</c> / <c>CODETETHER_WORKER</c> in its environment.
/// Every stdout/stderr line is streamed as an <c>output</c> step. Exit code 0 completes the task with the tail of the
/// output as result; any other exit code, or the timeout, fails it (the tail is kept as result). On cancellation or
/// timeout the whole process tree is killed.
/// This runs whatever the server sends — enable it only on machines and servers you trust with a shell.
/// </summary>
public sealed partial class ShellExecutor(TimeSpan timeout, ILogger<ShellExecutor>? logger = null, TimeProvider? time = null)
    : ITaskExecutor
{
    public const int MaxResultChars = 4000;

    /// <summary>How long to wait for output pipes to close after the shell exited or was killed.</summary>
    private static readonly TimeSpan PipeDrainTimeout = TimeSpan.FromSeconds(5);

    private readonly ILogger _logger = logger ?? NullLogger<ShellExecutor>.Instance;
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public TimeSpan Timeout { get; } = timeout;

    public async Task<TaskOutcome> ExecuteAsync(TaskContext ctx, CancellationToken ct)
    {
        var command = ctx.Task.Prompt;
        if (string.IsNullOrWhiteSpace(command)) return TaskOutcome.Failed("empty command: the task's prompt is the shell command to run");
        var directory = ctx.ResolveWorkingDirectory();
        if (directory is null) return TaskOutcome.Failed("no codebase directory on this worker to run the command in");

        var psi = new ProcessStartInfo("/bin/sh")
        {
            WorkingDirectory = directory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(command);
        psi.Environment["CODETETHER_TASK_ID"] = ctx.Task.Id;
        psi.Environment["CODETETHER_WORKER"] = "1";

        using var process = new Process { StartInfo = psi };
        process.Start();
        Log.Started(_logger, ctx.Task.Id, process.Id, directory, command.Length);
        process.StandardInput.Close();

        var tail = new OutputTail(MaxResultChars);
        var pumps = Task.WhenAll(
            PumpAsync(process.StandardOutput, "stdout", tail, ctx),
            PumpAsync(process.StandardError, "stderr", tail, ctx));

        using var timeoutCts = new CancellationTokenSource(Timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeoutCts.Token);
        try
        {
            await process.WaitForExitAsync(linked.Token).ConfigureAwait(false);
            // A background child may keep the pipes open after the shell exited: that is covered by the timeout too.
            await pumps.WaitAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (linked.IsCancellationRequested)
        {
            Kill(process);
            await DrainAsync(pumps).ConfigureAwait(false);
            if (ct.IsCancellationRequested)
            {
                Log.Cancelled(_logger, ctx.Task.Id);
                throw;
            }
            Log.TimedOut(_logger, ctx.Task.Id, Timeout.TotalSeconds);
            return TaskOutcome.Failed($"timed out after {Timeout.TotalSeconds:0.###} s", tail.ToString());
        }

        var exitCode = process.ExitCode;
        Log.Exited(_logger, ctx.Task.Id, exitCode);
        return exitCode == 0
            ? TaskOutcome.Completed(tail.ToString())
            : TaskOutcome.Failed($"command exited with code {exitCode}", tail.ToString());
    }

    private static async Task PumpAsync(StreamReader reader, string stream, OutputTail tail, TaskContext ctx)
    {
        while (await reader.ReadLineAsync(CancellationToken.None).ConfigureAwait(false) is { } line)
        {
            tail.Append(line);
            await ctx.ReportOutputAsync(line, stream).ConfigureAwait(false);
        }
    }

    private void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // already exited
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            Log.KillFailed(_logger, process.Id, ex.Message);
        }
    }

    private static async Task DrainAsync(Task pumps)
    {
        try
        {
            await pumps.WaitAsync(PipeDrainTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // an orphaned grandchild still holds the pipe; the tail has what we got
        }
    }

    /// <summary>The last <c>maxChars</c> characters of the interleaved output, cut at a line start.</summary>
    private sealed class OutputTail(int maxChars)
    {
        private readonly Queue<string> _lines = new();
        private int _chars;

        public void Append(string line)
        {
            lock (_lines)
            {
                _lines.Enqueue(line);
                _chars += line.Length + 1;
                while (_chars > maxChars && _lines.Count > 1) _chars -= _lines.Dequeue().Length + 1;
            }
        }

        public override string ToString()
        {
            lock (_lines)
            {
                var text = string.Join('\n', _lines);
                return text.Length > maxChars ? text[^maxChars..] : text;
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(100, LogLevel.Information,
            "Task {TaskId}: started shell process {Pid} in {Directory} (command of {CommandLength} chars)")]
        public static partial void Started(ILogger logger, string taskId, int pid, string directory, int commandLength);

        [LoggerMessage(101, LogLevel.Information, "Task {TaskId}: shell exited with code {ExitCode}")]
        public static partial void Exited(ILogger logger, string taskId, int exitCode);

        [LoggerMessage(102, LogLevel.Warning, "Task {TaskId}: shell timed out after {Seconds} s, process tree killed")]
        public static partial void TimedOut(ILogger logger, string taskId, double seconds);

        [LoggerMessage(103, LogLevel.Information, "Task {TaskId}: shell cancelled, process tree killed")]
        public static partial void Cancelled(ILogger logger, string taskId);

        [LoggerMessage(104, LogLevel.Warning, "Could not kill process {Pid}: {Reason}")]
        public static partial void KillFailed(ILogger logger, int pid, string reason);
    }
}
