using CodeTether.Api.Auth;
using CodeTether.Api.Hosting;
using Microsoft.EntityFrameworkCore;

namespace CodeTether.Api.Persistence;

public static class PersistenceServiceCollectionExtensions
{
    /// <summary>The one place the provider is chosen: <c>Database:ConnectionString</c> (or <c>DATABASE_URL</c>) → PostgreSQL, else SQLite in the data directory.</summary>
    public static IHostApplicationBuilder AddCodeTetherPersistence(this IHostApplicationBuilder builder, HostingOptions hosting)
    {
        var configured = builder.Configuration[$"{DatabaseOptions.Section}:ConnectionString"];
        var provider = DatabaseConnection.ProviderOf(configured);
        builder.Services.AddOptions<DatabaseOptions>().BindConfiguration(DatabaseOptions.Section);
        builder.Services.AddSingleton(new WriteGate(provider));
        builder.Services.AddSingleton(new DatabaseInfo(provider));

        // Pooled contexts (construction is a visible share of a short request's CPU); each scope leases one and binds
        // it to the scope's tenant.
        if (provider == DatabaseProvider.Postgres)
        {
            var cs = DatabaseConnection.ToNpgsql(configured!);
            builder.Services.AddPooledDbContextFactory<CodeTetherDb>(o => o.UseNpgsql(cs).UseSnakeCaseNamingConvention());
            builder.Services.AddScoped(sp => Lease(sp, sp.GetRequiredService<IDbContextFactory<CodeTetherDb>>()));
        }
        else
        {
            Directory.CreateDirectory(hosting.DataDir);
            var cs = string.IsNullOrWhiteSpace(configured) ? DatabaseConnection.Sqlite(hosting.DataDir) : configured;
            builder.Services.AddPooledDbContextFactory<SqliteCodeTetherDb>(o => o.UseSqlite(cs).UseSnakeCaseNamingConvention());
            builder.Services.AddScoped<CodeTetherDb>(sp => Lease(sp, sp.GetRequiredService<IDbContextFactory<SqliteCodeTetherDb>>()));
        }
        builder.Services.AddScoped<Transactions>();
        builder.Services.AddHostedService<DatabaseMigrator>();
        builder.Services.AddSingleton<GroupCommit>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<GroupCommit>());
        return builder;
    }

    static T Lease<T>(IServiceProvider sp, IDbContextFactory<T> pool) where T : CodeTetherDb
    {
        var db = pool.CreateDbContext();
        db.Tenant = sp.GetRequiredService<TenantContext>();
        return db;
    }
}

/// <summary>Brings the schema up to date before the host takes requests (embedded default; turn off with <c>Database:MigrateOnStart=false</c>).</summary>
public sealed partial class DatabaseMigrator(IServiceScopeFactory scopes, Microsoft.Extensions.Options.IOptions<DatabaseOptions> options,
    ILogger<DatabaseMigrator> log) : IHostedService
{
    public async Task StartAsync(CancellationToken ct)
    {
        if (!options.Value.MigrateOnStart) return;
        await MigrateAsync(scopes, ct);
        Log.Migrated(log, DatabaseConnection.Describe(options.Value.ConnectionString));
    }

    public static async Task MigrateAsync(IServiceScopeFactory scopes, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CodeTetherDb>();
        if (db.Database.IsSqlite())
        {
            // WAL lets readers (streams) run while one writer commits; it persists in the file.
            await db.Database.OpenConnectionAsync(ct);
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", ct);
        }
        await db.Database.MigrateAsync(ct);
        if (!await db.Tenants.AnyAsync(t => t.Id == Tenant.DefaultId, ct))
        {
            db.Tenants.Add(new Tenant { Id = Tenant.DefaultId, Name = "Default", CreatedAt = DateTimeOffset.UtcNow });
            await db.SaveChangesAsync(ct);
        }
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;

    static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Database ready: {Database}")]
        public static partial void Migrated(ILogger logger, string database);
    }
}
