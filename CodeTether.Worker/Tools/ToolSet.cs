namespace CodeTether.Worker.Tools;

/// <summary>The built-in tools, and which of them an agent profile gets.</summary>
public static class ToolSet
{
    /// <summary>Every built-in tool (29), in the order the model sees them.</summary>
    public static IReadOnlyList<AgentTool> BuiltIn(HttpClient? http = null) =>
        [.. FileTools.All(), .. ShellTools.All(), .. GitTools.All(), TestTools.RunTests(), .. AgentTools.All(http)];

    /// <summary>
    /// Tools for an agent: <c>build</c> gets everything, <c>plan</c> and <c>explore</c> only read-only tools.
    /// <c>web_fetch</c> is left out when it is disabled.
    /// </summary>
    public static IReadOnlyList<AgentTool> For(string agent, ToolSettings settings, IEnumerable<AgentTool>? extra = null, HttpClient? http = null)
    {
        var all = BuiltIn(http).Concat(extra ?? []).Where(t => settings.WebFetch || t.Name != "web_fetch");
        return agent == Shared.Contracts.AgentNames.Build ? [.. all] : [.. all.Where(t => t.ReadOnly)];
    }
}
