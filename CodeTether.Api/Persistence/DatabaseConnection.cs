using Microsoft.Data.Sqlite;
using Npgsql;

namespace CodeTether.Api.Persistence;

/// <summary>Chooses the provider and turns the seed's URL form into an Npgsql connection string.</summary>
public static class DatabaseConnection
{
    public static DatabaseProvider ProviderOf(string? connectionString) =>
        string.IsNullOrWhiteSpace(connectionString) || connectionString.StartsWith("Data Source=", StringComparison.OrdinalIgnoreCase)
            ? DatabaseProvider.Sqlite
            : DatabaseProvider.Postgres;

    /// <summary>Accepts <c>postgres://</c>/<c>postgresql://</c> URLs (with <c>?sslmode=</c>) and key=value strings.</summary>
    public static string ToNpgsql(string value) => Tune(Parse(value));

    /// <summary>Statement auto-preparation and no reset round trip on pooled connections, unless the operator chose.</summary>
    static string Tune(NpgsqlConnectionStringBuilder b)
    {
        if (!b.ContainsKey("Max Auto Prepare")) b.MaxAutoPrepare = 64;
        if (!b.ContainsKey("No Reset On Close")) b.NoResetOnClose = true;
        return b.ConnectionString;
    }

    static NpgsqlConnectionStringBuilder Parse(string value)
    {
        if (!value.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) &&
            !value.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase))
            return new NpgsqlConnectionStringBuilder(value); // validates the key=value form

        var uri = new Uri(value);
        var b = new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host,
            Port = uri.IsDefaultPort || uri.Port <= 0 ? 5432 : uri.Port,
            Database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/')),
        };
        if (uri.UserInfo.Length > 0)
        {
            var parts = uri.UserInfo.Split(':', 2);
            b.Username = Uri.UnescapeDataString(parts[0]);
            if (parts.Length > 1) b.Password = Uri.UnescapeDataString(parts[1]);
        }
        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = pair.Split('=', 2);
            var key = Uri.UnescapeDataString(kv[0]);
            var val = kv.Length > 1 ? Uri.UnescapeDataString(kv[1]) : "";
            if (key.Equals("sslmode", StringComparison.OrdinalIgnoreCase))
                b.SslMode = Enum.Parse<SslMode>(val.Replace("-", ""), ignoreCase: true);
            else
                b[key] = val;
        }
        return b;
    }

    public static string Sqlite(string dataDir) => new SqliteConnectionStringBuilder
    {
        DataSource = Path.Combine(dataDir, "codetether.db"),
        Pooling = true,
        DefaultTimeout = 30,
    }.ConnectionString;

    /// <summary>For logs: provider and host/file, never the password.</summary>
    public static string Describe(string? connectionString)
    {
        if (ProviderOf(connectionString) == DatabaseProvider.Sqlite)
            return string.IsNullOrWhiteSpace(connectionString) ? "sqlite (data dir)" : $"sqlite ({new SqliteConnectionStringBuilder(connectionString).DataSource})";
        try
        {
            var b = new NpgsqlConnectionStringBuilder(ToNpgsql(connectionString!));
            return $"postgresql ({b.Host}:{b.Port}/{b.Database})";
        }
        catch (ArgumentException) { return "postgresql (unparseable connection string)"; }
    }
}
