using System.Net.Http.Headers;
using System.Net.ServerSentEvents;
using System.Threading.Channels;

namespace CodeTether.Testing;

/// <summary>
/// An SSE reader that behaves like a browser's EventSource: when the stream ends or the server goes away it
/// reconnects (every <see cref="RetryDelay"/>) with <c>Last-Event-ID</c> set to the last id it received.
/// </summary>
public sealed class ResumingSseClient : IAsyncDisposable
{
    readonly Channel<SseEvent> _events = Channel.CreateUnbounded<SseEvent>();
    readonly CancellationTokenSource _cts = new();
    readonly Task _loop;

    public ResumingSseClient(Func<HttpClient> http, string path)
    {
        _loop = LoopAsync(http, path, _cts.Token);
    }

    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(200);
    public string? LastEventId { get; private set; }
    public int Connections { get; private set; }

    async Task LoopAsync(Func<HttpClient> http, string path, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                using var client = http();
                using var req = new HttpRequestMessage(HttpMethod.Get, path);
                req.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
                if (LastEventId is not null) req.Headers.Add("Last-Event-ID", LastEventId);
                using var res = await client.SendAsync(req, HttpCompletionOption.ResponseHeadersRead, ct);
                if (res.IsSuccessStatusCode)
                {
                    Connections++;
                    await using var body = await res.Content.ReadAsStreamAsync(ct);
                    await foreach (var item in SseParser.Create(body).EnumerateAsync(ct))
                    {
                        if (item.EventId is { Length: > 0 } id) LastEventId = id;
                        await _events.Writer.WriteAsync(new SseEvent(item.EventType, item.EventId, item.Data), ct);
                    }
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { break; }
            catch (HttpRequestException) { }
            catch (IOException) { }
            try { await Task.Delay(RetryDelay, ct); } catch (OperationCanceledException) { break; }
        }
        _events.Writer.TryComplete();
    }

    /// <summary>Reads events (heartbeats skipped) until one matches; returns all read, the match last.</summary>
    public async Task<List<SseEvent>> UntilAsync(Func<SseEvent, bool> match, TimeSpan timeout)
    {
        var seen = new List<SseEvent>();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            while (true)
            {
                var e = await _events.Reader.ReadAsync(cts.Token);
                if (e.Type == "heartbeat") continue;
                seen.Add(e);
                if (match(e)) return seen;
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"No matching SSE event; saw: {string.Join(", ", seen.Select(s => $"{s.Id}:{s.Type}"))}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        _cts.Cancel();
        try { await _loop; } catch (OperationCanceledException) { }
    }
}
