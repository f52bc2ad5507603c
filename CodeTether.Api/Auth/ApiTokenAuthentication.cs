using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace CodeTether.Api.Auth;

/// <summary>
/// <c>Authorization: Bearer &lt;token&gt;</c> against the static API tokens and the local admin token.
/// Challenges answer 401 with a ProblemDetails body, forbidden answers 403 likewise.
/// </summary>
public sealed class ApiTokenAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    IOptionsMonitor<AuthOptions> auth, IProblemDetailsService problems)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiToken";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var presented = AuthServiceCollectionExtensions.BearerToken(Request);
        if (presented is null) return Task.FromResult(AuthenticateResult.NoResult());
        if (presented.Length == 0) return Task.FromResult(AuthenticateResult.Fail("Empty bearer token."));

        var o = auth.CurrentValue;
        var match = o.Tokens.FirstOrDefault(t => SameSecret(t.Token, presented));
        if (match is null && o.AdminToken is { Length: > 0 } admin && SameSecret(admin, presented))
            match = new ApiTokenOptions { Name = "local-admin", Token = admin, Role = Roles.Admin };
        if (match is null) return Task.FromResult(AuthenticateResult.Fail("Unknown API token."));

        var identity = new ClaimsIdentity(
        [
            new Claim(CodeTetherClaims.Name, match.Name),
            new Claim(CodeTetherClaims.Role, match.Role),
            new Claim(CodeTetherClaims.Tenant, match.Tenant),
        ], SchemeName, CodeTetherClaims.Name, CodeTetherClaims.Role);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    static bool SameSecret(string expected, string presented) =>
        CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(expected)), SHA256.HashData(Encoding.UTF8.GetBytes(presented)));

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer";
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = new ProblemDetails
            {
                Status = 401,
                Title = "Authentication required",
                Detail = "Send 'Authorization: Bearer <token>' with an API token (A2A_AUTH_TOKENS) or an access token.",
                Type = "https://codetether.dev/problems/unauthenticated",
            },
        });
    }

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = new ProblemDetails
            {
                Status = 403,
                Title = "Forbidden",
                Detail = "Your role does not grant the permission this route requires.",
                Type = "https://codetether.dev/problems/forbidden",
            },
        });
    }
}
