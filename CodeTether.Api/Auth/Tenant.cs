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
