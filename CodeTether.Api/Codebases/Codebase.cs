using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace CodeTether.Api.Codebases;

/// <summary>A repository on some worker's machine ("workspace" in the original's later vocabulary).</summary>
public sealed class Codebase
{
    public required string Id { get; init; }
    public required string TenantId { get; init; }
    public required string Name { get; set; }
    public required string Path { get; set; }
    public string? Description { get; set; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; set; }
}

internal sealed class CodebaseConfiguration : IEntityTypeConfiguration<Codebase>
{
    public void Configure(EntityTypeBuilder<Codebase> b)
    {
        b.ToTable("codebases");
        b.HasKey(c => c.Id);
        b.Property(c => c.Id).HasMaxLength(64);
        b.Property(c => c.TenantId).HasMaxLength(64);
        b.Property(c => c.Name).HasMaxLength(200);
        b.Property(c => c.Path).HasMaxLength(1024);
        b.Property(c => c.Description).HasMaxLength(4000);
        b.HasIndex(c => new { c.TenantId, c.Path }).IsUnique();
    }
}
