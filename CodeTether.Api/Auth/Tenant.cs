using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace CodeTether.Api.Auth;

/// <summary>A team. Local mode and static API tokens use <see cref="DefaultId"/>.</summary>
public sealed class Tenant
{
    public const string DefaultId = "default";
    public required string Id { get; init; }
    public required string Name { get; set; }
    public DateTimeOffset CreatedAt { get; init; }
}

internal sealed class TenantConfiguration : IEntityTypeConfiguration<Tenant>
{
    public void Configure(EntityTypeBuilder<Tenant> b)
    {
        b.ToTable("tenants");
        b.HasKey(t => t.Id);
        b.Property(t => t.Id).HasMaxLength(64);
        b.Property(t => t.Name).HasMaxLength(200);
    }
}

/// <summary>The tenant of the current unit of work (request, stream or background job).</summary>
public sealed class TenantContext
{
    public string TenantId { get; set; } = Tenant.DefaultId;
}

public static class TenantScopes
{
    /// <summary>A DI scope (a unit of work outside a request) whose database access is that tenant's.</summary>
    public static AsyncServiceScope CreateTenantScope(this IServiceScopeFactory scopes, string tenantId)
    {
        var scope = scopes.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<TenantContext>().TenantId = tenantId;
        return scope;
    }
}
