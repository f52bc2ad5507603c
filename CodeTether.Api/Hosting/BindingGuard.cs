using System.Net;

namespace CodeTether.Api.Hosting;

/// <summary>Local mode (no tokens, no identity provider) never listens beyond loopback.</summary>
public static class BindingGuard
{
    public static void Check(IEnumerable<string> urls, bool localMode)
    {
        if (!localMode) return;
        var exposed = urls.Where(u => !IsLoopback(u)).ToList();
        if (exposed.Count == 0) return;
        throw new StartupRefusedException(
            $"Refusing to listen on {string.Join(", ", exposed)}: no API tokens and no identity provider are configured, " +
            "so the platform would be open to the network. Bind to 127.0.0.1 (the default), or set A2A_AUTH_TOKENS=name:token " +
            "or configure Keycloak first.");
    }

    public static bool IsLoopback(string url)
    {
        var host = url.Split("://", 2) is [_, var rest] ? rest : url;
        host = host.Split('/')[0];
        if (host.StartsWith('[')) host = host[1..host.IndexOf(']')];
        else if (host.LastIndexOf(':') is var i and > 0) host = host[..i];
        return host.Equals("localhost", StringComparison.OrdinalIgnoreCase) ||
               (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip));
    }
}

public sealed class StartupRefusedException(string message) : Exception(message);
