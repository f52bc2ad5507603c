using System.Net;
using System.Text;
using Microsoft.Extensions.Http.Resilience;
using Polly;

namespace CodeTether.Shared.Client;

/// <summary>
/// The two HTTP stacks a worker needs, built without DI:
/// <list type="bullet">
/// <item>API calls go through a Polly pipeline equivalent to <c>AddStandardResilienceHandler()</c> minus the circuit breaker
/// (total timeout 30 s → retry ×3, exponential back-off with jitter, honouring <c>Retry-After</c> → attempt timeout 10 s).
/// Requests marked with <see cref="NoRetry"/> (task creation, which is not idempotent) only get the timeouts.</item>
/// <item>The SSE task stream gets a plain handler and an infinite <see cref="HttpClient.Timeout"/>: its response lives for
/// hours and must never be cut by a timeout nor replayed blindly by a retry strategy. <see cref="CodeTetherClient"/>
/// reconnects it itself (back-off, re-register, <c>Last-Event-ID</c>).</item>
/// </list>
/// With <c>IHttpClientFactory</c> the equivalent is two named clients: one with <c>AddStandardResilienceHandler()</c>,
/// one without any resilience handler and <c>Timeout = Timeout.InfiniteTimeSpan</c>.
/// </summary>
public static class CodeTetherHttp
{
    /// <summary>Set on a request (<c>request.Options.Set(NoRetry, true)</c>) that must not be retried.</summary>
    public static readonly HttpRequestOptionsKey<bool> NoRetry = new("CodeTether.NoRetry");

    public static HttpClient CreateApiClient(Uri serverUrl)
    {
        var retrying = BuildPipeline(retry: true);
        var once = BuildPipeline(retry: false);
        var handler = new ResilienceHandler(request =>
            request.Options.TryGetValue(NoRetry, out var noRetry) && noRetry ? once : retrying)
        {
            InnerHandler = CreateSocketsHandler(),
        };
        // The pipeline owns the timeouts; HttpClient's own 100 s would only cut retries short.
        return new HttpClient(handler) { BaseAddress = serverUrl, Timeout = Timeout.InfiniteTimeSpan };
    }

    public static HttpClient CreateStreamClient(Uri serverUrl)
    {
        var handler = CreateSocketsHandler();
        // An abandoned event stream never ends: do not try to drain it for reuse, close the connection at once.
        handler.MaxResponseDrainSize = 0;
        handler.ResponseDrainTimeout = TimeSpan.Zero;
        return new HttpClient(handler) { BaseAddress = serverUrl, Timeout = Timeout.InfiniteTimeSpan };
    }

    private static SocketsHttpHandler CreateSocketsHandler() => new()
    {
        PooledConnectionLifetime = TimeSpan.FromMinutes(2),
        ConnectTimeout = TimeSpan.FromSeconds(10),
        AutomaticDecompression = DecompressionMethods.None,
        // X-Codebases carries paths, which may be non-ASCII.
        RequestHeaderEncodingSelector = (_, _) => Encoding.UTF8,
    };

    private static ResiliencePipeline<HttpResponseMessage> BuildPipeline(bool retry)
    {
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage>()
            .AddTimeout(new HttpTimeoutStrategyOptions { Timeout = TimeSpan.FromSeconds(30), Name = "total" });
        if (retry)
        {
            builder.AddRetry(new HttpRetryStrategyOptions
            {
                MaxRetryAttempts = 3,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(500),
                ShouldRetryAfterHeader = true,
            });
        }
        return builder
            .AddTimeout(new HttpTimeoutStrategyOptions { Timeout = TimeSpan.FromSeconds(10), Name = "attempt" })
            .Build();
    }
}
