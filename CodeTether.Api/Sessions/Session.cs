using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace CodeTether.Api.Sessions;

/// <summary>A conversation between a user and an agent on a codebase, synced from the worker that ran it.</summary>
public sealed class Session
{
    public required string Id { get; init; }
    public required string TenantId { get; init; }
    public required string CodebaseId { get; set; }
    public string? WorkerId { get; set; }
    public string? Title { get; set; }
    public string? Agent { get; set; }
    public string? TaskId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

public sealed class SessionMessage
{
    public required string Id { get; init; }
    public required string TenantId { get; init; }
    public required string SessionId { get; init; }
    public int Seq { get; set; }
    public required string Role { get; set; }
    public string? Content { get; set; }
    public string? Parts { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

internal sealed class SessionConfiguration : IEntityTypeConfiguration<Session>
{
    public void Configure(EntityTypeBuilder<Session> b)
    {
        b.ToTable("sessions");
        b.HasKey(s => new { s.TenantId, s.Id }); // ids are chosen by workers: unique per tenant, not globally
        b.Property(s => s.Id).HasMaxLength(200);
        b.Property(s => s.TenantId).HasMaxLength(64);
        b.Property(s => s.CodebaseId).HasMaxLength(64);
        b.Property(s => s.WorkerId).HasMaxLength(200);
        b.Property(s => s.Title).HasMaxLength(500);
        b.Property(s => s.Agent).HasMaxLength(64);
        b.Property(s => s.TaskId).HasMaxLength(64);
        b.HasIndex(s => new { s.TenantId, s.CodebaseId, s.UpdatedAt });
    }
}

internal sealed class SessionMessageConfiguration : IEntityTypeConfiguration<SessionMessage>
{
    public void Configure(EntityTypeBuilder<SessionMessage> b)
    {
        b.ToTable("session_messages");
        b.HasKey(m => new { m.TenantId, m.SessionId, m.Id });
        b.Property(m => m.Id).HasMaxLength(200);
        b.Property(m => m.SessionId).HasMaxLength(200);
        b.Property(m => m.TenantId).HasMaxLength(64);
        b.Property(m => m.Role).HasMaxLength(32);
        b.HasIndex(m => new { m.SessionId, m.Seq });
    }
}
