using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace CodeTether.Api.Workers;

/// <summary>A worker daemon as last registered. Its id is chosen by the worker; unique per tenant.</summary>
public sealed class Worker
{
    public required string TenantId { get; init; }
    public required string Id { get; init; }
    public required string Name { get; set; }
    public string? Hostname { get; set; }
    /// <summary>Codebase ids it serves; <c>global</c> means any.</summary>
    public List<string> Codebases { get; set; } = [];
    public List<string> Capabilities { get; set; } = [];
    public List<string> Models { get; set; } = [];
    /// <summary><c>online</c> or <c>offline</c> (liveness); busy is derived from leases (<see cref="WorkerViews"/>).</summary>
    public required string Status { get; set; }
    public DateTimeOffset? LastHeartbeatAt { get; set; }
    public DateTimeOffset RegisteredAt { get; set; }
}

internal sealed class WorkerConfiguration : IEntityTypeConfiguration<Worker>
{
    public void Configure(EntityTypeBuilder<Worker> b)
    {
        b.ToTable("workers");
        b.HasKey(w => new { w.TenantId, w.Id });
        b.Property(w => w.TenantId).HasMaxLength(64);
        b.Property(w => w.Id).HasMaxLength(200);
        b.Property(w => w.Name).HasMaxLength(200);
        b.Property(w => w.Hostname).HasMaxLength(255);
        b.Property(w => w.Status).HasMaxLength(32);
        b.HasIndex(w => new { w.Status, w.LastHeartbeatAt });
    }
}
