using CodeTether.Api.A2A;
using CodeTether.Api.Auth;
using CodeTether.Api.Codebases;
using CodeTether.Api.Sessions;
using CodeTether.Api.Tasks;
using CodeTether.Api.Workers;
using Microsoft.EntityFrameworkCore;

namespace CodeTether.Api.Persistence;

using Worker = CodeTether.Api.Workers.Worker;

/// <summary>
/// The one tenant-scoped context. Every team-owned set carries a query filter on the current tenant;
/// background jobs that span tenants say so with <c>IgnoreQueryFilters()</c>.
/// The PostgreSQL migrations belong to this type, the SQLite ones to <see cref="SqliteCodeTetherDb"/>.
/// </summary>
public class CodeTetherDb : DbContext
{
    TenantContext _tenant = new();

    public CodeTetherDb(DbContextOptions<CodeTetherDb> options) : base(options) { }

    protected CodeTetherDb(DbContextOptions options) : base(options) { }

    /// <summary>
    /// Contexts are pooled (<see cref="PersistenceServiceCollectionExtensions"/>): each lease is bound to the tenant of the
    /// unit of work that leased it; the query filters read it per query.
    /// </summary>
    internal TenantContext Tenant { set => _tenant = value; }

    public string TenantId => _tenant.TenantId;

    // Back in the pool: forget the lease's tenant (the next lease sets its own).
    public override void Dispose()
    {
        _tenant = new();
        base.Dispose();
    }

    public override ValueTask DisposeAsync()
    {
        _tenant = new();
        return base.DisposeAsync();
    }

    public DbSet<Tenant> Tenants => Set<Tenant>();
    public DbSet<Codebase> Codebases => Set<Codebase>();
    public DbSet<Worker> Workers => Set<Worker>();
    public DbSet<AgentTask> Tasks => Set<AgentTask>();
    public DbSet<TaskEvent> TaskEvents => Set<TaskEvent>();
    public DbSet<Session> Sessions => Set<Session>();
    public DbSet<SessionMessage> SessionMessages => Set<SessionMessage>();
    public DbSet<WebhookSubscription> WebhookSubscriptions => Set<WebhookSubscription>();

    protected override void OnModelCreating(ModelBuilder b)
    {
        b.ApplyConfigurationsFromAssembly(typeof(CodeTetherDb).Assembly);
        b.Entity<Codebase>().HasQueryFilter(e => e.TenantId == _tenant.TenantId);
        b.Entity<Worker>().HasQueryFilter(e => e.TenantId == _tenant.TenantId);
        b.Entity<AgentTask>().HasQueryFilter(e => e.TenantId == _tenant.TenantId);
        b.Entity<TaskEvent>().HasQueryFilter(e => e.TenantId == _tenant.TenantId);
        b.Entity<Session>().HasQueryFilter(e => e.TenantId == _tenant.TenantId);
        b.Entity<SessionMessage>().HasQueryFilter(e => e.TenantId == _tenant.TenantId);
        b.Entity<WebhookSubscription>().HasQueryFilter(e => e.TenantId == _tenant.TenantId);
    }
}

/// <summary>Owns the SQLite migration set; stores <see cref="DateTimeOffset"/> as sortable integers.</summary>
public sealed class SqliteCodeTetherDb(DbContextOptions<SqliteCodeTetherDb> options)
    : CodeTetherDb(options)
{
    protected override void ConfigureConventions(ModelConfigurationBuilder b)
    {
        // SQLite cannot order or compare DateTimeOffset; UTC ticks keep both working.
        b.Properties<DateTimeOffset>().HaveConversion<UtcTicksConverter>();
        b.Properties<DateTimeOffset?>().HaveConversion<UtcTicksConverter>();
    }
}

internal sealed class UtcTicksConverter() : Microsoft.EntityFrameworkCore.Storage.ValueConversion.ValueConverter<DateTimeOffset, long>(
    v => v.UtcTicks, v => new DateTimeOffset(v, TimeSpan.Zero));
