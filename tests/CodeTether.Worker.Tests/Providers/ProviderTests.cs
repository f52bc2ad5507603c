using CodeTether.Worker.Providers;
using Microsoft.Extensions.AI;

namespace CodeTether.Worker.Tests.Providers;

public sealed class ProviderTests
{
    private static Func<string, string?> Env(params (string Key, string Value)[] values) =>
        k => values.FirstOrDefault(v => v.Key == k).Value;

    [Theory]
    [InlineData("anthropic:claude-sonnet-4", "anthropic", "claude-sonnet-4")]
    [InlineData("openrouter:anthropic/claude-sonnet-4", "openrouter", "anthropic/claude-sonnet-4")]
    [InlineData("OLLAMA:qwen2.5-coder:7b", "ollama", "qwen2.5-coder:7b")]
    public void ModelRef_ParsesProviderAndModel(string text, string provider, string model)
    {
        Assert.True(ModelRef.TryParse(text, out var m));
        Assert.Equal((provider, model), (m.Provider, m.Model));
    }

    [Theory]
    [InlineData("gpt-4.1")]
    [InlineData(":x")]
    [InlineData("openai:")]
    public void ModelRef_RejectsMalformed(string text) => Assert.False(ModelRef.TryParse(text, out _));

    [Fact]
    public void Catalog_MapsTiers_AndAdvertisesModelsAndTiers()
    {
        var catalog = ModelCatalog.Build(["anthropic:claude-sonnet-4", "fast=openai:gpt-4.1-mini", "best=anthropic:claude-opus-4"],
            Env(("ANTHROPIC_API_KEY", "a"), ("OPENAI_API_KEY", "o")));

        Assert.Equal("anthropic:claude-sonnet-4", catalog.Default!.Id);
        Assert.Equal(["anthropic:claude-sonnet-4", "openai:gpt-4.1-mini", "anthropic:claude-opus-4", "fast", "balanced", "best"], catalog.Advertised);
        Assert.Equal("openai:gpt-4.1-mini", catalog.Resolve("fast")!.Id);
        Assert.Equal("anthropic:claude-sonnet-4", catalog.Resolve("balanced")!.Id);
        Assert.Equal("anthropic:claude-opus-4", catalog.Resolve("best")!.Id);
        Assert.Equal("anthropic:claude-sonnet-4", catalog.Resolve(null)!.Id);
        Assert.Equal("openai:gpt-4.1-mini", catalog.Resolve("gpt-4.1-mini")!.Id);
        Assert.Equal("openai:o3", catalog.Resolve("openai:o3")!.Id);
        Assert.Null(catalog.Resolve("unknown-model"));
    }

    [Fact]
    public void Catalog_TiersFromEnvironment_AndDefaultsFromProviderKeys()
    {
        var tiers = ModelCatalog.Build([], Env(("CODETETHER_MODEL_FAST", "ollama:qwen2.5-coder"), ("OLLAMA_BASE_URL", "http://gpu:11434")));
        var fromKeys = ModelCatalog.Build([], Env(("ANTHROPIC_API_KEY", "a"), ("DEEPSEEK_API_KEY", "d")));

        Assert.Equal("ollama:qwen2.5-coder", tiers.Resolve("fast")!.Id);
        Assert.Equal(["anthropic:claude-sonnet-4-0", "deepseek:deepseek-chat"], fromKeys.Models.Select(m => m.Id));
        Assert.Empty(ModelCatalog.Build([], Env()).Advertised);
    }

    [Fact]
    public void Catalog_RefusesUnknownProvidersMissingKeysAndBadTiers()
    {
        Assert.Contains("unknown provider 'acme'", Assert.Throws<ArgumentException>(() => ModelCatalog.Build(["acme:x"], Env())).Message);
        Assert.Contains("needs ANTHROPIC_API_KEY", Assert.Throws<ArgumentException>(() => ModelCatalog.Build(["anthropic:claude"], Env())).Message);
        Assert.Contains("GOOGLE_GENERATIVE_AI_API_KEY or GEMINI_API_KEY", Assert.Throws<ArgumentException>(() => ModelCatalog.Build(["google:gemini-2.5-pro"], Env())).Message);
        Assert.Contains("AZURE_OPENAI_ENDPOINT", Assert.Throws<ArgumentException>(() => ModelCatalog.Build(["azure:gpt-4.1"], Env(("AZURE_OPENAI_API_KEY", "k")))).Message);
        Assert.Contains("tier must be", Assert.Throws<ArgumentException>(() => ModelCatalog.Build(["huge=openai:x"], Env(("OPENAI_API_KEY", "k")))).Message);
        Assert.Contains("not provider:model", Assert.Throws<ArgumentException>(() => ModelCatalog.Build(["gpt-4.1"], Env())).Message);
    }

    [Theory]
    [InlineData("anthropic:claude-sonnet-4", "ANTHROPIC_API_KEY", "anthropic", "https://api.anthropic.com")]
    [InlineData("openai:gpt-4.1", "OPENAI_API_KEY", "openai", "https://api.openai.com/v1")]
    [InlineData("google:gemini-2.5-flash", "GOOGLE_GENERATIVE_AI_API_KEY", "openai", "https://generativelanguage.googleapis.com/v1beta/openai")]
    [InlineData("deepseek:deepseek-chat", "DEEPSEEK_API_KEY", "openai", "https://api.deepseek.com/v1")]
    [InlineData("xai:grok-4", "XAI_API_KEY", "openai", "https://api.x.ai/v1")]
    [InlineData("openrouter:anthropic/claude-sonnet-4", "OPENROUTER_API_KEY", "openai", "https://openrouter.ai/api/v1")]
    [InlineData("ollama:qwen2.5-coder", "NONE", "openai", "http://localhost:11434/v1")]
    public void Create_PicksTheSdkAndEndpointPerProvider(string model, string keyVariable, string sdk, string endpoint)
    {
        Assert.True(ModelRef.TryParse(model, out var m));

        using var client = ProviderRegistry.Create(m, Env((keyVariable, "test-key")));

        var meta = client.GetService<ChatClientMetadata>()!;
        Assert.Equal(sdk, meta.ProviderName);
        Assert.Equal(m.Model, meta.DefaultModelId);
        Assert.StartsWith(endpoint, meta.ProviderUri!.ToString().TrimEnd('/'));
    }

    [Fact]
    public void Create_HonoursBaseUrlOverrides_AndAzureEndpoints()
    {
        Assert.True(ModelRef.TryParse("openai:gpt-test", out var openai));
        Assert.True(ModelRef.TryParse("azure:my-deployment", out var azure));

        using var custom = ProviderRegistry.Create(openai, Env(("OPENAI_API_KEY", "k"), ("OPENAI_BASE_URL", "http://127.0.0.1:9999/v1")));
        using var az = ProviderRegistry.Create(azure, Env(("AZURE_OPENAI_KEY", "k"), ("AZURE_OPENAI_ENDPOINT", "https://res.openai.azure.com/")));

        Assert.Equal("http://127.0.0.1:9999/v1", custom.GetService<ChatClientMetadata>()!.ProviderUri!.ToString().TrimEnd('/'));
        Assert.Equal("https://res.openai.azure.com/openai/v1", az.GetService<ChatClientMetadata>()!.ProviderUri!.ToString().TrimEnd('/'));
    }

    [Fact]
    public void Pricing_EstimatesKnownModels_ZeroForLocal_NullForUnknown()
    {
        Assert.Equal(0.0105m, ModelPricing.EstimateUsd(new ModelRef("anthropic", "claude-sonnet-4-0"), 1000, 500));
        Assert.Equal(0.0105m, ModelPricing.EstimateUsd(new ModelRef("openrouter", "anthropic/claude-sonnet-4"), 1000, 500));
        Assert.Equal(0.0006m, ModelPricing.EstimateUsd(new ModelRef("openai", "gpt-4.1-mini"), 1000, 125));
        Assert.Equal(0m, ModelPricing.EstimateUsd(new ModelRef("ollama", "qwen2.5-coder"), 1000, 500));
        Assert.Null(ModelPricing.EstimateUsd(new ModelRef("openai", "gpt-test"), 1000, 500));
    }
}
