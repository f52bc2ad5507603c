using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace CodeTether.Api.Persistence;

/// <summary>For <c>dotnet ef migrations add X --context CodeTetherDb</c> (the PostgreSQL set).</summary>
public sealed class PostgresDesignTimeFactory : IDesignTimeDbContextFactory<CodeTetherDb>
{
    public CodeTetherDb CreateDbContext(string[] args) => new(
        new DbContextOptionsBuilder<CodeTetherDb>().UseNpgsql("Host=localhost;Database=codetether_design").UseSnakeCaseNamingConvention().Options);
}

/// <summary>For <c>dotnet ef migrations add X --context SqliteCodeTetherDb</c> (the SQLite set).</summary>
public sealed class SqliteDesignTimeFactory : IDesignTimeDbContextFactory<SqliteCodeTetherDb>
{
    public SqliteCodeTetherDb CreateDbContext(string[] args) => new(
        new DbContextOptionsBuilder<SqliteCodeTetherDb>().UseSqlite("Data Source=design.db").UseSnakeCaseNamingConvention().Options);
}
