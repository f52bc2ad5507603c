using System.ClientModel;
using System.ClientModel.Primitives;
using Anthropic;
using Microsoft.Extensions.AI;
using OpenAI;

namespace CodeTether.Worker.Providers;

/// <summary>One LLM vendor: where its key and base URL come from, and its default model.</summary>
public sealed record ProviderInfo(string Name, IReadOnlyList<string> KeyVariables, string? BaseUrlVariable, string? DefaultBaseUrl,
    string? DefaultModel, bool KeyRequired = true)
{
    public string? Key(Func<string, string?> env) =>
        KeyVariables.Select(env).FirstOrDefault(v => !string.IsNullOrWhiteSpace(v))?.Trim();

    public string? BaseUrl(Func<string, string?> env) =>
        (BaseUrlVariable is null ? null : env(BaseUrlVariable)) is { Length: > 0 } url ? url.Trim() : DefaultBaseUrl;

    public bool IsConfigured(Func<string, string?> env) =>
        (!KeyRequired || Key(env) is not null) && BaseUrl(env) is not null;
}

/// <summary>
/// Creates an <see cref="IChatClient"/> per <c>provider:model</c>: Anthropic through the official SDK's <c>AsIChatClient</c>;
/// OpenAI and every OpenAI-compatible vendor (Azure OpenAI v1, Google Gemini's OpenAI endpoint, DeepSeek, xAI,
/// OpenRouter, Ollama, vLLM, LM Studio) through the official OpenAI SDK with a base URL.
/// </summary>
public static class ProviderRegistry
{
    public const int MaxOutputTokens = 8192;

    public static readonly IReadOnlyList<ProviderInfo> Providers =
    [
        new("anthropic", ["ANTHROPIC_API_KEY"], "ANTHROPIC_BASE_URL", "https://api.anthropic.com", "claude-sonnet-4-0"),
        new("openai", ["OPENAI_API_KEY"], "OPENAI_BASE_URL", "https://api.openai.com/v1", "gpt-4.1"),
        new("azure", ["AZURE_OPENAI_API_KEY", "AZURE_OPENAI_KEY"], "AZURE_OPENAI_ENDPOINT", null, null),
        new("google", ["GOOGLE_GENERATIVE_AI_API_KEY", "GEMINI_API_KEY"], "GOOGLE_BASE_URL",
            "https://generativelanguage.googleapis.com/v1beta/openai", "gemini-2.5-pro"),
        new("deepseek", ["DEEPSEEK_API_KEY"], "DEEPSEEK_BASE_URL", "https://api.deepseek.com/v1", "deepseek-chat"),
        new("xai", ["XAI_API_KEY"], "XAI_BASE_URL", "https://api.x.ai/v1", "grok-4"),
        new("openrouter", ["OPENROUTER_API_KEY"], "OPENROUTER_BASE_URL", "https://openrouter.ai/api/v1", "anthropic/claude-sonnet-4"),
        new("ollama", ["OLLAMA_API_KEY"], "OLLAMA_BASE_URL", null, null, KeyRequired: false),
        new("vllm", ["VLLM_API_KEY"], "VLLM_BASE_URL", null, null, KeyRequired: false),
        new("lmstudio", ["LMSTUDIO_API_KEY"], "LMSTUDIO_BASE_URL", null, null, KeyRequired: false),
    ];

    /// <summary>Environment variables that hold secrets of the providers (redacted, and hidden from tool processes).</summary>
    public static IEnumerable<string> SecretVariables => Providers.SelectMany(p => p.KeyVariables);

    public static ProviderInfo? Find(string name) => Providers.FirstOrDefault(p => p.Name == name);

    /// <summary>Throws <see cref="ArgumentException"/> naming the variable to set when the model cannot be served.</summary>
    public static void Validate(ModelRef model, Func<string, string?> env)
    {
        var provider = Find(model.Provider)
            ?? throw new ArgumentException($"unknown provider '{model.Provider}' in '{model.Id}'; known: {string.Join(", ", Providers.Select(p => p.Name))}");
        if (provider.KeyRequired && provider.Key(env) is null)
            throw new ArgumentException($"model '{model.Id}' needs {string.Join(" or ", provider.KeyVariables)} in the environment");
        if (provider.Name == "azure" && provider.BaseUrl(env) is null)
            throw new ArgumentException($"model '{model.Id}' needs AZURE_OPENAI_ENDPOINT (https://<resource>.openai.azure.com)");
    }

    public static IChatClient Create(ModelRef model, Func<string, string?> env)
    {
        Validate(model, env);
        var provider = Find(model.Provider)!;
        var key = provider.Key(env);
        if (provider.Name == "anthropic")
        {
            var anthropic = new AnthropicClient { ApiKey = key!, BaseUrl = provider.BaseUrl(env)!.TrimEnd('/') };
            return anthropic.AsIChatClient(model.Model, MaxOutputTokens);
        }

        var baseUrl = provider.Name switch
        {
            "azure" => provider.BaseUrl(env)!.TrimEnd('/') + "/openai/v1/",
            "ollama" => (provider.BaseUrl(env) ?? "http://localhost:11434").TrimEnd('/') + "/v1",
            "vllm" => provider.BaseUrl(env) ?? "http://localhost:8000/v1",
            "lmstudio" => provider.BaseUrl(env) ?? "http://localhost:1234/v1",
            _ => provider.BaseUrl(env)!,
        };
        var options = new OpenAIClientOptions { Endpoint = new Uri(baseUrl) };
        if (provider.Name == "azure") options.AddPolicy(new AzureApiKeyPolicy(key!), PipelinePosition.BeforeTransport);
        var client = new OpenAIClient(new ApiKeyCredential(key ?? "none"), options);
        return client.GetChatClient(model.Model).AsIChatClient();
    }

    /// <summary>Azure OpenAI's v1 API takes the key in an <c>api-key</c> header rather than as a bearer token.</summary>
    private sealed class AzureApiKeyPolicy(string key) : PipelinePolicy
    {
        public override void Process(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
        {
            Apply(message);
            ProcessNext(message, pipeline, currentIndex);
        }

        public override ValueTask ProcessAsync(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
        {
            Apply(message);
            return ProcessNextAsync(message, pipeline, currentIndex);
        }

        private void Apply(PipelineMessage message)
        {
            message.Request.Headers.Remove("Authorization");
            message.Request.Headers.Set("api-key", key);
        }
    }
}
