using System.Net.ServerSentEvents;
using Microsoft.AspNetCore.Http.Features;

namespace CodeTether.Api.Realtime;

/// <summary>
/// An SSE response written by the BCL's <see cref="SseFormatter"/>, with the headers that keep proxies from
/// buffering or transforming it (<c>Cache-Control: no-cache, no-transform</c>, <c>X-Accel-Buffering: no</c>).
/// The stream ends when the client goes away or the host is stopping: an open stream must not hold a shutdown
/// (or a rolling update) up until Kestrel's timeout; clients resume elsewhere with <c>Last-Event-ID</c>.
/// </summary>
public sealed class SseResult(IAsyncEnumerable<SseItem<string>> items) : IResult
{
    public async Task ExecuteAsync(HttpContext http)
    {
        http.Response.StatusCode = StatusCodes.Status200OK;
        http.Response.ContentType = "text/event-stream; charset=utf-8";
        http.Response.Headers.CacheControl = "no-cache, no-transform";
        http.Response.Headers["X-Accel-Buffering"] = "no";
        http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        await http.Response.Body.FlushAsync(http.RequestAborted);
        var stopping = http.RequestServices.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
        using var end = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, stopping);
        try
        {
            await SseFormatter.WriteAsync(items, http.Response.Body, end.Token);
        }
        catch (OperationCanceledException) when (end.IsCancellationRequested)
        {
            // The client went away or the host is stopping: the normal end of a stream.
        }
    }
}
