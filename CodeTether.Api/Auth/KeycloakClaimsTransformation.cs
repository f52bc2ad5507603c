using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace CodeTether.Api.Auth;

/// <summary>
/// Keycloak puts roles in <c>realm_access.roles</c> and <c>resource_access.&lt;client&gt;.roles</c> (JSON claims).
/// This flattens them into <c>role</c> claims named admin/operator/viewer (also accepting a <c>codetether-</c> prefix),
/// so ID tokens, access tokens and the local sign-in look the same to the permission table. Idempotent.
/// </summary>
public sealed class KeycloakClaimsTransformation(IOptionsMonitor<KeycloakOptions> keycloak) : IClaimsTransformation
{
    static readonly string[] PeopleRoles = [Roles.Admin, Roles.Operator, Roles.Viewer];

    public Task<ClaimsPrincipal> TransformAsync(ClaimsPrincipal principal)
    {
        if (principal.Identity is not ClaimsIdentity { IsAuthenticated: true } identity) return Task.FromResult(principal);
        if (!principal.HasClaim(c => c.Type is "realm_access" or "resource_access")) return Task.FromResult(principal);

        var o = keycloak.CurrentValue;
        foreach (var role in MapRoles(principal, [o.ClientId, o.Audience]))
            if (!identity.HasClaim(CodeTetherClaims.Role, role)) identity.AddClaim(new Claim(CodeTetherClaims.Role, role));
        if (!principal.HasClaim(c => c.Type == CodeTetherClaims.Tenant))
            identity.AddClaim(new Claim(CodeTetherClaims.Tenant, Tenant.DefaultId));
        if (!principal.HasClaim(c => c.Type == CodeTetherClaims.Name) && principal.FindFirst("preferred_username") is { } user)
            identity.AddClaim(new Claim(CodeTetherClaims.Name, user.Value));
        return Task.FromResult(principal);
    }

    /// <summary>The CodeTether roles among the principal's realm roles and the given clients' roles.</summary>
    public static IReadOnlyList<string> MapRoles(ClaimsPrincipal principal, IEnumerable<string?> clients)
    {
        var raw = new List<string>();
        foreach (var claim in principal.FindAll("realm_access")) raw.AddRange(RolesIn(claim.Value));
        foreach (var claim in principal.FindAll("resource_access"))
        {
            try
            {
                using var doc = JsonDocument.Parse(claim.Value);
                foreach (var client in clients.OfType<string>())
                    if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty(client, out var access))
                        raw.AddRange(RolesIn(access.GetRawText()));
            }
            catch (JsonException) { }
        }
        return raw.Select(Normalize).Where(r => r is not null).Select(r => r!).Distinct().ToList();
    }

    static IEnumerable<string> RolesIn(string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("roles", out var roles) &&
                roles.ValueKind == JsonValueKind.Array)
                return roles.EnumerateArray().Where(r => r.ValueKind == JsonValueKind.String).Select(r => r.GetString()!).ToList();
        }
        catch (JsonException) { }
        return [];
    }

    static string? Normalize(string role)
    {
        var r = role.Trim().ToLowerInvariant();
        foreach (var prefix in new[] { "codetether-", "codetether:", "codetether_" })
            if (r.StartsWith(prefix, StringComparison.Ordinal)) r = r[prefix.Length..];
        return PeopleRoles.Contains(r) ? r : null;
    }
}
