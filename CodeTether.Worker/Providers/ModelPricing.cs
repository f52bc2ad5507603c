namespace CodeTether.Worker.Providers;

/// <summary>
/// Estimated cost: list prices in USD per million input/output tokens, matched by the longest model-name prefix
/// (vendor prefixes such as OpenRouter's <c>anthropic/</c> are ignored). Local providers cost nothing; unknown models
/// have no estimate (null). Prices change: treat the figure as an estimate.
/// </summary>
public static class ModelPricing
{
    private static readonly (string Prefix, decimal Input, decimal Output)[] Prices =
    [
        ("claude-opus-4", 15m, 75m), ("claude-sonnet-4", 3m, 15m), ("claude-3-7-sonnet", 3m, 15m), ("claude-3-5-sonnet", 3m, 15m),
        ("claude-haiku-4", 1m, 5m), ("claude-3-5-haiku", 0.8m, 4m),
        ("gpt-4.1-nano", 0.1m, 0.4m), ("gpt-4.1-mini", 0.4m, 1.6m), ("gpt-4.1", 2m, 8m),
        ("gpt-4o-mini", 0.15m, 0.6m), ("gpt-4o", 2.5m, 10m), ("gpt-5-mini", 0.25m, 2m), ("gpt-5-nano", 0.05m, 0.4m), ("gpt-5", 1.25m, 10m),
        ("o4-mini", 1.1m, 4.4m), ("o3-mini", 1.1m, 4.4m), ("o3", 2m, 8m),
        ("gemini-2.5-pro", 1.25m, 10m), ("gemini-2.5-flash", 0.3m, 2.5m),
        ("deepseek-chat", 0.27m, 1.1m), ("deepseek-reasoner", 0.55m, 2.19m),
        ("grok-4", 3m, 15m), ("grok-3-mini", 0.3m, 0.5m), ("grok-3", 3m, 15m),
    ];

    private static readonly string[] Local = ["ollama", "vllm", "lmstudio"];

    public static decimal? EstimateUsd(ModelRef model, long inputTokens, long outputTokens)
    {
        if (Local.Contains(model.Provider)) return 0m;
        var name = model.Model[(model.Model.LastIndexOf('/') + 1)..].ToLowerInvariant();
        var price = Prices.Where(p => name.StartsWith(p.Prefix, StringComparison.Ordinal)).OrderByDescending(p => p.Prefix.Length)
            .Select(p => ((decimal, decimal)?)(p.Input, p.Output)).FirstOrDefault();
        if (price is not { } p) return null;
        return Math.Round((inputTokens * p.Item1 + outputTokens * p.Item2) / 1_000_000m, 6);
    }
}
