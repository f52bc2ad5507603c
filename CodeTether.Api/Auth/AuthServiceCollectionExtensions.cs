using System.Security.Cryptography;
using CodeTether.Api.Hosting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.Mvc;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

namespace CodeTether.Api.Auth;

public static class AuthServiceCollectionExtensions
{
    /// <summary>The scheme every request is authenticated with: it forwards to the right handler (B9).</summary>
    public const string Smart = "CodeTether";
    public const string Cookie = CookieAuthenticationDefaults.AuthenticationScheme;
    public const string Oidc = OpenIdConnectDefaults.AuthenticationScheme;
    public const string Jwt = JwtBearerDefaults.AuthenticationScheme;

    public static IHostApplicationBuilder AddCodeTetherAuth(this IHostApplicationBuilder builder, HostingOptions hosting)
    {
        var keycloak = builder.Configuration.GetSection(KeycloakOptions.Section).Get<KeycloakOptions>() ?? new KeycloakOptions();
        builder.Services.AddOptions<KeycloakOptions>().BindConfiguration(KeycloakOptions.Section);
        builder.Services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.Section)
            .PostConfigure(o =>
            {
                o.AdminToken ??= LocalAdminToken.LoadOrCreate(hosting.DataDir);
                o.HasIdentityProvider |= keycloak.IsConfigured;
            });

        var auth = builder.Services.AddAuthentication(Smart)
            .AddPolicyScheme(Smart, "API token, Keycloak JWT or the dashboard cookie", o => o.ForwardDefaultSelector = http =>
            {
                if (BearerToken(http.Request) is { } token)
                    return keycloak.IsConfigured && LooksLikeJwt(token) ? Jwt : ApiTokenAuthenticationHandler.SchemeName;
                return IsApiRequest(http.Request) ? ApiTokenAuthenticationHandler.SchemeName : Cookie;
            })
            .AddScheme<AuthenticationSchemeOptions, ApiTokenAuthenticationHandler>(ApiTokenAuthenticationHandler.SchemeName, null)
            .AddCookie(Cookie, o =>
            {
                o.Cookie.Name = "codetether";
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Lax;
                o.LoginPath = "/login";
                o.LogoutPath = "/logout";
                o.ReturnUrlParameter = "returnUrl";
                o.ExpireTimeSpan = TimeSpan.FromHours(12);
                o.SlidingExpiration = true;
                o.Events.OnRedirectToLogin = ctx => IsBrowserPage(ctx.Request)
                    ? Redirect(ctx)
                    : WriteProblemAsync(ctx.HttpContext, 401, "Authentication required", "Sign in first (cookie) or send 'Authorization: Bearer <token>'.", "unauthenticated");
                o.Events.OnRedirectToAccessDenied = ctx => IsBrowserPage(ctx.Request)
                    ? SignInPages.WriteAsync(ctx.HttpContext, 403, "No access",
                        "Your account has no CodeTether role (admin, operator or viewer). Ask an administrator to grant one.", signOutLink: true)
                    : WriteProblemAsync(ctx.HttpContext, 403, "Forbidden", "Your role does not grant the permission this route requires.", "forbidden");
            });

        if (keycloak.IsConfigured)
        {
            var requireHttps = keycloak.RequireHttpsMetadata ?? keycloak.Authority!.StartsWith("https://", StringComparison.OrdinalIgnoreCase);
            auth.AddOpenIdConnect(Oidc, o =>
            {
                o.SignInScheme = Cookie;
                o.SignOutScheme = Cookie;
                o.Authority = keycloak.Authority;
                o.ClientId = keycloak.ClientId;
                o.ClientSecret = keycloak.ClientSecret;
                o.RequireHttpsMetadata = requireHttps;
                o.ResponseType = OpenIdConnectResponseType.Code; // PKCE is on by default for the code flow
                o.UsePkce = true;
                o.SaveTokens = true;
                o.MapInboundClaims = false;
                o.GetClaimsFromUserInfoEndpoint = false;
                o.Scope.Clear();
                foreach (var s in new[] { "openid", "profile", "email", "roles", "offline_access" }) o.Scope.Add(s);
                o.TokenValidationParameters.NameClaimType = "preferred_username";
                o.TokenValidationParameters.RoleClaimType = CodeTetherClaims.Role;
                o.CallbackPath = "/signin-oidc";
                o.SignedOutCallbackPath = "/signout-callback-oidc";
                o.SignedOutRedirectUri = "/logout";
            })
            .AddJwtBearer(Jwt, o =>
            {
                o.Authority = keycloak.Authority;
                o.Audience = keycloak.Audience;
                o.RequireHttpsMetadata = requireHttps;
                o.MapInboundClaims = false;
                o.TokenValidationParameters.ValidateIssuer = true;
                o.TokenValidationParameters.ValidateAudience = true;
                o.TokenValidationParameters.ValidateLifetime = true;
                o.TokenValidationParameters.ValidateIssuerSigningKey = true;
                o.TokenValidationParameters.ValidAudience = keycloak.Audience;
                o.TokenValidationParameters.NameClaimType = "preferred_username";
                o.TokenValidationParameters.RoleClaimType = CodeTetherClaims.Role;
                o.Events = new JwtBearerEvents
                {
                    OnMessageReceived = ctx =>
                    {
                        ctx.Token ??= BearerToken(ctx.Request);
                        return Task.CompletedTask;
                    },
                    OnChallenge = async ctx =>
                    {
                        ctx.HandleResponse();
                        ctx.Response.Headers.WWWAuthenticate = "Bearer";
                        await WriteProblemAsync(ctx.HttpContext, 401, "Authentication required",
                            "The access token is missing, expired, or not issued for this API.", "unauthenticated");
                    },
                    OnForbidden = ctx => WriteProblemAsync(ctx.HttpContext, 403, "Forbidden",
                        "Your role does not grant the permission this route requires.", "forbidden"),
                };
            });
            builder.Services.AddSingleton<CookieOidcRefresher>();
            builder.Services.AddOptions<CookieAuthenticationOptions>(Cookie).Configure<CookieOidcRefresher>((o, refresher) =>
                o.Events.OnValidatePrincipal = ctx => refresher.ValidateOrRefreshCookieAsync(ctx, Oidc));
        }

        builder.Services.AddTransient<IClaimsTransformation, KeycloakClaimsTransformation>();
        builder.Services.AddAuthorization(Permissions.AddPolicies);
        builder.Services.AddScoped<TenantContext>();
        return builder;
    }

    /// <summary><c>Authorization: Bearer x</c>, or <c>?access_token=x</c> on the SignalR hub (browsers cannot set headers on WebSockets).</summary>
    public static string? BearerToken(HttpRequest req)
    {
        var header = req.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return header["Bearer ".Length..].Trim();
        if (req.Path.StartsWithSegments("/hubs") && req.Query["access_token"].ToString() is { Length: > 0 } q) return q;
        return null;
    }

    static bool LooksLikeJwt(string token) => token.Count(c => c == '.') == 2 && token.StartsWith("ey", StringComparison.Ordinal);

    /// <summary>Routes for programs: they never see a sign-in redirect, only 401/403 ProblemDetails.</summary>
    public static bool IsApiPath(PathString path) =>
        path.StartsWithSegments("/v1") || path.StartsWithSegments("/a2a") || path.StartsWithSegments("/mcp") ||
        path.StartsWithSegments("/openapi") || path.StartsWithSegments("/health") || path.StartsWithSegments("/.well-known");

    /// <summary>An API path, or a JSON POST to <c>/</c> (A2A JSON-RPC at the root, as in the seed's example).</summary>
    public static bool IsApiRequest(HttpRequest req) =>
        IsApiPath(req.Path) ||
        (req.Path == "/" && HttpMethods.IsPost(req.Method) && req.ContentType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) == true);

    /// <summary>A page a person navigates to (not the hub, the circuit, or a fetch).</summary>
    static bool IsBrowserPage(HttpRequest req) =>
        !IsApiRequest(req) && !req.Path.StartsWithSegments("/hubs") && !req.Path.StartsWithSegments("/_blazor") &&
        !req.Path.StartsWithSegments("/_framework");

    static Task Redirect(RedirectContext<CookieAuthenticationOptions> ctx)
    {
        ctx.Response.Redirect(ctx.RedirectUri);
        return Task.CompletedTask;
    }

    static async Task WriteProblemAsync(HttpContext http, int status, string title, string detail, string type)
    {
        http.Response.StatusCode = status;
        if (status == 401) http.Response.Headers.WWWAuthenticate = "Bearer";
        await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails = new ProblemDetails { Status = status, Title = title, Detail = detail, Type = "https://codetether.dev/problems/" + type },
        });
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
