using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace CodeTether.Api.Tasks;

/// <summary>
/// Append-only log of everything that happens to a task. <see cref="Id"/> grows with commit order per tenant
/// (see <see cref="TaskEventLog"/>), so it is the SSE event id every stream resumes from.
/// </summary>
public sealed class TaskEvent
{
    public long Id { get; init; }
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
        b.HasIndex(e => new { e.TaskId, e.Id });
        b.HasIndex(e => new { e.TenantId, e.CodebaseId, e.Id });
    }
}
