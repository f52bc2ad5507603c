using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace CodeTether.Api.A2A;

/// <summary>
/// The SSRF guard of push notifications: webhooks may not point at loopback, link-local, private, shared, multicast or
/// reserved addresses unless <see cref="PushOptions.AllowedHosts"/> names the host or a network holding the address.
/// Checked when a config is set (by resolving the name) and again on every connection (the address actually dialled),
/// so DNS rebinding does not get around it.
/// </summary>
public sealed class WebhookGuard(IOptionsMonitor<A2AOptions> options)
{
    static readonly IPNetwork[] Blocked =
    [
        IPNetwork.Parse("0.0.0.0/8"), IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("100.64.0.0/10"), IPNetwork.Parse("127.0.0.0/8"),
        IPNetwork.Parse("169.254.0.0/16"), IPNetwork.Parse("172.16.0.0/12"), IPNetwork.Parse("192.0.0.0/24"), IPNetwork.Parse("192.0.2.0/24"),
        IPNetwork.Parse("192.168.0.0/16"), IPNetwork.Parse("198.18.0.0/15"), IPNetwork.Parse("198.51.100.0/24"), IPNetwork.Parse("203.0.113.0/24"),
        IPNetwork.Parse("224.0.0.0/4"), IPNetwork.Parse("240.0.0.0/4"),
        IPNetwork.Parse("::/128"), IPNetwork.Parse("::1/128"), IPNetwork.Parse("fc00::/7"), IPNetwork.Parse("fe80::/10"), IPNetwork.Parse("ff00::/8"),
        IPNetwork.Parse("64:ff9b::/96"), IPNetwork.Parse("2001:db8::/32"),
    ];

    /// <summary>Why <paramref name="url"/> may not be used, or null when it may. Resolves the host name.</summary>
    public async Task<string?> CheckUrlAsync(string url, CancellationToken ct)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            return "the webhook URL must be an absolute http or https URL.";
        if (!string.IsNullOrEmpty(uri.UserInfo)) return "the webhook URL must not carry credentials.";
        if (IsAllowedHost(uri.IdnHost)) return null;
        IPAddress[] addresses;
        if (IPAddress.TryParse(uri.IdnHost.Trim('[', ']'), out var literal)) addresses = [literal];
        else
        {
            try { addresses = await Dns.GetHostAddressesAsync(uri.IdnHost, ct); }
            catch (SocketException) { return $"the webhook host '{uri.IdnHost}' does not resolve."; }
        }
        if (addresses.Length == 0) return $"the webhook host '{uri.IdnHost}' does not resolve.";
        return addresses.FirstOrDefault(a => !IsAllowedAddress(a)) is { } bad
            ? $"the webhook URL points at a loopback, link-local or private address ({bad}); refused (allow it with A2A:Push:AllowedHosts)."
            : null;
    }

    public bool IsAllowedHost(string host) =>
        options.CurrentValue.Push.AllowedHosts.Any(h => string.Equals(h, host, StringComparison.OrdinalIgnoreCase));

    public bool IsAllowedAddress(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        foreach (var entry in options.CurrentValue.Push.AllowedHosts)
        {
            if (IPNetwork.TryParse(entry, out var net) && net.Contains(address)) return true;
            if (IPAddress.TryParse(entry, out var one) && one.Equals(address)) return true;
        }
        return !Blocked.Any(n => n.BaseAddress.AddressFamily == address.AddressFamily && n.Contains(address));
    }

    /// <summary>The socket connect of the webhook client: dials only addresses the guard allows.</summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken ct)
    {
        var host = context.DnsEndPoint.Host;
        var allowedByName = IsAllowedHost(host);
        var addresses = IPAddress.TryParse(host.Trim('[', ']'), out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, ct);
        var usable = allowedByName ? addresses : addresses.Where(IsAllowedAddress).ToArray();
        if (usable.Length == 0) throw new HttpRequestException($"Webhook host '{host}' resolves only to refused addresses (SSRF guard).");
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(usable, context.DnsEndPoint.Port, ct);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
