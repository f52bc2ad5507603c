using System.Net.Http.Headers;
using CodeTether.Api.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CodeTether.Testing;

/// <summary>
/// The real host, in-process, listening on a random loopback port (real Kestrel, real SSE), with its own data
/// directory and database. Tokens: the local admin token plus one per role.
/// </summary>
public sealed class ApiHost : IAsyncDisposable
{
    public const string OperatorToken = "op-token-0123456789";
    public const string ViewerToken = "viewer-token-0123456789";
    public const string WorkerToken = "worker-token-0123456789";
    public const string OtherTenantToken = "other-tenant-token-0123456789";

    ApiHost(WebApplication app, TestDatabase db, string dataDir, bool ownsDb)
    {
        App = app;
        Database = db;
        DataDir = dataDir;
        _ownsDb = ownsDb;
        BaseAddress = new Uri(app.Urls.First(u => u.StartsWith("http://")));
    }

    readonly bool _ownsDb;
    public WebApplication App { get; }
    public TestDatabase Database { get; }
    public string DataDir { get; }
    public Uri BaseAddress { get; }
    public string AdminToken => File.ReadAllText(Path.Combine(DataDir, "admin-token")).Trim();
    public IServiceProvider Services => App.Services;

    /// <summary>Starts a host. Pass <paramref name="db"/> and <paramref name="dataDir"/> to restart on the same data.</summary>
    public static async Task<ApiHost> StartAsync(DbKind kind = DbKind.Sqlite, IReadOnlyDictionary<string, string?>? settings = null,
        TestDatabase? db = null, string? dataDir = null, int port = 0)
    {
        var ownsDb = db is null;
        db ??= await TestDatabase.CreateAsync(kind);
        dataDir ??= Directory.CreateTempSubdirectory("codetether-test-").FullName;
        var config = new Dictionary<string, string?>
        {
            ["urls"] = $"http://127.0.0.1:{port}",
            ["Hosting:DataDir"] = dataDir,
            ["Database:ConnectionString"] = db.ConnectionString,
            ["Auth:Tokens:0:Name"] = "operator", ["Auth:Tokens:0:Token"] = OperatorToken, ["Auth:Tokens:0:Role"] = "operator",
            ["Auth:Tokens:1:Name"] = "viewer", ["Auth:Tokens:1:Token"] = ViewerToken, ["Auth:Tokens:1:Role"] = "viewer",
            ["Auth:Tokens:2:Name"] = "worker", ["Auth:Tokens:2:Token"] = WorkerToken, ["Auth:Tokens:2:Role"] = "worker",
            ["Auth:Tokens:3:Name"] = "other", ["Auth:Tokens:3:Token"] = OtherTenantToken, ["Auth:Tokens:3:Role"] = "admin",
            ["Auth:Tokens:3:Tenant"] = "other-team",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (k, v) in settings ?? new Dictionary<string, string?>()) config[k] = v;
        var app = CodeTetherHost.Build([], config);
        await app.StartAsync();
        return new ApiHost(app, db, dataDir, ownsDb);
    }

    public HttpClient Client(string? token = null)
    {
        var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token ?? AdminToken);
        return http;
    }

    public HttpClient Anonymous() => new() { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };

    public T Service<T>() where T : notnull => App.Services.GetRequiredService<T>();

    /// <summary>Stops the host but keeps its database and data directory (for restart tests).</summary>
    public async Task StopAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        try { using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5)); await App.StopAsync(cts.Token); } catch (ObjectDisposedException) { }
        await App.DisposeAsync();
        if (_ownsDb) await Database.DisposeAsync();
        try { Directory.Delete(DataDir, recursive: true); } catch (IOException) { }
    }
}
