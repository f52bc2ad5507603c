namespace CodeTether.Api.Hosting;

public sealed class HostingOptions
{
    public const string Section = "Hosting";
    public const int DefaultPort = 8000;

    /// <summary>Where the SQLite file and the local admin token live (<c>CODETETHER_DATA_DIR</c>).</summary>
    public string DataDir { get; set; } = DefaultDataDir();

    /// <summary>The public base URL (behind a reverse proxy); used in links and the agent card.</summary>
    public string? PublicUrl { get; set; }

    public static string DefaultDataDir()
    {
        var root = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create);
        if (string.IsNullOrEmpty(root)) root = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share");
        return Path.Combine(root, "codetether");
    }
}
