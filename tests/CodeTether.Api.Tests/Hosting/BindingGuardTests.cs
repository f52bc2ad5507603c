using CodeTether.Api.Hosting;

namespace CodeTether.Api.Tests.Hosting;

/// <summary>Local mode (no tokens, no identity provider) listens on loopback only.</summary>
public sealed class BindingGuardTests
{
    [Theory]
    [InlineData("http://0.0.0.0:8000")]
    [InlineData("http://*:8000")]
    [InlineData("http://+:8000")]
    [InlineData("http://[::]:8000")]
    [InlineData("http://192.168.1.20:8000")]
    [InlineData("https://203.0.113.7")]
    [InlineData("http://example.com:80")]
    public void Check_LocalModeOnNonLoopback_RefusesWithClearMessage(string url)
    {
        var ex = Assert.Throws<StartupRefusedException>(() => BindingGuard.Check(["http://127.0.0.1:8000", url], localMode: true));
        Assert.Contains(url, ex.Message);
        Assert.Contains("A2A_AUTH_TOKENS", ex.Message);
        Assert.Contains("127.0.0.1", ex.Message);
        Assert.DoesNotContain("http://127.0.0.1:8000,", ex.Message);
    }

    [Theory]
    [InlineData("http://127.0.0.1:8000")]
    [InlineData("http://127.0.0.1")]
    [InlineData("http://localhost:5000")]
    [InlineData("http://LOCALHOST:5000/")]
    [InlineData("http://[::1]:8000")]
    [InlineData("http://127.0.0.2:9000")]
    public void Check_LocalModeOnLoopback_Allows(string url) => BindingGuard.Check([url], localMode: true);

    [Fact]
    public void Check_LocalModeWithNoUrls_Allows() => BindingGuard.Check([], localMode: true);

    [Theory]
    [InlineData("http://0.0.0.0:8000")]
    [InlineData("http://*:8000")]
    [InlineData("http://203.0.113.7:443")]
    public void Check_WithTokensConfigured_AllowsAnything(string url) => BindingGuard.Check([url, "http://127.0.0.1:1"], localMode: false);

    [Fact]
    public void Build_InLocalModeOnAllInterfaces_RefusesToStart()
    {
        var dataDir = Directory.CreateTempSubdirectory("codetether-guard-").FullName;
        try
        {
            var ex = Assert.Throws<StartupRefusedException>(() => CodeTetherHost.Build([], new Dictionary<string, string?>
            {
                ["urls"] = "http://0.0.0.0:0",
                ["Hosting:DataDir"] = dataDir,
            }));
            Assert.Contains("0.0.0.0", ex.Message);
        }
        finally
        {
            try { Directory.Delete(dataDir, recursive: true); } catch (IOException) { }
        }
    }

    [Fact]
    public async Task Build_WithTokensOnAllInterfaces_Starts()
    {
        var dataDir = Directory.CreateTempSubdirectory("codetether-guard-").FullName;
        try
        {
            await using var app = CodeTetherHost.Build([], new Dictionary<string, string?>
            {
                ["urls"] = "http://0.0.0.0:0",
                ["Hosting:DataDir"] = dataDir,
                ["Auth:Tokens:0:Name"] = "ops",
                ["Auth:Tokens:0:Token"] = "a-long-enough-token-123456",
            });
            Assert.NotNull(app);
        }
        finally
        {
            try { Directory.Delete(dataDir, recursive: true); } catch (IOException) { }
        }
    }
}
