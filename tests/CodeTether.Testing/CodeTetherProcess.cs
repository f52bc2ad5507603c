using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Threading.Channels;

namespace CodeTether.Testing;

/// <summary>
/// The real <c>codetether</c> executable as a child process (<c>dotnet codetether.dll ...</c>): the worker daemon or the
/// server, for tests that kill, signal and restart processes. Output lines are buffered so a test can await one.
/// </summary>
public sealed partial class CodeTetherProcess : IAsyncDisposable
{
    readonly Process _process;
    readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
    readonly List<string> _all = [];

    CodeTetherProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => OnLine(e.Data);
        _process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Id => _process.Id;
    public bool HasExited => _process.HasExited;
    public string Output { get { lock (_all) return string.Join('\n', _all); } }

    static string Executable => Path.Combine(AppContext.BaseDirectory, "codetether.dll");

    public static CodeTetherProcess Start(IEnumerable<string> args, IReadOnlyDictionary<string, string?>? env = null)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        psi.ArgumentList.Add(Executable);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_NOLOGO"] = "1";
        psi.Environment["Logging__LogLevel__Default"] = "Information";
        foreach (var (k, v) in env ?? new Dictionary<string, string?>()) psi.Environment[k] = v;
        return new CodeTetherProcess(Process.Start(psi) ?? throw new InvalidOperationException("could not start codetether"));
    }

    void OnLine(string? line)
    {
        if (line is null) return;
        lock (_all) _all.Add(line);
        _lines.Writer.TryWrite(line);
    }

    /// <summary>Waits for an output line containing <paramref name="text"/>.</summary>
    public async Task WaitForOutputAsync(string text, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        try
        {
            while (true)
            {
                var line = await _lines.Reader.ReadAsync(cts.Token);
                if (line.Contains(text, StringComparison.Ordinal)) return;
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"codetether never printed '{text}'. Output so far:\n{Output}");
        }
    }

    /// <summary>SIGKILL: the process gets no chance to clean up (a crash).</summary>
    public void Kill() => _process.Kill(entireProcessTree: true);

    /// <summary>SIGTERM: the graceful stop a service manager sends.</summary>
    public void Terminate()
    {
        if (kill(_process.Id, 15) != 0) throw new InvalidOperationException($"kill -TERM failed: errno {Marshal.GetLastPInvokeError()}");
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int sig);

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
