using CodeTether.Api.Auth;
using CodeTether.Api.Hosting;
using Microsoft.Extensions.Configuration;

namespace CodeTether.Api.Tests.Hosting;

/// <summary>The seed's environment variables mapped into our configuration sections.</summary>
public sealed class EnvironmentCompatibilityTests
{
    static Dictionary<string, string?> Map(params (string Key, string? Value)[] values) =>
        EnvironmentCompatibility.Map(new ConfigurationBuilder()
            .AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build());

    static AuthOptions Bind(Dictionary<string, string?> mapped)
    {
        var o = new AuthOptions();
        new ConfigurationBuilder().AddInMemoryCollection(mapped).Build().GetSection(AuthOptions.Section).Bind(o);
        return o;
    }

    [Fact]
    public void DatabaseUrl_MapsToTheConnectionString()
    {
        var map = Map(("DATABASE_URL", " postgresql://u:p@db:5432/codetether "));
        Assert.Equal("postgresql://u:p@db:5432/codetether", map["Database:ConnectionString"]);
    }

    [Fact]
    public void DatabaseUrl_DoesNotOverrideAnExplicitSection()
    {
        var map = Map(("DATABASE_URL", "postgresql://u:p@db/x"), ("Database:ConnectionString", "Host=explicit"));
        Assert.False(map.ContainsKey("Database:ConnectionString"));
    }

    [Fact]
    public void OtherSeedVariables_MapToTheirSections()
    {
        var map = Map(("A2A_REDIS_URL", "redis://r:6379"), ("CODETETHER_ADMIN_TOKEN", "adm"), ("CODETETHER_DATA_DIR", "/data"),
            ("A2A_PUBLIC_URL", "https://ct.example.com"));
        Assert.Equal("redis://r:6379", map["Redis:ConnectionString"]);
        Assert.Equal("adm", map["Auth:AdminToken"]);
        Assert.Equal("/data", map["Hosting:DataDir"]);
        Assert.Equal("https://ct.example.com", map["Hosting:PublicUrl"]);
    }

    [Fact]
    public void NothingSet_MapsNothing() => Assert.Empty(Map());

    [Fact]
    public void AuthTokens_ParseNamesTokensAndRoles_DefaultRoleAdmin()
    {
        var o = Bind(Map(("A2A_AUTH_TOKENS", "ci:tok-1:operator, dash:tok-2:viewer,legacy:tok-3")));

        Assert.Equal(3, o.Tokens.Count);
        Assert.Equal(("ci", "tok-1", Roles.Operator), (o.Tokens[0].Name, o.Tokens[0].Token, o.Tokens[0].Role));
        Assert.Equal(("dash", "tok-2", Roles.Viewer), (o.Tokens[1].Name, o.Tokens[1].Token, o.Tokens[1].Role));
        Assert.Equal(("legacy", "tok-3", Roles.Admin), (o.Tokens[2].Name, o.Tokens[2].Token, o.Tokens[2].Role));
        Assert.False(o.IsLocalMode);
    }

    [Fact]
    public void AuthTokens_WorkerRole_IsKept()
    {
        var o = Bind(Map(("A2A_AUTH_TOKENS", "box:secret:worker")));
        Assert.Equal(Roles.Worker, Assert.Single(o.Tokens).Role);
    }

    [Theory]
    [InlineData("justaname")]
    [InlineData(":token-without-name")]
    [InlineData("name-without-token:")]
    [InlineData("ok:tok,broken")]
    public void AuthTokens_BadEntry_FailsWithAClearError(string value)
    {
        var ex = Assert.Throws<InvalidOperationException>(() => Map(("A2A_AUTH_TOKENS", value)));
        Assert.Contains("A2A_AUTH_TOKENS", ex.Message);
        Assert.Contains("name:token", ex.Message);
    }

    [Fact]
    public void AuthTokens_DoNotOverrideTokensConfiguredInTheSection()
    {
        var map = Map(("A2A_AUTH_TOKENS", "a:b"), ("Auth:Tokens:0:Name", "x"), ("Auth:Tokens:0:Token", "y"));
        Assert.DoesNotContain(map.Keys, k => k.StartsWith("Auth:Tokens"));
    }
}
