using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.ServerSentEvents;
using System.Text.Json;
using CodeTether.Shared.Contracts;

namespace CodeTether.Bench;

/// <summary>
/// An idle worker: registered for one codebase, with <c>GET /v1/worker/tasks/stream</c> open (own HttpClient, so the
/// stream and its claims use their own connections). Events are parsed with the BCL's <see cref="SseParser"/>;
/// the arrival time of each <c>task_available</c> is taken as soon as the parser yields it.
/// </summary>
public sealed class StreamWorker : IAsyncDisposable
{
    readonly CancellationTokenSource _cts = new();
    readonly TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    Task? _pump;

    public StreamWorker(BenchHost host, string id)
    {
        Id = id;
        Http = host.Client(id, Timeout.InfiniteTimeSpan);
    }

    public string Id { get; }
    public HttpClient Http { get; }

    /// <summary>Called on the pump for every offer: (worker, task, Stopwatch timestamp of arrival).</summary>
    public Action<StreamWorker, TaskDto, long>? OnOffer { get; set; }

    public int Offers;

    public async Task ConnectAsync(TimeSpan timeout)
    {
        var req = new HttpRequestMessage(HttpMethod.Get, "/v1/worker/tasks/stream");
        req.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        var res = await Http.SendAsync(req, HttpCompletionOption.ResponseHeadersRead, _cts.Token);
        await Api.EnsureAsync(res, "open worker stream");
        _pump = PumpAsync(res, _cts.Token);
        await _connected.Task.WaitAsync(timeout);
    }

    async Task PumpAsync(HttpResponseMessage res, CancellationToken ct)
    {
        try
        {
            await using var body = await res.Content.ReadAsStreamAsync(ct);
            await foreach (var item in SseParser.Create(body).EnumerateAsync(ct))
            {
                var at = Stopwatch.GetTimestamp();
                switch (item.EventType)
                {
                    case "connected":
                        _connected.TrySetResult();
                        break;
                    case "task_available":
                        Interlocked.Increment(ref Offers);
                        var task = JsonSerializer.Deserialize<TaskDto>(item.Data, Api.Json)!;
                        OnOffer?.Invoke(this, task, at);
                        break;
                }
            }
            _connected.TrySetException(new EndOfStreamException($"stream of {Id} ended"));
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
        catch (Exception ex)
        {
            _connected.TrySetException(ex);
            if (!ct.IsCancellationRequested) Console.Error.WriteLine($"worker {Id}: stream failed: {ex.Message}");
        }
        finally { res.Dispose(); }
    }

    public async ValueTask DisposeAsync()
    {
        await _cts.CancelAsync();
        if (_pump is not null) await _pump;
        Http.Dispose();
        _cts.Dispose();
    }
}
