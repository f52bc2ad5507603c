using System.Net;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace CodeTether.Api.Auth;

/// <summary>
/// <c>/login</c> and <c>/logout</c> for people. With Keycloak: a challenge (code + PKCE) and an RP-initiated logout
/// that also ends the Keycloak session. In local mode: <c>/login?token=&lt;admin token&gt;</c> (the link printed at
/// start) signs in with a cookie as admin; a static API token signs in with its own role and tenant.
/// </summary>
public static class SignInEndpoints
{
    public static IEndpointRouteBuilder MapSignIn(this IEndpointRouteBuilder app)
    {
        app.MapGet("/login", Login).AllowAnonymous().ExcludeFromDescription().WithName("Login");
        app.MapMethods("/logout", ["GET", "POST"], Logout).AllowAnonymous().DisableAntiforgery().ExcludeFromDescription().WithName("Logout");
        return app;
    }

    static async Task<IResult> Login(HttpContext http, string? token, string? returnUrl, IOptions<AuthOptions> auth, IOptions<KeycloakOptions> keycloak)
    {
        var target = LocalOnly(returnUrl);
        if (keycloak.Value.IsConfigured)
            return Results.Challenge(new AuthenticationProperties { RedirectUri = target }, [AuthServiceCollectionExtensions.Oidc]);

        if (string.IsNullOrEmpty(token))
        {
            if (http.User.Identity?.IsAuthenticated == true) return Results.LocalRedirect(target);
            await SignInPages.WriteAsync(http, 401, "Sign in to CodeTether",
                "This server runs in local mode. Open the one-time sign-in link it printed when it started (http://…/login?token=…).");
            return Results.Empty;
        }

        var o = auth.Value;
        ClaimsIdentity? identity = null;
        if (o.AdminToken is { Length: > 0 } admin && Same(admin, token))
            identity = Identity("admin", "Local admin", Roles.Admin, Tenant.DefaultId);
        else if (o.Tokens.FirstOrDefault(t => Same(t.Token, token) && t.Role != Roles.Worker) is { } api)
            identity = Identity(api.Name, api.Name, api.Role, api.Tenant);
        if (identity is null)
        {
            await SignInPages.WriteAsync(http, 401, "That sign-in link is not valid",
                "Use the link the server printed at start, or ask whoever runs it for a fresh one.");
            return Results.Empty;
        }
        await http.SignInAsync(AuthServiceCollectionExtensions.Cookie, new ClaimsPrincipal(identity),
            new AuthenticationProperties { IsPersistent = true });
        return Results.LocalRedirect(target);
    }

    static async Task<IResult> Logout(HttpContext http, IOptions<KeycloakOptions> keycloak)
    {
        var signedIn = (await http.AuthenticateAsync(AuthServiceCollectionExtensions.Cookie)).Succeeded;
        if (signedIn)
        {
            var props = new AuthenticationProperties { RedirectUri = "/logout" };
            return keycloak.Value.IsConfigured
                ? Results.SignOut(props, [AuthServiceCollectionExtensions.Cookie, AuthServiceCollectionExtensions.Oidc])
                : Results.SignOut(props, [AuthServiceCollectionExtensions.Cookie]);
        }
        await SignInPages.WriteAsync(http, 200, "You are signed out",
            keycloak.Value.IsConfigured ? "Your CodeTether and single sign-on sessions have ended." : "Your CodeTether session has ended.",
            signInLink: true);
        return Results.Empty;
    }

    static ClaimsIdentity Identity(string id, string name, string role, string tenant) => new(
    [
        new Claim("sub", id),
        new Claim(CodeTetherClaims.Name, name),
        new Claim(CodeTetherClaims.Role, role),
        new Claim(CodeTetherClaims.Tenant, tenant),
    ], AuthServiceCollectionExtensions.Cookie, CodeTetherClaims.Name, CodeTetherClaims.Role);

    static bool Same(string expected, string presented) =>
        CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(expected)), SHA256.HashData(Encoding.UTF8.GetBytes(presented)));

    /// <summary>Open-redirect guard: only a path on this host.</summary>
    public static string LocalOnly(string? returnUrl) =>
        returnUrl is { Length: > 0 } && returnUrl.StartsWith('/') && !returnUrl.StartsWith("//") && !returnUrl.StartsWith("/\\") ? returnUrl : "/";
}

/// <summary>The few pages shown outside the dashboard (signed out, bad link, no role): plain HTML, no scripts.</summary>
public static class SignInPages
{
    public static async Task WriteAsync(HttpContext http, int status, string title, string text, bool signInLink = false, bool signOutLink = false)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "text/html; charset=utf-8";
        var link = signInLink ? "<p><a href=\"/login\">Sign in again</a></p>" : signOutLink ? "<p><a href=\"/logout\">Sign out</a></p>" : "";
        await http.Response.WriteAsync($$"""
            <!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>{{WebUtility.HtmlEncode(title)}} · CodeTether</title>
            <style>body{font-family:system-ui,sans-serif;background:#f5f6fa;color:#1f2330;display:grid;place-items:center;min-height:100vh;margin:0}
            main{background:#fff;padding:2rem 2.5rem;border-radius:12px;box-shadow:0 2px 12px #0002;max-width:32rem}
            h1{font-size:1.4rem;margin:0 0 .75rem}.brand{color:#5b4fe0;font-weight:700;letter-spacing:.02em}a{color:#5b4fe0}</style></head>
            <body><main><div class="brand">CodeTether</div><h1>{{WebUtility.HtmlEncode(title)}}</h1><p>{{WebUtility.HtmlEncode(text)}}</p>{{link}}</main></body></html>
            """);
    }
}
