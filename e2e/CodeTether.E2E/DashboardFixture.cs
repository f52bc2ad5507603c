using CodeTether.Testing;
using Microsoft.Playwright;

namespace CodeTether.E2E;

/// <summary>
/// The real host in-process on a loopback port, configured for the Keycloak stand-in, plus one Chromium.
/// </summary>
public sealed class KeycloakDashboard : IAsyncLifetime
{
    public ApiHost Host { get; private set; } = null!;
    public OidcStandIn Idp { get; private set; } = null!;
    public IPlaywright Playwright { get; private set; } = null!;
    public IBrowser Browser { get; private set; } = null!;
    public string BaseUrl => Host.BaseAddress.ToString().TrimEnd('/');

    public async ValueTask InitializeAsync()
    {
        var port = OidcStandIn.FreePort();
        Idp = await OidcStandIn.StartAsync($"http://127.0.0.1:{port}/signin-oidc");
        Host = await ApiHost.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Keycloak:Authority"] = Idp.Issuer,
            ["Keycloak:ClientId"] = "codetether-dashboard",
            ["Keycloak:ClientSecret"] = "secret",
            ["Keycloak:Audience"] = "codetether-api",
            ["Keycloak:RequireHttpsMetadata"] = "false",
        }, port: port);
        Playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        Browser = await E2E.Browser.LaunchAsync(Playwright);
    }

    /// <summary>A fresh browser context signed in through the stand-in's login form.</summary>
    public async Task<(IBrowserContext, IPage)> SignInAsync(string user, string path = "/", int width = 1280)
    {
        var ctx = await E2E.Browser.ContextAsync(Browser, width);
        var page = await ctx.NewPageAsync();
        await page.GotoAsync(BaseUrl + path);
        await page.WaitForSelectorAsync("#username", new() { Timeout = 30_000 });
        Assert.Contains("/realms/codetether/", page.Url);
        await page.FillAsync("#username", user);
        await page.FillAsync("#password", user);
        await page.ClickAsync("#kc-login");
        await page.WaitForURLAsync(u => u.StartsWith(BaseUrl + path.Split('?')[0]), new() { Timeout = 30_000 });
        await E2E.Browser.WaitForCircuitAsync(page);
        return (ctx, page);
    }

    public async ValueTask DisposeAsync()
    {
        await Browser.DisposeAsync();
        Playwright.Dispose();
        await Host.DisposeAsync();
        await Idp.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class KeycloakDashboardCollection : ICollectionFixture<KeycloakDashboard>
{
    public const string Name = "keycloak-dashboard";
}
