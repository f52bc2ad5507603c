namespace CodeTether.Api.Auth;

public sealed class AuthOptions
{
    public const string Section = "Auth";

    /// <summary>Static API tokens (<c>A2A_AUTH_TOKENS=name:token[:role],...</c>); role defaults to admin as in the seed.</summary>
    public List<ApiTokenOptions> Tokens { get; set; } = [];

    /// <summary>The local admin token (<c>CODETETHER_ADMIN_TOKEN</c>); generated into the data directory when unset.</summary>
    public string? AdminToken { get; set; }

    /// <summary>An identity provider is configured (Keycloak; the dashboard issue wires it).</summary>
    public bool HasIdentityProvider { get; set; }

    /// <summary>Local mode: no tokens and no identity provider. The host then binds to loopback only.</summary>
    public bool IsLocalMode => Tokens.Count == 0 && !HasIdentityProvider;

    public override string ToString() => $"AuthOptions {{ Tokens = {Tokens.Count}, AdminToken = {(AdminToken is null ? "unset" : "***")}, Idp = {HasIdentityProvider} }}";
}

public sealed class ApiTokenOptions
{
    public string Name { get; set; } = "";
    public string Token { get; set; } = "";
    public string Role { get; set; } = Roles.Admin;
    public string Tenant { get; set; } = Auth.Tenant.DefaultId;

    public override string ToString() => $"{Name} ({Role}, ***)";
}
