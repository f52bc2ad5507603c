using System.Globalization;
using System.IdentityModel.Tokens.Jwt;
using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace CodeTether.Api.Auth;

/// <summary>
/// Silent token refresh for the cookie session (the BlazorWebAppOidc sample's approach, dotnet/aspnetcore#8175):
/// when fewer than five minutes of the access token remain, redeem the refresh token at the provider's token
/// endpoint, validate the new ID token with the handler's own parameters, and store the new tokens in the cookie.
/// A refused refresh or an invalid token signs the user out.
/// </summary>
public sealed class CookieOidcRefresher(IOptionsMonitor<OpenIdConnectOptions> oidcOptionsMonitor, ILogger<CookieOidcRefresher> log)
{
    /// <summary>Keycloak's default access-token lifespan is 5 minutes, so refresh shortly before expiry, not 5 minutes before.</summary>
    static readonly TimeSpan RefreshAhead = TimeSpan.FromSeconds(30);
    readonly OpenIdConnectProtocolValidator _validator = new() { RequireNonce = false };

    public async Task ValidateOrRefreshCookieAsync(CookieValidatePrincipalContext context, string oidcScheme)
    {
        if (!DateTimeOffset.TryParse(context.Properties.GetTokenValue("expires_at"), CultureInfo.InvariantCulture, DateTimeStyles.None, out var expiresAt))
            return;
        var oidc = oidcOptionsMonitor.Get(oidcScheme);
        var now = (oidc.TimeProvider ?? TimeProvider.System).GetUtcNow();
        if (now + RefreshAhead < expiresAt) return;

        var ct = context.HttpContext.RequestAborted;
        var config = await oidc.ConfigurationManager!.GetConfigurationAsync(ct);
        using var response = await oidc.Backchannel.PostAsync(config.TokenEndpoint, new FormUrlEncodedContent(new Dictionary<string, string?>
        {
            ["grant_type"] = "refresh_token",
            ["client_id"] = oidc.ClientId,
            ["client_secret"] = oidc.ClientSecret,
            // no "scope": the refreshed tokens keep the granted scope (RFC 6749 §6)
            ["refresh_token"] = context.Properties.GetTokenValue("refresh_token"),
        }), ct);
        if (!response.IsSuccessStatusCode)
        {
            var why = await response.Content.ReadAsStringAsync(ct);
            Log.RefreshRefused(log, (int)response.StatusCode, why.Length > 300 ? why[..300] : why);
            context.RejectPrincipal();
            return;
        }

        var message = new OpenIdConnectMessage(await response.Content.ReadAsStringAsync(ct));
        var parameters = oidc.TokenValidationParameters.Clone();
        if (oidc.ConfigurationManager is BaseConfigurationManager manager) parameters.ConfigurationManager = manager;
        else
        {
            parameters.ValidIssuer = config.Issuer;
            parameters.IssuerSigningKeys = config.SigningKeys;
        }
        var result = await oidc.TokenHandler.ValidateTokenAsync(message.IdToken, parameters);
        if (!result.IsValid || result.SecurityToken is not JsonWebToken idToken)
        {
            Log.RefreshInvalid(log, result.Exception?.Message ?? "no ID token");
            context.RejectPrincipal();
            return;
        }
        var validated = JwtSecurityTokenConverter.Convert(idToken);
        validated.Payload["nonce"] = null;
        _validator.ValidateTokenResponse(new() { ProtocolMessage = message, ClientId = oidc.ClientId, ValidatedIdToken = validated });

        context.ShouldRenew = true;
        context.ReplacePrincipal(new ClaimsPrincipal(result.ClaimsIdentity));
        var expiresIn = int.Parse(message.ExpiresIn, NumberStyles.Integer, CultureInfo.InvariantCulture);
        context.Properties.StoreTokens(
        [
            new() { Name = "access_token", Value = message.AccessToken },
            new() { Name = "id_token", Value = message.IdToken },
            new() { Name = "refresh_token", Value = message.RefreshToken ?? context.Properties.GetTokenValue("refresh_token")! },
            new() { Name = "token_type", Value = message.TokenType },
            new() { Name = "expires_at", Value = (now + TimeSpan.FromSeconds(expiresIn)).ToString("o", CultureInfo.InvariantCulture) },
        ]);
    }
}

static partial class Log
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "Token refresh refused by the identity provider ({Status}: {Error}); signing the user out")]
    public static partial void RefreshRefused(ILogger logger, int status, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refreshed ID token is invalid ({Reason}); signing the user out")]
    public static partial void RefreshInvalid(ILogger logger, string reason);
}
