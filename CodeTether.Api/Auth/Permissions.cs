using Microsoft.AspNetCore.Authorization;

namespace CodeTether.Api.Auth;

public enum Permission
{
    CodebasesRead,
    CodebasesWrite,
    TasksRead,
    TasksWrite,
    WorkersRead,
    /// <summary>Register, stream, claim, renew, release, sync sessions: what a worker daemon does.</summary>
    WorkerProtocol,
    SessionsRead,
    /// <summary>Open the dashboard (pages, the circuit, its assets): people, not worker daemons.</summary>
    Dashboard,
    Admin,
}

public static class Roles
{
    public const string Admin = "admin";
    public const string Operator = "operator";
    public const string Viewer = "viewer";
    /// <summary>A worker daemon's token: the worker protocol and nothing else.</summary>
    public const string Worker = "worker";

    public static readonly IReadOnlyList<string> All = [Admin, Operator, Viewer, Worker];
}

/// <summary>
/// The route-permission table: which role holds which permission. Every endpoint declares one permission
/// (<see cref="PermissionEndpointExtensions.RequirePermission{T}"/>) or is explicitly anonymous; a test walks all
/// endpoints to keep it that way.
/// </summary>
public static class Permissions
{
    public static readonly IReadOnlyDictionary<string, IReadOnlySet<Permission>> ByRole = new Dictionary<string, IReadOnlySet<Permission>>
    {
        [Roles.Admin] = Enum.GetValues<Permission>().ToHashSet(),
        [Roles.Operator] = new HashSet<Permission>
        {
            Permission.CodebasesRead, Permission.CodebasesWrite, Permission.TasksRead, Permission.TasksWrite,
            Permission.WorkersRead, Permission.WorkerProtocol, Permission.SessionsRead, Permission.Dashboard,
        },
        [Roles.Viewer] = new HashSet<Permission>
        {
            Permission.CodebasesRead, Permission.TasksRead, Permission.WorkersRead, Permission.SessionsRead, Permission.Dashboard,
        },
        [Roles.Worker] = new HashSet<Permission> { Permission.WorkerProtocol, Permission.CodebasesRead, Permission.TasksRead },
    };

    public static string PolicyName(Permission p) => "perm:" + p;

    public static bool Grants(IEnumerable<string> roles, Permission p) =>
        roles.Any(r => ByRole.TryGetValue(r, out var set) && set.Contains(p));

    public static void AddPolicies(AuthorizationOptions o)
    {
        foreach (var p in Enum.GetValues<Permission>())
            o.AddPolicy(PolicyName(p), b => b.RequireAuthenticatedUser().RequireAssertion(ctx =>
                Grants(ctx.User.FindAll(CodeTetherClaims.Role).Select(c => c.Value), p)));
        o.FallbackPolicy = new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build();
    }
}

/// <summary>Endpoint metadata naming the permission a route needs (read by the coverage test and OpenAPI).</summary>
public sealed record RequiredPermission(Permission Permission);

public static class PermissionEndpointExtensions
{
    public static TBuilder RequirePermission<TBuilder>(this TBuilder b, Permission p) where TBuilder : IEndpointConventionBuilder =>
        b.WithMetadata(new RequiredPermission(p)).RequireAuthorization(Permissions.PolicyName(p));
}

public static class CodeTetherClaims
{
    public const string Role = "role";
    public const string Tenant = "tenant";
    public const string Name = "name";
}
