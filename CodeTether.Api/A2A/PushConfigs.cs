using System.Text.Json;
using CodeTether.Api.Persistence;
using CodeTether.Shared.A2A;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace CodeTether.Api.A2A;

/// <summary>The <c>tasks/pushNotificationConfig/*</c> store: one <see cref="WebhookSubscription"/> per task and config id.</summary>
public sealed class PushConfigs(CodeTetherDb db, WebhookGuard guard, PushNotifier notifier, IOptions<A2AOptions> options, TimeProvider clock)
{
    /// <summary>A config set without an id is stored (and read back) as <c>default</c>.</summary>
    public const string DefaultId = "default";

    /// <summary>Shape checks that need no I/O (the URL's reachability is checked by <see cref="SetAsync"/>).</summary>
    public void Check(PushNotificationConfig c)
    {
        if (string.IsNullOrWhiteSpace(c.Url)) throw A2AException.InvalidParams("pushNotificationConfig.url is required.");
        if (c.Url.Length > 2048) throw A2AException.InvalidParams("pushNotificationConfig.url must be at most 2048 characters.");
        if (!Uri.TryCreate(c.Url, UriKind.Absolute, out var u) || u.Scheme is not ("http" or "https"))
            throw A2AException.InvalidParams("pushNotificationConfig.url must be an absolute http or https URL.");
        if (c.Id is { Length: > 200 }) throw A2AException.InvalidParams("pushNotificationConfig.id must be at most 200 characters.");
        if (c.Token is { Length: > 1000 }) throw A2AException.InvalidParams("pushNotificationConfig.token must be at most 1000 characters.");
        if (c.Authentication?.Credentials is { Length: > 4000 }) throw A2AException.InvalidParams("authentication.credentials must be at most 4000 characters.");
    }

    public async Task<TaskPushNotificationConfig> SetAsync(string taskId, PushNotificationConfig c, CancellationToken ct)
    {
        Check(c);
        if (!await db.Tasks.AnyAsync(t => t.Id == taskId, ct)) throw A2AException.TaskNotFound(taskId);
        if (await guard.CheckUrlAsync(c.Url, ct) is { } refused) throw A2AException.InvalidParams(refused);
        var id = string.IsNullOrWhiteSpace(c.Id) ? DefaultId : c.Id;
        var now = clock.GetUtcNow();
        var row = await db.WebhookSubscriptions.FirstOrDefaultAsync(w => w.Kind == WebhookSubscription.Kinds.A2APush && w.TaskId == taskId && w.ConfigId == id, ct);
        if (row is null)
        {
            var count = await db.WebhookSubscriptions.CountAsync(w => w.Kind == WebhookSubscription.Kinds.A2APush && w.TaskId == taskId, ct);
            if (count >= options.Value.Push.MaxConfigsPerTask)
                throw A2AException.InvalidParams($"a task may have at most {options.Value.Push.MaxConfigsPerTask} push notification configs.");
            row = new WebhookSubscription
            {
                Id = Guid.CreateVersion7().ToString("N"), TenantId = db.TenantId, Kind = WebhookSubscription.Kinds.A2APush,
                TaskId = taskId, ConfigId = id, Url = c.Url, CreatedAt = now,
            };
            db.WebhookSubscriptions.Add(row);
        }
        row.Url = c.Url;
        row.Token = c.Token;
        row.AuthSchemes = c.Authentication is { } a ? JsonSerializer.Serialize(a.Schemes) : null;
        row.AuthCredentials = c.Authentication?.Credentials;
        row.UpdatedAt = now;
        notifier.Watch(taskId);
        try { await db.SaveChangesAsync(ct); }
        catch (DbUpdateException)
        {
            // Two sets of the same id at once: the other one won; this one overwrites it.
            db.ChangeTracker.Clear();
            return await SetAsync(taskId, c, ct);
        }
        return ToDto(row);
    }

    public async Task<TaskPushNotificationConfig> GetAsync(string taskId, string? configId, CancellationToken ct)
    {
        var all = await ListAsync(taskId, ct);
        var wanted = configId ?? DefaultId;
        return all.FirstOrDefault(c => c.PushNotificationConfig.Id == wanted)
            ?? (configId is null && all.Count > 0 ? all[0] : null)
            ?? throw new A2AException(A2AErrorCodes.InvalidParams, $"Invalid parameters: task {taskId} has no push notification config '{wanted}'.");
    }

    public async Task<List<TaskPushNotificationConfig>> ListAsync(string taskId, CancellationToken ct)
    {
        if (!await db.Tasks.AnyAsync(t => t.Id == taskId, ct)) throw A2AException.TaskNotFound(taskId);
        var rows = await db.WebhookSubscriptions.AsNoTracking()
            .Where(w => w.Kind == WebhookSubscription.Kinds.A2APush && w.TaskId == taskId).OrderBy(w => w.CreatedAt).ToListAsync(ct);
        return rows.Select(ToDto).ToList();
    }

    public async Task DeleteAsync(string taskId, string configId, CancellationToken ct)
    {
        if (!await db.Tasks.AnyAsync(t => t.Id == taskId, ct)) throw A2AException.TaskNotFound(taskId);
        await db.WebhookSubscriptions.Where(w => w.Kind == WebhookSubscription.Kinds.A2APush && w.TaskId == taskId && w.ConfigId == configId)
            .ExecuteDeleteAsync(ct);
    }

    public static TaskPushNotificationConfig ToDto(WebhookSubscription w) => new()
    {
        TaskId = w.TaskId!,
        PushNotificationConfig = new PushNotificationConfig
        {
            Id = w.ConfigId,
            Url = w.Url,
            Token = w.Token,
            Authentication = w.AuthSchemes is null ? null : new PushNotificationAuthenticationInfo
            {
                Schemes = JsonSerializer.Deserialize<List<string>>(w.AuthSchemes) ?? [],
                Credentials = w.AuthCredentials,
            },
        },
    };
}
