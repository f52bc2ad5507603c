using System.Text.Json.Nodes;
using CodeTether.Api.Hosting;
using CodeTether.Api.Persistence;
using CodeTether.Shared.A2A;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace CodeTether.Api.A2A;

/// <summary>The agent card (public, at the well-known paths) and the richer one for authenticated callers.</summary>
public sealed class AgentCards(IOptions<A2AOptions> a2a, IOptions<HostingOptions> hosting)
{
    public const string JsonRpcPath = "/a2a/jsonrpc";
    public const string RestPath = "/a2a/rest";
    public const string HttpScheme = "http";
    public const string OidcScheme = "openIdConnect";

    public string BaseUrl(HttpRequest req) =>
        hosting.Value.PublicUrl is { Length: > 0 } url ? url.TrimEnd('/') : $"{req.Scheme}://{req.Host}{req.PathBase}";

    public AgentCard Public(HttpRequest req)
    {
        var o = a2a.Value;
        var baseUrl = BaseUrl(req);
        // Each scheme is named after its type ("http", "openIdConnect"): the TCK reads the names as types.
        var schemes = new Dictionary<string, JsonObject>
        {
            [HttpScheme] = new()
            {
                ["type"] = "http", ["scheme"] = "bearer",
                ["description"] = "An API token (A2A_AUTH_TOKENS or a per-user token) or an access token from the identity provider.",
            },
        };
        var security = new List<Dictionary<string, List<string>>> { new() { [HttpScheme] = [] } };
        if (o.OidcDiscoveryUrl is { Length: > 0 } oidc)
        {
            schemes[OidcScheme] = new JsonObject { ["type"] = "openIdConnect", ["openIdConnectUrl"] = oidc };
            security.Add(new() { [OidcScheme] = [] });
        }
        return new AgentCard
        {
            Name = o.AgentName,
            Description = o.AgentDescription,
            Url = baseUrl + JsonRpcPath,
            PreferredTransport = A2ATransports.JsonRpc,
            AdditionalInterfaces =
            [
                new AgentInterface(baseUrl + JsonRpcPath, A2ATransports.JsonRpc),
                new AgentInterface(baseUrl + RestPath, A2ATransports.HttpJson),
            ],
            Provider = new AgentProvider("CodeTether", baseUrl),
            DocumentationUrl = baseUrl + "/docs",
            Version = typeof(AgentCards).Assembly.GetName().Version?.ToString(3) ?? "1.0.0",
            Capabilities = new AgentCapabilities { Streaming = true, PushNotifications = true, StateTransitionHistory = true },
            SecuritySchemes = schemes,
            Security = security,
            DefaultInputModes = ["text/plain", "application/json", "application/octet-stream"],
            DefaultOutputModes = A2AService.OutputModes.ToList(),
            Skills =
            [
                Skill("build", "Build", "Implements changes in a codebase: edits files, runs commands and tests, commits.", ["coding", "build"],
                    "Add input validation to the signup form and a test for it"),
                Skill("plan", "Plan", "Reads a codebase and writes a plan for a change without editing it.", ["planning"],
                    "Plan the migration from REST polling to server-sent events"),
                Skill("explore", "Explore", "Answers questions about a codebase by reading it.", ["research", "code-search"],
                    "Where is the retry policy of the HTTP client configured?"),
                Skill("ralph", "Ralph", "Works through a PRD story by story until every story passes its quality checks.", ["prd", "autonomous"],
                    "Run this PRD until all user stories pass"),
            ],
            SupportsAuthenticatedExtendedCard = true,
        };
    }

    /// <summary>The card for an authenticated caller: also names the codebases of the caller's tenant as skills.</summary>
    public async Task<AgentCard> ExtendedAsync(HttpRequest req, CodeTetherDb db, CancellationToken ct)
    {
        var card = Public(req);
        var codebases = await db.Codebases.AsNoTracking().OrderBy(c => c.Name).Select(c => new { c.Id, c.Name }).Take(200).ToListAsync(ct);
        var skills = card.Skills.ToList();
        skills.AddRange(codebases.Select(c => Skill($"codebase:{c.Id}", $"Work on {c.Name}",
            $"Any agent on the codebase '{c.Name}': send the message with metadata {{\"codebase_id\": \"{c.Id}\"}}.", ["codebase", c.Name], null)));
        return card with
        {
            Description = card.Description + " This extended card lists the codebases you can address.",
            Skills = skills,
        };
    }

    static AgentSkill Skill(string id, string name, string description, List<string> tags, string? example) => new()
    {
        Id = id, Name = name, Description = description, Tags = tags, Examples = example is null ? null : [example],
    };
}
