using CodeTether.Api.Auth;
using CodeTether.Shared.A2A;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace CodeTether.Api.A2A;

public static class A2AEndpoints
{
    public static WebApplicationBuilder AddA2A(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<A2AOptions>().BindConfiguration(A2AOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<AgentCards>();
        builder.Services.AddSingleton<WebhookGuard>();
        builder.Services.AddScoped<A2AService>();
        builder.Services.AddScoped<PushConfigs>();
        builder.Services.AddHttpClient(PushNotifier.ClientName)
            .ConfigurePrimaryHttpMessageHandler(sp => new SocketsHttpHandler
            {
                ConnectCallback = sp.GetRequiredService<WebhookGuard>().ConnectAsync,
                AllowAutoRedirect = false, // a redirect could lead anywhere: the guard only sees the first host
                PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            });
        builder.Services.AddSingleton<PushNotifier>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<PushNotifier>());
        return builder;
    }

    public static IEndpointRouteBuilder MapA2A(this IEndpointRouteBuilder app)
    {
        app.MapGet("/.well-known/agent-card.json", Card).AllowAnonymous().WithTags("A2A").WithName("A2AAgentCard");
        app.MapGet("/.well-known/agent.json", Card).AllowAnonymous().WithTags("A2A").WithName("A2AAgentCardLegacy");

        // Every caller with a token may read; the write methods check TasksWrite per call (JSON-RPC has one route).
        app.MapPost("/a2a/jsonrpc", JsonRpcEndpoint.HandleAsync).RequirePermission(Permission.TasksRead).WithTags("A2A").WithName("A2AJsonRpc");
        // The dashboard also lives at "/" (Blazor maps GET and POST there): a JSON POST to "/" is A2A (the seed's
        // example), ordered ahead of the page; form posts still reach the dashboard.
        app.MapPost("/", JsonRpcEndpoint.HandleAsync).RequirePermission(Permission.TasksRead).WithTags("A2A").WithName("A2AJsonRpcRoot")
            .Accepts<System.Text.Json.JsonElement>("application/json").WithOrder(-1);

        RestEndpoints.Map(app.MapGroup(AgentCards.RestPath).WithTags("A2A REST"));
        return app;
    }

    static JsonHttpResult<AgentCard> Card(HttpRequest req, AgentCards cards) => TypedResults.Json(cards.Public(req), A2AJson.Options);
}
