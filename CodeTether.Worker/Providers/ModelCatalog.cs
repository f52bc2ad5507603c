namespace CodeTether.Worker.Providers;

/// <summary>A model as <c>provider:model</c> (<c>anthropic:claude-sonnet-4</c>, <c>ollama:qwen2.5-coder</c>).</summary>
public sealed record ModelRef(string Provider, string Model)
{
    public string Id => $"{Provider}:{Model}";

    public static bool TryParse(string? value, out ModelRef model)
    {
        model = null!;
        var at = value?.IndexOf(':') ?? -1;
        if (at <= 0 || at == value!.Length - 1) return false;
        model = new ModelRef(value[..at].Trim().ToLowerInvariant(), value[(at + 1)..].Trim());
        return true;
    }

    public override string ToString() => Id;
}

public static class ModelTiers
{
    public const string Fast = "fast";
    public const string Balanced = "balanced";
    public const string Best = "best";
    public static readonly IReadOnlyList<string> All = [Fast, Balanced, Best];
}

/// <summary>
/// The models this worker serves: from <c>--models</c> (<c>provider:model</c> or <c>tier=provider:model</c> entries; the first
/// is the default), <c>CODETETHER_MODEL_FAST|BALANCED|BEST</c>, or — when neither is given — one default model per provider
/// whose key is set. Tiers left unset map to the default model. <see cref="Advertised"/> is what the worker registers
/// (the server routes a task with <c>model</c> only to workers advertising it).
/// </summary>
public sealed class ModelCatalog
{
    private ModelCatalog(IReadOnlyList<ModelRef> models, IReadOnlyDictionary<string, ModelRef> tiers)
    {
        Models = models;
        Tiers = tiers;
    }

    public IReadOnlyList<ModelRef> Models { get; }
    public IReadOnlyDictionary<string, ModelRef> Tiers { get; }
    public ModelRef? Default => Models.Count > 0 ? Models[0] : null;

    public IReadOnlyList<string> Advertised =>
        Models.Count == 0 ? [] : [.. Models.Select(m => m.Id).Concat(ModelTiers.All.Where(Tiers.ContainsKey)).Distinct()];

    public static ModelCatalog Empty { get; } = new([], new Dictionary<string, ModelRef>());

    /// <summary>Builds the catalog; throws <see cref="ArgumentException"/> for unknown providers or missing keys.</summary>
    public static ModelCatalog Build(IReadOnlyList<string> entries, Func<string, string?> env)
    {
        var models = new List<ModelRef>();
        var tiers = new Dictionary<string, ModelRef>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            var eq = entry.IndexOf('=');
            var tier = eq > 0 ? entry[..eq].Trim().ToLowerInvariant() : null;
            var spec = eq > 0 ? entry[(eq + 1)..] : entry;
            if (!ModelRef.TryParse(spec, out var model))
                throw new ArgumentException($"--models entry '{entry}' is not provider:model (e.g. anthropic:claude-sonnet-4) or tier=provider:model");
            if (tier is not null && !ModelTiers.All.Contains(tier))
                throw new ArgumentException($"--models entry '{entry}': tier must be fast, balanced or best");
            if (!models.Contains(model)) models.Add(model);
            if (tier is not null) tiers[tier] = model;
        }
        foreach (var tier in ModelTiers.All)
        {
            if (tiers.ContainsKey(tier) || env("CODETETHER_MODEL_" + tier.ToUpperInvariant()) is not { Length: > 0 } value) continue;
            if (!ModelRef.TryParse(value, out var model))
                throw new ArgumentException($"CODETETHER_MODEL_{tier.ToUpperInvariant()} '{value}' is not provider:model");
            tiers[tier] = model;
            if (!models.Contains(model)) models.Add(model);
        }
        if (models.Count == 0)
            models.AddRange(ProviderRegistry.Providers.Where(p => p.DefaultModel is not null && p.IsConfigured(env))
                .Select(p => new ModelRef(p.Name, p.DefaultModel!)));
        foreach (var model in models) ProviderRegistry.Validate(model, env);
        if (models.Count > 0)
            foreach (var tier in ModelTiers.All) tiers.TryAdd(tier, tiers.GetValueOrDefault(ModelTiers.Balanced) ?? models[0]);
        return new ModelCatalog(models, tiers);
    }

    /// <summary>
    /// The model for a task's <c>model</c> field: empty → default; a tier → its model; <c>provider:model</c> → that one
    /// (also when not advertised, if its provider is configured); a bare name → the configured model with that name.
    /// </summary>
    public ModelRef? Resolve(string? requested)
    {
        if (string.IsNullOrWhiteSpace(requested)) return Default;
        var r = requested.Trim();
        if (Tiers.TryGetValue(r.ToLowerInvariant(), out var tiered)) return tiered;
        if (ModelRef.TryParse(r, out var model)) return model;
        return Models.FirstOrDefault(m => string.Equals(m.Model, r, StringComparison.OrdinalIgnoreCase));
    }
}
