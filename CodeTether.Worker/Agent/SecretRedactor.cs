using System.Collections;
using System.Text.Json.Nodes;

namespace CodeTether.Worker.Agent;

/// <summary>
/// Replaces the values of secret environment variables (provider keys, tokens) with <c>[REDACTED:NAME]</c> in every step,
/// tool result and transcript the worker sends anywhere. Secret variables are the providers' key variables, the worker
/// token, and any variable whose name ends in <c>_KEY</c>, <c>_TOKEN</c>, <c>_SECRET</c> or <c>_PASSWORD</c>; they are also
/// removed from the environment of every process a tool starts.
/// </summary>
public sealed class SecretRedactor
{
    private static readonly string[] Suffixes = ["_KEY", "_TOKEN", "_TOKENS", "_SECRET", "_PASSWORD", "_PASS"];
    private readonly (string Name, string Value)[] _secrets;

    public SecretRedactor(IEnumerable<(string Name, string Value)> secrets)
    {
        _secrets = [.. secrets.Where(s => s.Value.Length >= 6).DistinctBy(s => s.Value).OrderByDescending(s => s.Value.Length)];
        Names = [.. _secrets.Select(s => s.Name).Distinct()];
    }

    /// <summary>Names of the secret variables (hidden from tool processes).</summary>
    public IReadOnlyList<string> Names { get; }

    public static SecretRedactor FromEnvironment(IEnumerable<string> knownNames, string? workerToken = null)
    {
        var known = knownNames.ToHashSet(StringComparer.Ordinal);
        var found = new List<(string, string)>();
        foreach (DictionaryEntry e in Environment.GetEnvironmentVariables())
        {
            var name = (string)e.Key;
            if (e.Value is not string value || string.IsNullOrWhiteSpace(value)) continue;
            if (known.Contains(name) || Suffixes.Any(s => name.EndsWith(s, StringComparison.OrdinalIgnoreCase))) found.Add((name, value.Trim()));
        }
        if (!string.IsNullOrWhiteSpace(workerToken)) found.Add(("A2A_WORKER_TOKEN", workerToken));
        return new SecretRedactor(found);
    }

    public string Redact(string text)
    {
        foreach (var (name, value) in _secrets)
            if (text.Contains(value, StringComparison.Ordinal)) text = text.Replace(value, $"[REDACTED:{name}]", StringComparison.Ordinal);
        return text;
    }

    /// <summary>Redacts every string inside a JSON tree, in place.</summary>
    public JsonNode? Redact(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var key in o.Select(p => p.Key).ToList()) o[key] = Redact(o[key]);
                return o;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++) a[i] = Redact(a[i]?.DeepClone());
                return a;
            case JsonValue v when v.TryGetValue<string>(out var s):
                var r = Redact(s);
                return ReferenceEquals(r, s) || r == s ? v : JsonValue.Create(r);
            default:
                return node;
        }
    }
}

/// <summary>
/// <c>--auto-approve</c>: <c>all</c> runs every tool call; <c>safe</c> runs read-only tools and holds back mutating ones;
/// <c>none</c> holds back every call. A held-back call is answered with a "not approved" result (until the server has an
/// approval round-trip) and the user is told which flag would allow it.
/// </summary>
public sealed class ApprovalPolicy(string mode)
{
    public string Mode { get; } = mode;

    public bool NeedsApproval(Tools.AgentTool tool) => Mode switch
    {
        AutoApproveModes.All => false,
        AutoApproveModes.Safe => !tool.ReadOnly,
        _ => true,
    };

    /// <summary>The approval request the user sees (<c>input-required</c>): which tool, with which arguments (cut at 2000 chars).</summary>
    public string Question(Tools.AgentTool tool, string argumentsJson)
    {
        var args = argumentsJson.Length > 2000 ? argumentsJson[..2000] + $"… [{argumentsJson.Length - 2000} more characters]" : argumentsJson;
        return $"Approve tool call '{tool.Name}'{(tool.ReadOnly ? "" : " (changes files or runs commands)")} with arguments {args}? " +
            $"The worker runs with --auto-approve {Mode}. Answer \"approve\" (or \"yes\") to run it; any other answer skips it and is passed on to the agent.";
    }

    /// <summary>What the model gets for a call the user declined.</summary>
    public static string DeclinedMessage(Tools.AgentTool? tool, string answer) =>
        $"not approved: the user declined '{tool?.Name}' (their answer: \"{answer}\", repeated as the next message). " +
        "Do not retry the same call; follow the user's answer, continue with other tools, or finish and explain what remains to be done.";
}
