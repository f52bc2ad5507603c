using System.Net.ServerSentEvents;
using System.Text.Json;
using CodeTether.Shared.Json;

namespace CodeTether.Api.Realtime;

public static class SseItems
{
    public static SseItem<string> Json<T>(string eventType, T data, long? id = null) =>
        new(JsonSerializer.Serialize(data, CodeTetherJson.Options), eventType)
        {
            EventId = id?.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };

    /// <summary><c>Last-Event-ID</c> header (or <c>last_event_id</c> query for clients that cannot set headers).</summary>
    public static long LastEventId(HttpRequest request)
    {
        var raw = request.Headers["Last-Event-ID"].FirstOrDefault() ?? request.Query["last_event_id"].FirstOrDefault();
        return long.TryParse(raw, out var id) && id > 0 ? id : 0;
    }
}
