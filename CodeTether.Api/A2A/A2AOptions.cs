using System.ComponentModel.DataAnnotations;

namespace CodeTether.Api.A2A;

public sealed class A2AOptions
{
    public const string Section = "A2A";

    /// <summary>The agent's name on its card.</summary>
    public string AgentName { get; set; } = "CodeTether";

    public string AgentDescription { get; set; } =
        "Runs AI coding agents (build, plan, explore, Ralph) on worker daemons next to your code, with live progress and a durable record.";

    /// <summary>
    /// A blocking <c>message/send</c> waits at most this long while a worker is on the task, then answers with the task
    /// as it is. A task nobody can take right away is answered at once in <c>submitted</c>.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan BlockingTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>A routed task (an eligible worker is online) is given this long to be claimed by a blocking send.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan ClaimWait { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>JSON-RPC and REST request bodies larger than this are refused (-32600, HTTP 413).</summary>
    [Range(1024, 64 * 1024 * 1024)]
    public int MaxRequestBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Comment lines keep idle A2A streams open through proxies.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan StreamKeepAlive { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>The OpenID Connect discovery URL put on the card when an identity provider (Keycloak) is configured.</summary>
    public string? OidcDiscoveryUrl { get; set; }

    public PushOptions Push { get; set; } = new();
}

public sealed class PushOptions
{
    /// <summary>
    /// Hosts or networks webhooks may point at although they are loopback, link-local or private (SSRF guard):
    /// host names (<c>hooks.internal</c>), addresses (<c>127.0.0.1</c>) or CIDR ranges (<c>10.1.0.0/16</c>).
    /// </summary>
    public List<string> AllowedHosts { get; set; } = [];

    [Range(1, 20)]
    public int MaxAttempts { get; set; } = 5;

    /// <summary>First retry delay; doubles per attempt.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan InitialBackoff { get; set; } = TimeSpan.FromSeconds(1);

    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    [Range(1, 100)]
    public int MaxConfigsPerTask { get; set; } = 10;
}
