using CodeTether.Api.Persistence;
using Npgsql;

namespace CodeTether.Api.Tests.Persistence;

/// <summary>The seed's <c>DATABASE_URL</c> forms turned into Npgsql connection strings, and the provider choice.</summary>
public sealed class DatabaseConnectionTests
{
    [Fact]
    public void ToNpgsql_UrlWithEscapedPasswordPortAndSslMode_IsParsed()
    {
        var b = new NpgsqlConnectionStringBuilder(DatabaseConnection.ToNpgsql("postgresql://user:p%40ss@host:5433/db?sslmode=require"));
        Assert.Equal(("host", 5433, "db", "user", "p@ss", SslMode.Require), (b.Host, b.Port, b.Database, b.Username, b.Password, b.SslMode));
    }

    [Fact]
    public void ToNpgsql_PostgresSchemeWithoutPort_UsesDefaultPort()
    {
        var b = new NpgsqlConnectionStringBuilder(DatabaseConnection.ToNpgsql("postgres://admin:secret@db.internal/codetether"));
        Assert.Equal(("db.internal", 5432, "codetether", "admin", "secret"), (b.Host, b.Port, b.Database, b.Username, b.Password));
    }

    [Fact]
    public void ToNpgsql_UrlWithOtherQueryKeys_PassesThem()
    {
        var b = new NpgsqlConnectionStringBuilder(DatabaseConnection.ToNpgsql("postgresql://u:p@h/d?sslmode=verify-full&Timeout=7"));
        Assert.Equal((SslMode.VerifyFull, 7), (b.SslMode, b.Timeout));
    }

    [Fact]
    public void ToNpgsql_KeyValueForm_IsKept()
    {
        var b = new NpgsqlConnectionStringBuilder(DatabaseConnection.ToNpgsql("Host=db;Port=6543;Database=ct;Username=u;Password=p@ss"));
        Assert.Equal(("db", 6543, "ct", "u", "p@ss"), (b.Host, b.Port, b.Database, b.Username, b.Password));
    }

    [Fact]
    public void ToNpgsql_UnknownKeyInKeyValueForm_Throws() =>
        Assert.ThrowsAny<ArgumentException>(() => DatabaseConnection.ToNpgsql("Hots=db;Nonsense=1"));

    [Theory]
    [InlineData(null, DatabaseProvider.Sqlite)]
    [InlineData("", DatabaseProvider.Sqlite)]
    [InlineData("Data Source=/tmp/x.db", DatabaseProvider.Sqlite)]
    [InlineData("postgresql://u:p@h/d", DatabaseProvider.Postgres)]
    [InlineData("Host=h;Database=d", DatabaseProvider.Postgres)]
    public void ProviderOf_ChoosesByConnectionString(string? cs, DatabaseProvider expected) =>
        Assert.Equal(expected, DatabaseConnection.ProviderOf(cs));

    [Fact]
    public void Describe_NeverShowsThePassword()
    {
        var text = DatabaseConnection.Describe("postgresql://user:topsecret@host:5433/db");
        Assert.Equal("postgresql (host:5433/db)", text);
        Assert.DoesNotContain("topsecret", text);
    }
}
