using System.Net;
using CodeTether.Api.Auth;
using CodeTether.Api.Hosting;
using CodeTether.Testing;
using Microsoft.AspNetCore.Routing;

namespace CodeTether.Api.Tests.Auth;

/// <summary>Every endpoint states what it needs (B9): a permission from the table, or an explicit AllowAnonymous.</summary>
public sealed class RoutePermissionCoverageTests
{
    [Fact]
    public async Task EveryEndpoint_HasRequiredPermissionOrAllowAnonymous()
    {
        var dataDir = Directory.CreateTempSubdirectory("codetether-routes-").FullName;
        try
        {
            await using var app = CodeTetherHost.Build([], new Dictionary<string, string?>
            {
                ["urls"] = "http://127.0.0.1:0",
                ["Hosting:DataDir"] = dataDir,
            });

            var routes = RouteCase.All(((IEndpointRouteBuilder)app).DataSources.SelectMany(d => d.Endpoints));

            Assert.True(routes.Count > 30, $"only {routes.Count} routes found: the walk is not seeing the route groups");
            var offenders = routes.Where(r => r.Permission is null && !r.Anonymous).Select(r => r.ToString()).Distinct().Order().ToList();
            Assert.True(offenders.Count == 0,
                $"These endpoints declare neither .RequirePermission(...) nor .AllowAnonymous():\n  {string.Join("\n  ", offenders)}");
            var both = routes.Where(r => r.Permission is not null && r.Anonymous).Select(r => r.ToString()).ToList();
            Assert.True(both.Count == 0, $"These endpoints are both anonymous and permission-guarded:\n  {string.Join("\n  ", both)}");
        }
        finally
        {
            try { Directory.Delete(dataDir, recursive: true); } catch (IOException) { }
        }
    }

    [Fact]
    public async Task AnonymousEndpoints_AreOnlyHealthDocsOpenApiAndTheAgentCard()
    {
        await using var host = await ApiHost.StartAsync();
        var anonymous = RouteCase.All(host.Services).Where(r => r.Anonymous).Select(r => r.Pattern).Distinct().Order().ToList();
        Assert.All(anonymous, p => Assert.True(
            p is "/" or "/health" or "/v1/health" or "/health/live" or "/health/ready"
                or "/.well-known/agent-card.json" or "/.well-known/agent.json" // A2A discovery is public by spec
                or "/login" or "/logout" // signing in and out cannot require being signed in
                || p.StartsWith("/openapi/") || p.StartsWith("/docs"),
            $"unexpected anonymous route {p}"));
    }

    [Fact]
    public async Task OpenApiDocument_IsServedAnonymouslyAndListsTheTaskRoutes()
    {
        await using var host = await ApiHost.StartAsync();
        var res = await host.Anonymous().Get("/openapi/v1.json");

        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        Assert.Equal("application/json", res.Content.Headers.ContentType?.MediaType);
        var doc = System.Text.Json.JsonDocument.Parse(await res.BodyAsync()).RootElement;
        var paths = doc.GetProperty("paths");
        Assert.True(paths.TryGetProperty("/v1/agent/tasks", out var tasks), "OpenAPI lacks /v1/agent/tasks");
        Assert.True(tasks.TryGetProperty("post", out _));
        Assert.True(tasks.TryGetProperty("get", out _));
        Assert.True(paths.TryGetProperty("/v1/worker/tasks/claim", out _));
        Assert.True(paths.TryGetProperty("/v1/agent/workspaces", out _));
    }

    [Fact]
    public async Task Docs_AnswersAnonymously()
    {
        await using var host = await ApiHost.StartAsync();
        var res = await host.Anonymous().Get("/docs");
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        Assert.Contains("text/html", res.Content.Headers.ContentType?.ToString());
    }
}
