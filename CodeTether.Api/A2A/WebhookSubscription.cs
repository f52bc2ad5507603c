using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace CodeTether.Api.A2A;

/// <summary>
/// Somewhere to POST a task's updates: an A2A push-notification config (<see cref="Kinds.A2APush"/>), keyed per task by
/// <see cref="ConfigId"/>. Zapier REST hooks will use the same table with their own kind.
/// </summary>
public sealed class WebhookSubscription
{
    public static class Kinds
    {
        public const string A2APush = "a2a-push";
    }

    public required string Id { get; init; }
    public required string TenantId { get; init; }
    public required string Kind { get; init; }
    public string? TaskId { get; init; }
    public required string ConfigId { get; init; }
    public required string Url { get; set; }
    /// <summary>Sent back as <c>X-A2A-Notification-Token</c>.</summary>
    public string? Token { get; set; }
    /// <summary>JSON array of authentication schemes (<c>["Bearer"]</c>).</summary>
    public string? AuthSchemes { get; set; }
    public string? AuthCredentials { get; set; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; set; }
}

internal sealed class WebhookSubscriptionConfiguration : IEntityTypeConfiguration<WebhookSubscription>
{
    public void Configure(EntityTypeBuilder<WebhookSubscription> b)
    {
        b.ToTable("webhook_subscriptions");
        b.HasKey(w => w.Id);
        b.Property(w => w.Id).HasMaxLength(64);
        b.Property(w => w.TenantId).HasMaxLength(64);
        b.Property(w => w.Kind).HasMaxLength(32);
        b.Property(w => w.TaskId).HasMaxLength(64);
        b.Property(w => w.ConfigId).HasMaxLength(200);
        b.Property(w => w.Url).HasMaxLength(2048);
        b.Property(w => w.Token).HasMaxLength(1000);
        b.Property(w => w.AuthSchemes).HasMaxLength(1000);
        b.Property(w => w.AuthCredentials).HasMaxLength(4000);
        b.HasIndex(w => new { w.TenantId, w.Kind, w.TaskId, w.ConfigId }).IsUnique();
    }
}
