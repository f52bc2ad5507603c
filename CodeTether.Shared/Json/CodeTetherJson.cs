using System.Text.Json;
using System.Text.Json.Serialization;

namespace CodeTether.Shared.Json;

/// <summary>The one set of JSON options of the <c>/v1</c> API and the worker protocol: snake_case, as the seed.</summary>
public static class CodeTetherJson
{
    public static JsonSerializerOptions Options { get; } = Configure(new JsonSerializerOptions(JsonSerializerDefaults.Web));

    public static JsonSerializerOptions Configure(JsonSerializerOptions o)
    {
        o.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        o.DictionaryKeyPolicy = null;
        o.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        o.PropertyNameCaseInsensitive = true;
        o.NumberHandling = JsonNumberHandling.Strict;
        return o;
    }
}
