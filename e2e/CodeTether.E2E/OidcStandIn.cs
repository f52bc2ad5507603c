using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace CodeTether.E2E;

/// <summary>The Keycloak-shaped OpenID provider of e2e/oidc (node + oidc-provider), on a random loopback port.</summary>
public sealed class OidcStandIn : IAsyncDisposable
{
    readonly Process _process;
    public string Issuer { get; }

    OidcStandIn(Process process, string issuer) => (_process, Issuer) = (process, issuer);

    public static async Task<OidcStandIn> StartAsync(string redirectUri, int accessTokenTtl = 300)
    {
        var dir = Path.Combine(Repo.Root, "e2e", "oidc");
        if (!Directory.Exists(Path.Combine(dir, "node_modules", "oidc-provider")))
            throw new InvalidOperationException($"Run 'npm ci' in {dir} first (scripts/test.sh does).");
        var psi = new ProcessStartInfo("node", "server.mjs")
        {
            WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        psi.Environment["PORT"] = "0";
        psi.Environment["REDIRECT_URIS"] = redirectUri;
        psi.Environment["ACCESS_TOKEN_TTL"] = accessTokenTtl.ToString();
        var p = Process.Start(psi)!;
        var ready = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var log = new List<string>();
        p.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (log) log.Add(e.Data);
            if (e.Data.StartsWith("OIDC READY ")) ready.TrySetResult(e.Data["OIDC READY ".Length..].Trim());
        };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.Add(e.Data); };
        p.Exited += (_, _) => ready.TrySetException(new InvalidOperationException("oidc stand-in exited: " + string.Join('\n', log)));
        p.EnableRaisingEvents = true;
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        var issuer = await ready.Task.WaitAsync(TimeSpan.FromSeconds(30));
        return new OidcStandIn(p, issuer);
    }

    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

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
