using System.Text.Json;
using Microsoft.Extensions.AI;

namespace CodeTether.Worker.Tools;

/// <summary>What a tool hands back to the model. Errors are results too: the model reads them and can recover.</summary>
public sealed record ToolResult(string Text, bool IsError = false)
{
    /// <summary>A unified diff of what the tool changed (reported as a <c>diff</c> step).</summary>
    public IReadOnlyList<FileDiff> Diffs { get; init; } = [];

    public static ToolResult Ok(string text) => new(text);
    public static ToolResult Error(string text) => new("error: " + text, IsError: true);
}

public sealed record FileDiff(string Path, string Diff);

/// <summary>A bad or missing argument; turned into an error result naming the argument.</summary>
public sealed class ToolArgumentException(string message) : Exception(message);

/// <summary>
/// One tool the agent can call: a name, a description and a JSON schema for the model, whether it only reads
/// (<see cref="ReadOnly"/>: runs without approval under <c>--auto-approve safe</c>), and the code that runs it.
/// </summary>
public sealed class AgentTool
{
    private readonly JsonElement _schema;
    private readonly Func<ToolArgs, ToolContext, CancellationToken, Task<ToolResult>> _run;

    public AgentTool(string name, string description, string schema, bool readOnly,
        Func<ToolArgs, ToolContext, CancellationToken, Task<ToolResult>> run)
        : this(name, description, JsonDocument.Parse(schema).RootElement.Clone(), readOnly, run)
    {
    }

    public AgentTool(string name, string description, JsonElement schema, bool readOnly,
        Func<ToolArgs, ToolContext, CancellationToken, Task<ToolResult>> run)
    {
        Name = name;
        Description = description;
        _schema = schema;
        ReadOnly = readOnly;
        _run = run;
    }

    public string Name { get; }
    public string Description { get; }
    public JsonElement Schema => _schema;
    public bool ReadOnly { get; }

    /// <summary>The declaration the model sees (no invocation: the agent loop runs tools itself).</summary>
    public AIFunctionDeclaration Declaration => AIFunctionFactory.CreateDeclaration(Name, Description, _schema);

    /// <summary>Runs the tool; argument errors, path escapes and I/O errors become error results, never exceptions.</summary>
    public async Task<ToolResult> InvokeAsync(ToolArgs args, ToolContext ctx, CancellationToken ct)
    {
        try
        {
            return await _run(args, ctx, ct).ConfigureAwait(false);
        }
        catch (ToolArgumentException ex)
        {
            return ToolResult.Error($"{ex.Message} (see the {Name} tool's schema)");
        }
        catch (PathEscapeException ex)
        {
            return ToolResult.Error("refused: " + ex.Message);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidDataException or JsonException)
        {
            return ToolResult.Error(ex.Message);
        }
    }
}

/// <summary>Typed access to a tool call's JSON arguments.</summary>
public sealed class ToolArgs
{
    private readonly Dictionary<string, JsonElement> _values;

    public ToolArgs(IDictionary<string, object?>? arguments)
    {
        _values = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var (k, v) in arguments ?? new Dictionary<string, object?>())
            _values[k] = v switch
            {
                JsonElement e => e,
                null => default,
                _ => JsonSerializer.SerializeToElement(v, v.GetType(), AIJsonUtilities.DefaultOptions),
            };
    }

    public static ToolArgs FromJson(string json) =>
        new(JsonSerializer.Deserialize<Dictionary<string, object?>>(json, AIJsonUtilities.DefaultOptions));

    public bool Has(string name) => _values.TryGetValue(name, out var v) && v.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Null);

    public string String(string name) =>
        OptString(name) ?? throw new ToolArgumentException($"missing required argument '{name}'");

    public string? OptString(string name) =>
        !Has(name) ? null : _values[name] switch
        {
            { ValueKind: JsonValueKind.String } s => s.GetString(),
            var other when other.ValueKind is JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => other.GetRawText(),
            _ => throw new ToolArgumentException($"argument '{name}' must be a string"),
        };

    public int? OptInt(string name)
    {
        if (!Has(name)) return null;
        var v = _values[name];
        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i)) return i;
        if (v.ValueKind == JsonValueKind.String && int.TryParse(v.GetString(), out i)) return i;
        throw new ToolArgumentException($"argument '{name}' must be an integer");
    }

    public bool Bool(string name, bool fallback = false)
    {
        if (!Has(name)) return fallback;
        var v = _values[name];
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.String when bool.TryParse(v.GetString(), out var b) => b,
            _ => throw new ToolArgumentException($"argument '{name}' must be true or false"),
        };
    }

    public IReadOnlyList<string> StringList(string name)
    {
        if (!Has(name)) return [];
        var v = _values[name];
        if (v.ValueKind == JsonValueKind.String) return [v.GetString()!];
        if (v.ValueKind != JsonValueKind.Array) throw new ToolArgumentException($"argument '{name}' must be an array of strings");
        return [.. v.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String
            ? e.GetString()!
            : throw new ToolArgumentException($"argument '{name}' must be an array of strings"))];
    }

    public IReadOnlyDictionary<string, JsonElement> Values => _values;

    public JsonElement? Raw(string name) => Has(name) ? _values[name] : null;
}
