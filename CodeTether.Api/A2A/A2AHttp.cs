using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using CodeTether.Shared.A2A;
using Microsoft.AspNetCore.Http.Features;

namespace CodeTether.Api.A2A;

/// <summary>Body limits and SSE framing shared by both bindings.</summary>
internal static class A2AHttp
{
    public static async Task<(byte[] Body, bool TooLarge)> ReadBodyAsync(HttpRequest req, int max, CancellationToken ct)
    {
        if (req.ContentLength > max) return ([], true);
        using var ms = new MemoryStream();
        var buffer = new byte[16 * 1024];
        try
        {
            int n;
            while ((n = await req.Body.ReadAsync(buffer, ct)) > 0)
            {
                ms.Write(buffer, 0, n);
                if (ms.Length > max) return ([], true);
            }
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge) { return ([], true); }
        return (ms.ToArray(), false);
    }

    /// <summary>
    /// Writes an A2A stream: <c>id: &lt;task event id&gt;</c> + one-line <c>data:</c> per event, <c>: keep-alive</c> comments
    /// while idle; an error met while streaming becomes a last <c>data:</c> event. Ends with the stream, the client or the host.
    /// </summary>
    public static async Task WriteSseAsync(HttpContext http, IAsyncEnumerable<A2AService.StreamItem> items,
        Func<object, object> wrap, Func<A2AException, object> error)
    {
        http.Response.StatusCode = StatusCodes.Status200OK;
        http.Response.ContentType = "text/event-stream; charset=utf-8";
        http.Response.Headers.CacheControl = "no-cache, no-transform";
        http.Response.Headers["X-Accel-Buffering"] = "no";
        http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        var stopping = http.RequestServices.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
        using var end = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, stopping);
        var body = http.Response.Body;
        try
        {
            await body.FlushAsync(end.Token);
            try
            {
                await foreach (var item in items.WithCancellation(end.Token))
                {
                    if (item.Event is null) await body.WriteAsync(": keep-alive\n\n"u8.ToArray(), end.Token);
                    else await WriteEventAsync(body, item.EventId, wrap(item.Event), end.Token);
                    await body.FlushAsync(end.Token);
                }
            }
            catch (A2AException ex)
            {
                await WriteEventAsync(body, null, error(ex), end.Token);
            }
        }
        catch (OperationCanceledException) when (end.IsCancellationRequested) { }
    }

    /// <summary>
    /// A stream that opens on a task nobody has taken yet (<c>submitted</c>: no eligible worker online, or not claimed yet)
    /// says so at once with a non-final <c>submitted</c> status update after the snapshot, rather than leaving the client
    /// with nothing but keep-alives until a worker shows up (clients, the TCK among them, read the first events and stop).
    /// </summary>
    public static async IAsyncEnumerable<A2AService.StreamItem> AnnounceQueued(IAsyncEnumerable<A2AService.StreamItem> items,
        [EnumeratorCancellation] CancellationToken ct = default)
    {
        var first = true;
        await foreach (var item in items.WithCancellation(ct))
        {
            yield return item;
            if (first && item.Event is A2ATask { Status.State: A2ATaskStates.Submitted } task)
                yield return new A2AService.StreamItem(0, new TaskStatusUpdateEvent
                {
                    TaskId = task.Id, ContextId = task.ContextId, Status = task.Status, Final = false,
                });
            first = false;
        }
    }

    static async Task WriteEventAsync(Stream body, long? id, object payload, CancellationToken ct)
    {
        var sb = new StringBuilder();
        if (id is > 0) sb.Append("id: ").Append(id.Value.ToString(CultureInfo.InvariantCulture)).Append('\n');
        sb.Append("data: ").Append(JsonSerializer.Serialize(payload, payload.GetType(), A2AJson.Options)).Append("\n\n");
        await body.WriteAsync(Encoding.UTF8.GetBytes(sb.ToString()), ct);
    }
}
