using System.Diagnostics;
using System.Text;
using CliWrap;

namespace CodeTether.Worker.Tools;

public sealed record ProcessOutput(int ExitCode, string Output, bool TimedOut);

/// <summary>Runs one child process (CliWrap): stdin closed, stdout+stderr interleaved and capped, killed on timeout.</summary>
public static class ProcessRunner
{
    public static async Task<ProcessOutput> RunAsync(string file, IEnumerable<string> args, string workingDirectory,
        TimeSpan timeout, int outputCap, IReadOnlyList<string> hiddenEnvironment, CancellationToken ct,
        IReadOnlyDictionary<string, string?>? environment = null)
    {
        var buffer = new CappedOutput(outputCap);
        using var timeoutCts = new CancellationTokenSource(timeout);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeoutCts.Token);
        var command = Cli.Wrap(file)
            .WithArguments(args)
            .WithWorkingDirectory(workingDirectory)
            .WithEnvironmentVariables(env =>
            {
                foreach (var name in hiddenEnvironment) env.Set(name, null);
                foreach (var (k, v) in environment ?? new Dictionary<string, string?>()) env.Set(k, v);
            })
            .WithValidation(CommandResultValidation.None)
            .WithStandardOutputPipe(PipeTarget.ToDelegate(buffer.Add))
            .WithStandardErrorPipe(PipeTarget.ToDelegate(buffer.Add));
        try
        {
            var result = await command.ExecuteAsync(linked.Token).ConfigureAwait(false);
            return new ProcessOutput(result.ExitCode, buffer.ToString(), false);
        }
        catch (OperationCanceledException) when (timeoutCts.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            return new ProcessOutput(-1, buffer.ToString(), true);
        }
    }
}

/// <summary>Keeps the first and the last half of <c>cap</c> characters of a line stream, noting what was cut.</summary>
public sealed class CappedOutput(int cap)
{
    private readonly StringBuilder _head = new();
    private readonly LinkedList<string> _tail = new();
    private readonly Lock _gate = new();
    private int _tailChars;
    private long _dropped;

    public void Add(string line)
    {
        lock (_gate)
        {
            if (_head.Length + line.Length + 1 <= cap / 2 && _tail.Count == 0)
            {
                _head.Append(line).Append('\n');
                return;
            }
            _tail.AddLast(line);
            _tailChars += line.Length + 1;
            while (_tailChars > cap / 2 && _tail.Count > 1)
            {
                _tailChars -= _tail.First!.Value.Length + 1;
                _dropped += _tail.First.Value.Length + 1;
                _tail.RemoveFirst();
            }
        }
    }

    public override string ToString()
    {
        lock (_gate)
        {
            var sb = new StringBuilder(_head.ToString());
            if (_dropped > 0) sb.Append($"[... {_dropped} characters of output omitted ...]\n");
            foreach (var line in _tail) sb.Append(line.Length > cap ? line[..cap] : line).Append('\n');
            return sb.ToString().TrimEnd('\n');
        }
    }
}

/// <summary>Long-running processes the agent started with <c>bg_start</c> (dev servers, watchers); all killed when the task ends.</summary>
public sealed class BackgroundProcesses : IAsyncDisposable
{
    private const int MaxLines = 2000;
    private readonly Dictionary<string, Entry> _entries = [];
    private readonly Lock _gate = new();
    private int _next;

    public sealed class Entry(string id, string command, Process process)
    {
        public string Id { get; } = id;
        public string Command { get; } = command;
        public Process Process { get; } = process;
        public Queue<string> Lines { get; } = new();
        public long TotalLines;
    }

    public Entry Start(string command, string workingDirectory, IReadOnlyList<string> hiddenEnvironment)
    {
        var psi = new ProcessStartInfo("/bin/sh")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(command);
        foreach (var name in hiddenEnvironment) psi.Environment.Remove(name);
        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        string id;
        lock (_gate) id = "bg" + ++_next;
        var entry = new Entry(id, command, process);
        void OnLine(string? line)
        {
            if (line is null) return;
            lock (entry.Lines)
            {
                entry.Lines.Enqueue(line);
                entry.TotalLines++;
                while (entry.Lines.Count > MaxLines) entry.Lines.Dequeue();
            }
        }
        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        lock (_gate) _entries[id] = entry;
        return entry;
    }

    public Entry? Get(string id)
    {
        lock (_gate) return _entries.GetValueOrDefault(id);
    }

    public IReadOnlyList<Entry> All
    {
        get { lock (_gate) return [.. _entries.Values]; }
    }

    public static async Task StopAsync(Entry entry)
    {
        try
        {
            if (!entry.Process.HasExited) entry.Process.Kill(entireProcessTree: true);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await entry.Process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is InvalidOperationException or OperationCanceledException or System.ComponentModel.Win32Exception)
        {
            // already gone, or it would not die within 5 s
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var entry in All)
        {
            await StopAsync(entry).ConfigureAwait(false);
            entry.Process.Dispose();
        }
    }
}
