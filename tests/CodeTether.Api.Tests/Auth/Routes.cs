using CodeTether.Api.Auth;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.DependencyInjection;

namespace CodeTether.Api.Tests.Auth;

/// <summary>One mapped route as a client can call it: method, a concrete path, and what it requires.</summary>
public sealed record RouteCase(string Method, string Path, string Pattern, Permission? Permission, bool Anonymous, bool AcceptsBody = false)
{
    public override string ToString() => $"{Method} {Pattern}";

    /// <summary>Every route of the host, parameters filled with <c>x</c>.</summary>
    public static List<RouteCase> All(IServiceProvider services) => All(services.GetRequiredService<EndpointDataSource>().Endpoints);

    /// <summary>The routes among these endpoints (before the host starts, read them from its <c>DataSources</c>).</summary>
    public static List<RouteCase> All(IEnumerable<Endpoint> endpoints) =>
        endpoints.OfType<RouteEndpoint>()
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"]).Select(m => new RouteCase(
                m, Concrete(e.RoutePattern), e.RoutePattern.RawText ?? "", e.Metadata.GetMetadata<RequiredPermission>()?.Permission,
                e.Metadata.GetMetadata<IAllowAnonymous>() is not null, e.Metadata.GetMetadata<Microsoft.AspNetCore.Http.Metadata.IAcceptsMetadata>() is not null)))
            .ToList();

    static string Concrete(RoutePattern p) =>
        "/" + string.Join("/", p.PathSegments.Select(s => string.Concat(s.Parts.Select(part => part switch
        {
            RoutePatternLiteralPart l => l.Content,
            RoutePatternParameterPart pp => pp.IsCatchAll ? "x/y" : pp.Name == "documentName" ? "v1" : "x",
            RoutePatternSeparatorPart sp => sp.Content,
            _ => "",
        }))));
}
