using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace CodeTether.Api.Tasks;

/// <summary>
/// Append-only log of everything that happens to a task. <see cref="Position"/> is assigned by the database as the
/// writing transaction commits (a deferred trigger, under a per-tenant lock held only for that instant), so it grows
/// in commit order: it is the SSE event id every stream resumes from, and a reader that has seen position N can never
/// later find an N-1 committing behind it.
/// </summary>
public sealed class TaskEvent
{
    public long Id { get; init; }
    /// <summary>Commit-ordered position; null only inside the writing transaction.</summary>
    public long? Position { get; init; }
    public required string TenantId { get; init; }
    public required string TaskId { get; init; }
    public required string CodebaseId { get; init; }
    public required string Type { get; init; }
    /// <summary>The task's status after this event.</summary>
    public required string Status { get; init; }
    public int Attempt { get; init; }
    public string? WorkerId { get; init; }
    public string? Data { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
}

internal sealed class TaskEventConfiguration : IEntityTypeConfiguration<TaskEvent>
{
    public void Configure(EntityTypeBuilder<TaskEvent> b)
    {
        b.ToTable("task_events");
        b.HasKey(e => e.Id);
        b.Property(e => e.Id).ValueGeneratedOnAdd();
        b.Property(e => e.TenantId).HasMaxLength(64);
        b.Property(e => e.TaskId).HasMaxLength(64);
        b.Property(e => e.CodebaseId).HasMaxLength(64);
        b.Property(e => e.Type).HasMaxLength(32);
        b.Property(e => e.Status).HasMaxLength(32);
        b.Property(e => e.WorkerId).HasMaxLength(200);
        b.Property(e => e.Position).Metadata.SetBeforeSaveBehavior(PropertySaveBehavior.Ignore);
        b.Property(e => e.Position).Metadata.SetAfterSaveBehavior(PropertySaveBehavior.Ignore);
        b.HasIndex(e => new { e.TaskId, e.Position });
        b.HasIndex(e => new { e.TenantId, e.CodebaseId, e.Position });
    }
}
