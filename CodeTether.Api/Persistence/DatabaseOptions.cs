namespace CodeTether.Api.Persistence;

public enum DatabaseProvider { Sqlite, Postgres }

public sealed class DatabaseOptions
{
    public const string Section = "Database";

    /// <summary>A PostgreSQL URL (<c>postgresql://user:pass@host:5432/db</c>) or Npgsql key=value string; empty = SQLite.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Apply migrations when the host starts (embedded default). Production runs <c>codetether migrate</c>.</summary>
    public bool MigrateOnStart { get; set; } = true;

    public override string ToString() => $"DatabaseOptions {{ Provider = {DatabaseConnection.Describe(ConnectionString)} }}";
}

/// <summary>Which provider this host runs on (for health and provider-specific code paths).</summary>
public sealed record DatabaseInfo(DatabaseProvider Provider);
