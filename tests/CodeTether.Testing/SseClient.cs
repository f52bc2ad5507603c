using System.Net.Http.Headers;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Threading.Channels;

namespace CodeTether.Testing;

/// <summary>One SSE event as a test sees it.</summary>
public sealed record SseEvent(string Type, string? Id, string Data)
{
    public JsonElement Json => JsonDocument.Parse(Data).RootElement;
}

/// <summary>
/// Opens an SSE stream and buffers its events on a background reader, so tests await the next event
/// (with a timeout) instead of sleeping.
/// </summary>
public sealed class SseClient : IAsyncDisposable
{
    readonly Channel<SseEvent> _events = Channel.CreateUnbounded<SseEvent>();
    readonly CancellationTokenSource _cts = new();
    readonly Task _pump;

    SseClient(HttpResponseMessage response)
    {
        Response = response;
        _pump = PumpAsync(response, _cts.Token);
    }

    public HttpResponseMessage Response { get; }

    public static async Task<SseClient> OpenAsync(HttpClient http, string path, string? lastEventId = null,
        IReadOnlyDictionary<string, string>? headers = null)
    {
        var req = new HttpRequestMessage(HttpMethod.Get, path);
        req.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        if (lastEventId is not null) req.Headers.Add("Last-Event-ID", lastEventId);
        foreach (var (k, v) in headers ?? new Dictionary<string, string>()) req.Headers.TryAddWithoutValidation(k, v);
        var res = await http.SendAsync(req, HttpCompletionOption.ResponseHeadersRead);
        if (!res.IsSuccessStatusCode)
            throw new HttpRequestException($"SSE {path} answered {(int)res.StatusCode}: {await res.Content.ReadAsStringAsync()}");
        return new SseClient(res);
    }

    /// <summary>An SSE response to a POST (A2A <c>message/stream</c>, <c>tasks/resubscribe</c>).</summary>
    public static async Task<SseClient> PostAsync(HttpClient http, string path, string json, string? lastEventId = null)
    {
        var req = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json") };
        req.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        if (lastEventId is not null) req.Headers.Add("Last-Event-ID", lastEventId);
        var res = await http.SendAsync(req, HttpCompletionOption.ResponseHeadersRead);
        if (!res.IsSuccessStatusCode || res.Content.Headers.ContentType?.MediaType != "text/event-stream")
            throw new HttpRequestException($"SSE {path} answered {(int)res.StatusCode} {res.Content.Headers.ContentType}: {await res.Content.ReadAsStringAsync()}");
        return new SseClient(res);
    }

    async Task PumpAsync(HttpResponseMessage res, CancellationToken ct)
    {
        try
        {
            await using var body = await res.Content.ReadAsStreamAsync(ct);
            await foreach (var item in SseParser.Create(body).EnumerateAsync(ct))
                await _events.Writer.WriteAsync(new SseEvent(item.EventType, item.EventId, item.Data), ct);
            _events.Writer.TryComplete();
        }
        catch (Exception ex) { _events.Writer.TryComplete(ex is OperationCanceledException ? null : ex); }
    }

    /// <summary>The next event that is not a heartbeat.</summary>
    public async Task<SseEvent> NextAsync(TimeSpan? timeout = null, bool skipHeartbeats = true)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(15));
        while (true)
        {
            SseEvent e;
            try { e = await _events.Reader.ReadAsync(cts.Token); }
            catch (OperationCanceledException) { throw new TimeoutException("No SSE event arrived in time."); }
            catch (ChannelClosedException) { throw new EndOfStreamException("The SSE stream ended."); }
            if (skipHeartbeats && e.Type == "heartbeat") continue;
            return e;
        }
    }

    /// <summary>Reads events until one matches, returning everything read (the match last).</summary>
    public async Task<List<SseEvent>> UntilAsync(Func<SseEvent, bool> match, TimeSpan? timeout = null)
    {
        var seen = new List<SseEvent>();
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero) throw new TimeoutException($"No matching SSE event; saw: {string.Join(", ", seen.Select(s => s.Type))}");
            var e = await NextAsync(left);
            seen.Add(e);
            if (match(e)) return seen;
        }
    }

    /// <summary>True when the server closed the stream (all buffered events consumed or not).</summary>
    public async Task<bool> EndsWithinAsync(TimeSpan timeout)
    {
        // The pump finishes when the response body ends; the channel's Completion would also wait for every
        // buffered event (heartbeats included) to be read.
        var done = await Task.WhenAny(_pump, Task.Delay(timeout));
        return done == _pump && !_cts.IsCancellationRequested;
    }

    public async IAsyncEnumerable<SseEvent> ReadAllAsync([EnumeratorCancellation] CancellationToken ct = default)
    {
        await foreach (var e in _events.Reader.ReadAllAsync(ct)) yield return e;
    }

    public async ValueTask DisposeAsync()
    {
        _cts.Cancel();
        Response.Dispose();
        try { await _pump; } catch { /* closing */ }
    }
}
