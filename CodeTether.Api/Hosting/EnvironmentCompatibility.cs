namespace CodeTether.Api.Hosting;

/// <summary>
/// The seed's environment variables, mapped into our configuration sections in one place. An explicitly set
/// section key (appsettings, <c>Section__Key</c> variables, command line) wins over the seed variable.
/// <list type="table">
/// <item><c>DATABASE_URL</c> → <c>Database:ConnectionString</c> (PostgreSQL URL or key=value)</item>
/// <item><c>A2A_AUTH_TOKENS</c> → <c>Auth:Tokens</c> (<c>name:token[:role],...</c>)</item>
/// <item><c>CODETETHER_ADMIN_TOKEN</c> → <c>Auth:AdminToken</c></item>
/// <item><c>CODETETHER_DATA_DIR</c> → <c>Hosting:DataDir</c></item>
/// <item><c>CODETETHER_PUBLIC_URL</c> / <c>A2A_PUBLIC_URL</c> → <c>Hosting:PublicUrl</c></item>
/// <item><c>A2A_REDIS_URL</c> → <c>Redis:ConnectionString</c> (the scale-out issue wires the Redis bus)</item>
/// <item><c>KEYCLOAK_URL</c> + <c>KEYCLOAK_REALM</c> (default <c>codetether</c>) → <c>Keycloak:Authority</c> (<c>{url}/realms/{realm}</c>)</item>
/// <item><c>KEYCLOAK_CLIENT_ID</c>, <c>KEYCLOAK_CLIENT_SECRET</c>, <c>KEYCLOAK_AUDIENCE</c> → <c>Keycloak:ClientId</c>, <c>:ClientSecret</c>, <c>:Audience</c></item>
/// </list>
/// </summary>
public static class EnvironmentCompatibility
{
    public static Dictionary<string, string?> Map(IConfiguration config)
    {
        var map = new Dictionary<string, string?>();
        void Set(string key, string? value)
        {
            if (!string.IsNullOrWhiteSpace(value) && string.IsNullOrEmpty(config[key])) map[key] = value.Trim();
        }

        Set("Database:ConnectionString", config["DATABASE_URL"]);
        Set("Auth:AdminToken", config["CODETETHER_ADMIN_TOKEN"]);
        Set("Hosting:DataDir", config["CODETETHER_DATA_DIR"]);
        Set("Hosting:PublicUrl", config["CODETETHER_PUBLIC_URL"] ?? config["A2A_PUBLIC_URL"]);
        Set("Redis:ConnectionString", config["A2A_REDIS_URL"]);
        if (config["KEYCLOAK_URL"] is { Length: > 0 } keycloakUrl)
        {
            var url = keycloakUrl.Trim().TrimEnd('/');
            Set("Keycloak:Authority", url.Contains("/realms/", StringComparison.Ordinal) ? url
                : $"{url}/realms/{(string.IsNullOrWhiteSpace(config["KEYCLOAK_REALM"]) ? "codetether" : config["KEYCLOAK_REALM"]!.Trim())}");
        }
        Set("Keycloak:ClientId", config["KEYCLOAK_CLIENT_ID"]);
        Set("Keycloak:ClientSecret", config["KEYCLOAK_CLIENT_SECRET"]);
        Set("Keycloak:Audience", config["KEYCLOAK_AUDIENCE"]);

        if (config["A2A_AUTH_TOKENS"] is { Length: > 0 } tokens && !config.GetSection("Auth:Tokens").GetChildren().Any())
        {
            var i = 0;
            foreach (var entry in tokens.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var parts = entry.Split(':', 3);
                if (parts.Length < 2 || parts[0].Length == 0 || parts[1].Length == 0)
                    throw new InvalidOperationException("A2A_AUTH_TOKENS must look like 'name:token[:role],name2:token2' (an entry has no name or token).");
                map[$"Auth:Tokens:{i}:Name"] = parts[0];
                map[$"Auth:Tokens:{i}:Token"] = parts[1];
                if (parts.Length == 3) map[$"Auth:Tokens:{i}:Role"] = parts[2];
                i++;
            }
        }
        return map;
    }
}
