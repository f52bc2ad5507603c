using System.Security.Claims;
using CodeTether.Web.Services;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CodeTether.Api.Auth;

/// <summary>
/// The signed-in person behind a dashboard circuit (or its prerender request). Every port call runs in its own DI
/// scope (a circuit lives for hours; a DbContext must not) with that person's tenant, after checking the permission
/// in the same table the API uses.
/// </summary>
public sealed class DashboardUser(AuthenticationStateProvider auth, IServiceScopeFactory scopes)
{
    public async Task<ClaimsPrincipal> PrincipalAsync() => (await auth.GetAuthenticationStateAsync()).User;

    public async Task<string> TenantAsync() => Tenant(await PrincipalAsync());

    public static string Tenant(ClaimsPrincipal user) => user.FindFirst(CodeTetherClaims.Tenant)?.Value ?? Auth.Tenant.DefaultId;

    public async Task<T> RunAsync<T>(Permission permission, Func<IServiceProvider, Task<T>> work)
    {
        var user = await PrincipalAsync();
        if (user.Identity?.IsAuthenticated != true) throw new DashboardException("Sign in first.", status: 401);
        if (!Permissions.Grants(user.FindAll(CodeTetherClaims.Role).Select(c => c.Value), permission))
            throw new DashboardException("Your role does not allow this.", status: 403);
        await using var scope = scopes.CreateTenantScope(Tenant(user));
        return await work(scope.ServiceProvider);
    }

    /// <summary>The value of a REST handler's success result, or its ProblemDetails as a <see cref="DashboardException"/>.</summary>
    public static T Unwrap<T>(IResult result)
    {
        if (result is INestedHttpResult nested) result = nested.Result;
        return result switch
        {
            IValueHttpResult<T> { Value: { } v } => v,
            ValidationProblem v => throw new DashboardException(v.ProblemDetails.Title ?? "Invalid input", v.ProblemDetails.Errors.ToDictionary(), 400),
            ProblemHttpResult p => throw new DashboardException(
                string.Join(" ", new[] { p.ProblemDetails.Title, p.ProblemDetails.Detail }.Where(s => !string.IsNullOrEmpty(s))), status: p.StatusCode),
            _ => throw new InvalidOperationException($"Unexpected result {result.GetType().Name}."),
        };
    }

    public static void EnsureSuccess(IResult result)
    {
        if (result is INestedHttpResult nested) result = nested.Result;
        if (result is ProblemHttpResult p)
            throw new DashboardException(string.Join(" ", new[] { p.ProblemDetails.Title, p.ProblemDetails.Detail }.Where(s => !string.IsNullOrEmpty(s))), status: p.StatusCode);
    }
}
