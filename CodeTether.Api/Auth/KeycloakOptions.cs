namespace CodeTether.Api.Auth;

/// <summary>
/// The identity provider for people (Keycloak, or anything OpenID Connect shaped like it). Configured when
/// <see cref="Authority"/> is set, e.g. <c>https://sso.example.com/realms/codetether</c>
/// (<c>KEYCLOAK_URL</c> + <c>KEYCLOAK_REALM</c> give the same).
/// </summary>
public sealed class KeycloakOptions
{
    public const string Section = "Keycloak";

    public string? Authority { get; set; }
    /// <summary>The dashboard's confidential client (authorization code + PKCE).</summary>
    public string ClientId { get; set; } = "codetether-dashboard";
    public string? ClientSecret { get; set; }
    /// <summary>The audience API access tokens must carry (Keycloak: an audience mapper on the clients).</summary>
    public string Audience { get; set; } = "codetether-api";
    /// <summary>Off only for a local http test provider; on for anything real.</summary>
    public bool? RequireHttpsMetadata { get; set; }

    public bool IsConfigured => !string.IsNullOrWhiteSpace(Authority);

    public override string ToString() => $"Keycloak {{ Authority = {Authority}, ClientId = {ClientId}, ClientSecret = {(ClientSecret is null ? "unset" : "***")}, Audience = {Audience} }}";
}
