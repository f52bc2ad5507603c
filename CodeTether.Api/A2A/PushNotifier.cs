using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using CodeTether.Api.Auth;
using CodeTether.Api.Persistence;
using CodeTether.Api.Realtime;
using CodeTether.Shared.A2A;
using CodeTether.Shared.Contracts;
using CodeTether.Shared.Events;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace CodeTether.Api.A2A;

/// <summary>
/// Push notifications: when a task with push configs changes state or gets an artifact, the full <see cref="A2ATask"/> is
/// POSTed to each webhook (<c>X-A2A-Notification-Token</c>, and <c>Authorization</c> per the config's
/// <c>authentication.schemes</c>). Failures are retried with exponential backoff; deliveries of one task stay in order.
/// Delivery is best effort from the host that saw the change: a host stopping mid-retry drops that delivery.
/// Only tasks known to have configs (loaded at start, added by <see cref="Watch"/>) are looked up, so the events of the
/// many tasks without push configs cost nothing here. With several replicas, a config set on another replica is only
/// known here after a restart: until the event bus carries config changes, run push-heavy deployments on one replica.
/// </summary>
public sealed partial class PushNotifier(
    IEventBus bus, IServiceScopeFactory scopes, IHttpClientFactory http, IOptions<A2AOptions> options,
    TimeProvider clock, ILogger<PushNotifier> log) : BackgroundService
{
    public const string ClientName = "a2a-push";
    public const string TokenHeader = "X-A2A-Notification-Token";

    readonly ConcurrentDictionary<string, Task> _tails = new();
    readonly ConcurrentDictionary<string, string> _lastState = new();
    /// <summary>Ids of the tasks that have (or had) a push config: only their events cost a lookup.</summary>
    readonly ConcurrentDictionary<string, byte> _targets = new();

    /// <summary>The known configs could not be loaded (schema not migrated yet): look every task up, as a safe fallback.</summary>
    bool _checkAll;

    /// <summary>Called when a config is stored, so the task's next events are delivered.</summary>
    public void Watch(string taskId) => _targets.TryAdd(taskId, 0);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var sub = bus.Subscribe(e => e.Task is { Type: TaskEventTypes.Status or TaskEventTypes.Artifact or TaskEventTypes.Message });
        try
        {
            await LoadTargetsAsync(stoppingToken);
            await foreach (var e in sub.Reader.ReadAllAsync(stoppingToken))
            {
                var t = e.Task!;
                if (!_checkAll && !_targets.ContainsKey(t.TaskId)) continue;
                if (t.Type == TaskEventTypes.Status)
                {
                    var state = A2AProjection.StateOf(t.Status);
                    if (_lastState.TryGetValue(t.TaskId, out var was) && was == state) continue;
                    if (TaskStatuses.IsTerminal(t.Status)) _lastState.TryRemove(t.TaskId, out _); else _lastState[t.TaskId] = state;
                }
                var tenant = e.TenantId;
                var taskId = t.TaskId;
                _ = _tails.AddOrUpdate(taskId,
                    _ => NotifyAsync(tenant, taskId, stoppingToken),
                    (_, tail) => tail.ContinueWith(_ => NotifyAsync(tenant, taskId, stoppingToken), TaskScheduler.Default).Unwrap());
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
    }

    /// <summary>The tasks with configs stored before this host started (subscribed first, so none is missed).</summary>
    async Task LoadTargetsAsync(CancellationToken ct)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<CodeTetherDb>();
            var ids = await db.WebhookSubscriptions.IgnoreQueryFilters().AsNoTracking()
                .Where(w => w.Kind == WebhookSubscription.Kinds.A2APush && w.TaskId != null).Select(w => w.TaskId!).Distinct().ToListAsync(ct);
            foreach (var id in ids) Watch(id);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _checkAll = true;
            Log.TargetsUnknown(log, ex);
        }
    }

    async Task NotifyAsync(string tenant, string taskId, CancellationToken ct)
    {
        try
        {
            List<WebhookSubscription> hooks;
            A2ATask snapshot;
            await using (var scope = scopes.CreateTenantScope(tenant))
            {
                var db = scope.ServiceProvider.GetRequiredService<CodeTetherDb>();
                hooks = await db.WebhookSubscriptions.AsNoTracking()
                    .Where(w => w.Kind == WebhookSubscription.Kinds.A2APush && w.TaskId == taskId).ToListAsync(ct);
                if (hooks.Count == 0) return;
                snapshot = await scope.ServiceProvider.GetRequiredService<A2AService>().GetAsync(taskId, null, ct);
            }
            var body = JsonSerializer.SerializeToUtf8Bytes(snapshot, A2AJson.Options);
            await Task.WhenAll(hooks.Select(h => DeliverAsync(h, body, snapshot.Status.State, ct)));
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
        catch (Exception ex) { Log.NotifyFailed(log, taskId, ex); }
        finally
        {
            // Drop finished chains so the map does not grow with every task ever seen.
            if (_tails.TryGetValue(taskId, out var tail) && tail.IsCompleted) _tails.TryRemove(new(taskId, tail));
        }
    }

    async Task DeliverAsync(WebhookSubscription hook, byte[] body, string state, CancellationToken ct)
    {
        var o = options.Value.Push;
        var client = http.CreateClient(ClientName);
        for (var attempt = 1; ; attempt++)
        {
            string failure;
            try
            {
                using var req = new HttpRequestMessage(HttpMethod.Post, hook.Url) { Content = new ByteArrayContent(body) };
                req.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                if (hook.Token is { Length: > 0 } token) req.Headers.TryAddWithoutValidation(TokenHeader, token);
                if (Authorization(hook) is { } auth) req.Headers.Authorization = auth;
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                timeout.CancelAfter(o.Timeout);
                using var res = await client.SendAsync(req, timeout.Token);
                if (res.IsSuccessStatusCode)
                {
                    Log.Delivered(log, hook.TaskId!, hook.ConfigId, state, attempt);
                    return;
                }
                failure = $"HTTP {(int)res.StatusCode}";
            }
            catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException && !ct.IsCancellationRequested)
            {
                failure = ex.Message;
            }
            if (attempt >= o.MaxAttempts)
            {
                Log.GaveUp(log, hook.TaskId!, hook.ConfigId, attempt, failure);
                return;
            }
            var delay = o.InitialBackoff * Math.Pow(2, attempt - 1);
            Log.Retrying(log, hook.TaskId!, hook.ConfigId, attempt, failure, delay);
            await Task.Delay(delay, clock, ct);
        }
    }

    static AuthenticationHeaderValue? Authorization(WebhookSubscription hook)
    {
        if (hook.AuthSchemes is null || hook.AuthCredentials is not { Length: > 0 } credentials) return null;
        var schemes = JsonSerializer.Deserialize<List<string>>(hook.AuthSchemes) ?? [];
        if (schemes.Any(s => s.Equals("bearer", StringComparison.OrdinalIgnoreCase))) return new("Bearer", credentials);
        if (schemes.Any(s => s.Equals("basic", StringComparison.OrdinalIgnoreCase)))
            return new("Basic", credentials.Contains(':') ? Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials)) : credentials);
        return null;
    }

    /// <summary>Waits until every delivery started so far has finished (tests, shutdown).</summary>
    public Task IdleAsync() => Task.WhenAll(_tails.Values);

    static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Push notification for task {TaskId} (config {ConfigId}, {State}) delivered on attempt {Attempt}")]
        public static partial void Delivered(ILogger logger, string taskId, string configId, string state, int attempt);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Push notification for task {TaskId} (config {ConfigId}) failed on attempt {Attempt} ({Failure}); retrying in {Delay}")]
        public static partial void Retrying(ILogger logger, string taskId, string configId, int attempt, string failure, TimeSpan delay);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Push notification for task {TaskId} (config {ConfigId}) given up after {Attempt} attempts ({Failure})")]
        public static partial void GaveUp(ILogger logger, string taskId, string configId, int attempt, string failure);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Could not load the tasks with push configs (is the database migrated?); every task event will be looked up")]
        public static partial void TargetsUnknown(ILogger logger, Exception ex);

        [LoggerMessage(Level = LogLevel.Error, Message = "Push notifications for task {TaskId} failed")]
        public static partial void NotifyFailed(ILogger logger, string taskId, Exception ex);
    }
}
