using CodeTether.Testing;

namespace CodeTether.E2E;

/// <summary>Sign-in through the Keycloak stand-in (code + PKCE + PAR), roles in the app bar, sign-out, a viewer's limits.</summary>
[Collection(KeycloakDashboardCollection.Name)]
public sealed class SignInTests(KeycloakDashboard d)
{
    [Fact]
    public async Task Admin_SignsInThroughKeycloak_SeesNameAndRolesInAppBar()
    {
        var (ctx, page) = await d.SignInAsync("alice");
        await using var _ = ctx;
        Assert.Equal("Alice Admin", (await page.InnerTextAsync("[data-testid=user-name]")).Trim());
        Assert.Equal("admin", (await page.InnerTextAsync("[data-testid=user-roles]")).Trim());
        Assert.Equal("Overview", (await page.InnerTextAsync("h1")).Trim());
    }

    [Fact]
    public async Task DeepLink_WhenSignedOut_ReturnsToThatPageAfterSignIn()
    {
        var (ctx, page) = await d.SignInAsync("alice", "/workers");
        await using var _ = ctx;
        Assert.EndsWith("/workers", page.Url);
        Assert.Equal("Workers", (await page.InnerTextAsync("h1")).Trim());
    }

    [Fact]
    public async Task SignOut_EndsTheDashboardAndKeycloakSessions()
    {
        var (ctx, page) = await d.SignInAsync("alice");
        await using var _ = ctx;
        await page.GotoAsync(d.BaseUrl + "/logout");
        await page.WaitForSelectorAsync("text=You are signed out", new() { Timeout = 30_000 });
        // Both sessions are gone: the dashboard asks the provider again, and the provider asks for the password again.
        await page.GotoAsync(d.BaseUrl + "/");
        await page.WaitForSelectorAsync("#username", new() { Timeout = 30_000 });
        Assert.Contains("/realms/codetether/", page.Url);
    }

    [Fact]
    public async Task Viewer_SeesCodebasesReadOnly_CannotRegisterOrTrigger()
    {
        await d.Host.Client().CreateCodebaseAsync("viewer-sees-this", "/srv/e2e/viewer-" + Guid.NewGuid().ToString("N")[..6]);
        var (ctx, page) = await d.SignInAsync("bob", "/codebases");
        await using var _ = ctx;
        Assert.Equal("viewer", (await page.InnerTextAsync("[data-testid=user-roles]")).Trim());
        await page.WaitForSelectorAsync("[data-testid=read-only]");
        Assert.True(await page.IsDisabledAsync("#register-codebase"));
        var triggers = page.Locator(".trigger-button");
        Assert.True(await triggers.CountAsync() > 0);
        for (var i = 0; i < await triggers.CountAsync(); i++) Assert.True(await triggers.Nth(i).IsDisabledAsync());
    }

    [Fact]
    public async Task Api_AcceptsKeycloakAccessToken_ValidatesAudience()
    {
        // The same provider's access token is a bearer JWT for the API; a random JWT-shaped string is not.
        var http = d.Host.Anonymous();
        http.DefaultRequestHeaders.Authorization = new("Bearer", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln");
        var res = await http.GetAsync("/v1/agent/tasks");
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, res.StatusCode);
        Assert.Equal("application/problem+json", res.Content.Headers.ContentType?.MediaType);
    }
}
