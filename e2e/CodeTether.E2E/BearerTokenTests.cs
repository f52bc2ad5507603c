using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace CodeTether.E2E;

/// <summary>The API takes the provider's access tokens as bearer JWTs: issuer, audience, signature and lifetime checked.</summary>
[Collection(KeycloakDashboardCollection.Name)]
public sealed class BearerTokenTests(KeycloakDashboard d)
{
    /// <summary>Code + PKCE by hand in the browser (as a CLI would), stopping at the redirect to read the code.</summary>
    async Task<string> AccessTokenAsync(string user)
    {
        var verifier = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var challenge = Convert.ToBase64String(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var redirect = d.BaseUrl + "/signin-oidc";
        var ctx = await Browser.ContextAsync(d.Browser);
        await using var _ = ctx;
        var page = await ctx.NewPageAsync();
        await page.GotoAsync($"{d.Idp.Issuer}/protocol/openid-connect/auth?client_id=codetether-dashboard&response_type=code&scope=openid%20profile%20roles" +
            $"&redirect_uri={Uri.EscapeDataString(redirect)}&code_challenge={challenge}&code_challenge_method=S256&state=s&nonce=n");
        await page.FillAsync("#username", user);
        await page.FillAsync("#password", user);
        var callback = page.WaitForRequestAsync(r => r.Url.StartsWith(redirect), new() { Timeout = 30_000 });
        await page.ClickAsync("#kc-login");
        var authCode = System.Web.HttpUtility.ParseQueryString(new Uri((await callback).Url).Query)["code"]
            ?? throw new InvalidOperationException("no code in the redirect");

        using var http = new HttpClient();
        var res = await http.PostAsync($"{d.Idp.Issuer}/protocol/openid-connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = authCode, ["redirect_uri"] = redirect, ["code_verifier"] = verifier,
            ["client_id"] = "codetether-dashboard", ["client_secret"] = "secret",
        }));
        var body = await res.Content.ReadAsStringAsync();
        Assert.True(res.IsSuccessStatusCode, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("access_token").GetString()!;
    }

    [Fact]
    public async Task KeycloakAccessToken_Admin_CanWrite_Viewer_CanOnlyRead()
    {
        var alice = d.Host.Anonymous();
        alice.DefaultRequestHeaders.Authorization = new("Bearer", await AccessTokenAsync("alice"));
        var created = await alice.PostAsJsonAsync("/v1/agent/codebases", new { name = "via-jwt", path = "/srv/e2e/jwt-" + Guid.NewGuid().ToString("N")[..6] });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        var bob = d.Host.Anonymous();
        bob.DefaultRequestHeaders.Authorization = new("Bearer", await AccessTokenAsync("bob"));
        Assert.Equal(HttpStatusCode.OK, (await bob.GetAsync("/v1/agent/codebases")).StatusCode);
        var refused = await bob.PostAsJsonAsync("/v1/agent/codebases", new { name = "nope", path = "/srv/e2e/nope" });
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
    }
}
