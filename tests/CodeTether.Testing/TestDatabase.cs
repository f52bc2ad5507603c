using Npgsql;

namespace CodeTether.Testing;

public enum DbKind { Sqlite, Postgres }

/// <summary>
/// A throw-away database: a SQLite file in a temp directory, or a fresh database on the local PostgreSQL that
/// <c>.ci/run</c> starts (<c>CODETETHER_TEST_PG</c> overrides the server connection string).
/// </summary>
public sealed class TestDatabase : IAsyncDisposable
{
    public const string DefaultServer = "Host=127.0.0.1;Port=5432;Username=postgres;Password=postgres";

    TestDatabase(DbKind kind, string connectionString, string? pgName)
    {
        Kind = kind;
        ConnectionString = connectionString;
        _pgName = pgName;
    }

    readonly string? _pgName;
    public DbKind Kind { get; }
    /// <summary>Empty for SQLite (the host then uses the data directory).</summary>
    public string ConnectionString { get; }

    public static string Server => Environment.GetEnvironmentVariable("CODETETHER_TEST_PG") is { Length: > 0 } s ? s : DefaultServer;

    public static async Task<TestDatabase> CreateAsync(DbKind kind)
    {
        if (kind == DbKind.Sqlite) return new TestDatabase(kind, "", null);
        var name = "ct_" + Guid.NewGuid().ToString("N")[..16];
        await using (var conn = new NpgsqlConnection(Server))
        {
            try { await conn.OpenAsync(); }
            catch (Exception ex)
            {
                throw new InvalidOperationException(
                    $"PostgreSQL is not reachable at '{new NpgsqlConnectionStringBuilder(Server) { Password = null }}'. " +
                    "Run .ci/run (or scripts/services.sh) to install and start it.", ex);
            }
            await using var cmd = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", conn);
            await cmd.ExecuteNonQueryAsync();
        }
        var cs = new NpgsqlConnectionStringBuilder(Server) { Database = name }.ConnectionString;
        return new TestDatabase(kind, cs, name);
    }

    public async ValueTask DisposeAsync()
    {
        if (_pgName is null) return;
        NpgsqlConnection.ClearAllPools();
        await using var conn = new NpgsqlConnection(Server);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{_pgName}\" WITH (FORCE)", conn);
        await cmd.ExecuteNonQueryAsync();
    }
}
