using System.Security.Cryptography;
using CodeTether.Api.Hosting;
using Microsoft.AspNetCore.Authentication;

namespace CodeTether.Api.Auth;

public static class AuthServiceCollectionExtensions
{
    public static IHostApplicationBuilder AddCodeTetherAuth(this IHostApplicationBuilder builder, HostingOptions hosting)
    {
        builder.Services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.Section)
            .PostConfigure(o => o.AdminToken ??= LocalAdminToken.LoadOrCreate(hosting.DataDir));
        builder.Services.AddAuthentication(ApiTokenAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiTokenAuthenticationHandler>(ApiTokenAuthenticationHandler.SchemeName, null);
        builder.Services.AddAuthorization(Permissions.AddPolicies);
        builder.Services.AddScoped<TenantContext>();
        return builder;
    }

    /// <summary>Sets the tenant of this request from the authenticated principal, before any handler touches the database.</summary>
    public static IApplicationBuilder UseTenantFromPrincipal(this IApplicationBuilder app) => app.Use(async (http, next) =>
    {
        if (http.User.FindFirst(CodeTetherClaims.Tenant)?.Value is { Length: > 0 } tenant)
            http.RequestServices.GetRequiredService<TenantContext>().TenantId = tenant;
        await next(http);
    });
}

/// <summary>The local admin token: <c>CODETETHER_ADMIN_TOKEN</c>, else a random one kept in <c>{data}/admin-token</c> (0600).</summary>
public static class LocalAdminToken
{
    public const string FileName = "admin-token";

    public static string LoadOrCreate(string dataDir)
    {
        var path = Path.Combine(dataDir, FileName);
        if (File.Exists(path) && File.ReadAllText(path).Trim() is { Length: >= 32 } existing) return existing;
        Directory.CreateDirectory(dataDir);
        var token = "ct_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var f = new StreamWriter(path, options)) f.Write(token);
        return token;
    }
}
