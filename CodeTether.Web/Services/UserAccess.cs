using System.Security.Claims;

namespace CodeTether.Web.Services;

/// <summary>What the signed-in person may do in the dashboard (the server checks again on every write).</summary>
public static class UserAccess
{
    public const string RoleClaim = "role";

    public static IReadOnlyList<string> Roles(ClaimsPrincipal user) =>
        user.FindAll(RoleClaim).Select(c => c.Value).Distinct().Order().ToList();

    /// <summary>Operators and admins change things; viewers only look.</summary>
    public static bool CanWrite(ClaimsPrincipal user) => user.HasClaim(RoleClaim, "admin") || user.HasClaim(RoleClaim, "operator");

    public static string DisplayName(ClaimsPrincipal user) =>
        user.FindFirst("name")?.Value ?? user.FindFirst("preferred_username")?.Value ?? user.Identity?.Name ?? "unknown";
}
