using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace CodeTether.Api.Tasks;

/// <summary>A unit of work for an agent. Its state changes only through <see cref="TaskLifecycle"/> and <see cref="TaskLeases"/>.</summary>
public sealed class AgentTask
{
    public required string Id { get; init; }
    public required string TenantId { get; init; }
    /// <summary>A codebase id, or <c>global</c>.</summary>
    public required string CodebaseId { get; set; }
    public required string Title { get; set; }
    public required string Prompt { get; set; }
    public required string Agent { get; set; }
    public string? Model { get; set; }
    public int Priority { get; set; }
    public required string Status { get; set; }
    public int Attempt { get; set; } = 1;
    public int MaxAttempts { get; set; }
    public string? LeaseOwner { get; set; }
    public DateTimeOffset? LeaseExpiresAt { get; set; }
    public long FencingToken { get; set; }
    /// <summary>The last worker that held the lease, kept after release for the record.</summary>
    public string? WorkerId { get; set; }
    public string? TargetWorkerId { get; set; }
    public string? SessionId { get; set; }
    public string? ParentTaskId { get; set; }
    public string? Result { get; set; }
    public string? Error { get; set; }
    public int? ProgressPct { get; set; }
    public string? StatusMessage { get; set; }
    public string? Checkpoint { get; set; }
    public string? Metadata { get; set; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; set; }
    public DateTimeOffset? RoutedAt { get; set; }
    public DateTimeOffset? ClaimedAt { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? CompletedAt { get; set; }
}

internal sealed class AgentTaskConfiguration : IEntityTypeConfiguration<AgentTask>
{
    public void Configure(EntityTypeBuilder<AgentTask> b)
    {
        b.ToTable("tasks");
        b.HasKey(t => t.Id);
        b.Property(t => t.Id).HasMaxLength(64);
        b.Property(t => t.TenantId).HasMaxLength(64);
        b.Property(t => t.CodebaseId).HasMaxLength(64);
        b.Property(t => t.Title).HasMaxLength(500);
        b.Property(t => t.Agent).HasMaxLength(64);
        b.Property(t => t.Model).HasMaxLength(200);
        b.Property(t => t.Status).HasMaxLength(32).IsConcurrencyToken();
        b.Property(t => t.FencingToken).IsConcurrencyToken();
        b.Property(t => t.LeaseOwner).HasMaxLength(200);
        b.Property(t => t.WorkerId).HasMaxLength(200);
        b.Property(t => t.TargetWorkerId).HasMaxLength(200);
        b.Property(t => t.SessionId).HasMaxLength(200);
        b.Property(t => t.ParentTaskId).HasMaxLength(64);
        b.Property(t => t.StatusMessage).HasMaxLength(2000);
        // The queue: what is claimable, by priority then age.
        b.HasIndex(t => new { t.TenantId, t.Status, t.Priority, t.CreatedAt });
        b.HasIndex(t => new { t.TenantId, t.CodebaseId, t.CreatedAt });
        b.HasIndex(t => new { t.Status, t.LeaseExpiresAt });
        b.HasIndex(t => new { t.TenantId, t.WorkerId, t.Status });
        b.HasIndex(t => new { t.TenantId, t.LeaseOwner });
    }
}
