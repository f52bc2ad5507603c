using System.Net.Http.Headers;
using System.Net.ServerSentEvents;
using System.Threading.Channels;
namespace CodeTether.Testing;

/// <summary>
/// An SSE reader that behaves like a browser's EventSource: when the stream ends or fails (the host stopped,
/// the connection dropped) it connects again with <c>Last-Event-ID</c> set to the last id it saw, until an
/// event matches <c>stopAfter</c> or it is disposed. Parsing is the BCL's <see cref="SseParser"/>.
/// </summary>
public sealed class ReconnectingSseReader : IAsyncDisposable
{
    readonly HttpClient _http;
    readonly string _path;
    readonly Func<SseEvent, bool> _stopAfter;
    readonly Channel<SseEvent> _events = Channel.CreateUnbounded<SseEvent>();
    readonly CancellationTokenSource _cts = new();
    readonly Task _pump;
    int _connections, _failures;

    public ReconnectingSseReader(HttpClient http, string path, Func<SseEvent, bool> stopAfter, string? lastEventId = null)
    {
        _http = http;
        _path = path;
        _stopAfter = stopAfter;
        LastEventId = lastEventId;
        _pump = PumpAsync(_cts.Token);
    }

    /// <summary>The id the next connection resumes after.</summary>
    public string? LastEventId { get; private set; }

    /// <summary>Streams that were opened (answered 200).</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Attempts that failed to connect (refused, non-200).</summary>
    public int Failures => Volatile.Read(ref _failures);

    /// <summary>Every non-heartbeat event, across connections; completes after the stop event.</summary>
    public ChannelReader<SseEvent> Events => _events.Reader;

    async Task PumpAsync(CancellationToken ct)
    {
        var delay = TimeSpan.FromMilliseconds(50);
        try
        {
            while (!ct.IsCancellationRequested)
            {
                try
                {
                    using var req = new HttpRequestMessage(HttpMethod.Get, _path);
                    req.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
                    if (LastEventId is not null) req.Headers.Add("Last-Event-ID", LastEventId);
                    using var res = await _http.SendAsync(req, HttpCompletionOption.ResponseHeadersRead, ct);
                    if (!res.IsSuccessStatusCode) { Interlocked.Increment(ref _failures); }
                    else
                    {
                        Interlocked.Increment(ref _connections);
                        delay = TimeSpan.FromMilliseconds(50);
                        await using var body = await res.Content.ReadAsStreamAsync(ct);
                        await foreach (var item in SseParser.Create(body).EnumerateAsync(ct))
                        {
                            if (item.EventId is { Length: > 0 } id) LastEventId = id; // what EventSource does
                            if (item.EventType == "heartbeat") continue;
                            var e = new SseEvent(item.EventType, item.EventId, item.Data);
                            await _events.Writer.WriteAsync(e, ct);
                            if (_stopAfter(e)) { _events.Writer.TryComplete(); return; }
                        }
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or IOException && !ct.IsCancellationRequested)
                {
                    Interlocked.Increment(ref _failures);
                }
                await Task.Delay(delay, ct); // EventSource's reconnection delay, growing while the host is away
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 500));
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
        _events.Writer.TryComplete();
    }

    /// <summary>Reads until the stop event (or the timeout), returning every event seen.</summary>
    public async Task<List<SseEvent>> ReadToStopAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var all = new List<SseEvent>();
        try { await foreach (var e in _events.Reader.ReadAllAsync(cts.Token)) all.Add(e); }
        catch (OperationCanceledException) { throw new TimeoutException($"The stop event did not arrive; saw {all.Count} event(s)."); }
        return all;
    }

    /// <summary>Reads events until one matches; returns all read, the match last.</summary>
    public async Task<List<SseEvent>> UntilAsync(Func<SseEvent, bool> match, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var seen = new List<SseEvent>();
        try
        {
            while (true)
            {
                var e = await _events.Reader.ReadAsync(cts.Token);
                seen.Add(e);
                if (match(e)) return seen;
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"No matching SSE event; saw: {string.Join(", ", seen.Select(s => $"{s.Id}:{s.Type}"))}");
        }
    }

    /// <summary>The next event, within the timeout.</summary>
    public async Task<SseEvent> NextAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try { return await _events.Reader.ReadAsync(cts.Token); }
        catch (OperationCanceledException) { throw new TimeoutException("No SSE event arrived in time."); }
    }

    public async ValueTask DisposeAsync()
    {
        _cts.Cancel();
        try { await _pump; } catch (OperationCanceledException) { }
        _cts.Dispose();
    }
}
