using System.Net;
using System.Text.Json;

namespace CodeTether.Api.Tests;

/// <summary>Asserts on RFC 9457 problem responses: status, <c>application/problem+json</c>, <c>type</c>, <c>title</c>.</summary>
public static class ProblemAssert
{
    public const string TypeBase = "https://codetether.dev/problems/";

    /// <summary>The response is a problem with this status (and, when given, this <c>type</c> slug under <see cref="TypeBase"/>).</summary>
    public static async Task<JsonElement> IsProblemAsync(this HttpResponseMessage res, HttpStatusCode status, string? slug = null)
    {
        var body = await res.Content.ReadAsStringAsync();
        Assert.True(res.StatusCode == status, $"Expected {(int)status} but got {(int)res.StatusCode}: {body}");
        Assert.True(res.Content.Headers.ContentType?.MediaType == "application/problem+json",
            $"Expected application/problem+json but got '{res.Content.Headers.ContentType}': {body}");
        var json = JsonDocument.Parse(body).RootElement;
        Assert.Equal((int)status, json.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(json.GetProperty("title").GetString()), $"problem without title: {body}");
        Assert.False(string.IsNullOrWhiteSpace(json.GetProperty("type").GetString()), $"problem without type: {body}");
        if (slug is not null) Assert.Equal(TypeBase + slug, json.GetProperty("type").GetString());
        return json;
    }

    /// <summary>A 400 ValidationProblem with an error on <paramref name="field"/>.</summary>
    public static async Task<JsonElement> IsValidationProblemAsync(this HttpResponseMessage res, string field)
    {
        var json = await res.IsProblemAsync(HttpStatusCode.BadRequest);
        Assert.True(json.TryGetProperty("errors", out var errors), $"no 'errors' in {json}");
        Assert.True(errors.TryGetProperty(field, out var messages) && messages.GetArrayLength() > 0, $"no error on '{field}' in {errors}");
        return json;
    }

    /// <summary>Any 4xx answered with a problem body: what malformed input must give, never a 500.</summary>
    public static async Task<JsonElement> IsClientErrorProblemAsync(this HttpResponseMessage res)
    {
        var body = await res.Content.ReadAsStringAsync();
        Assert.True((int)res.StatusCode is >= 400 and < 500, $"Expected a 4xx but got {(int)res.StatusCode}: {body}");
        return await res.IsProblemAsync(res.StatusCode);
    }
}
