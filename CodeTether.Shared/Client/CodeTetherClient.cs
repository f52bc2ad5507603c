using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using CodeTether.Shared.Contracts;
using CodeTether.Shared.Events;
using CodeTether.Shared.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CodeTether.Shared.Client;

/// <summary>
/// The worker side of the CodeTether worker protocol (DESIGN.md "Worker protocol") plus the few task calls a CLI needs.
/// Every request carries <c>Authorization: Bearer &lt;token&gt;</c> and <c>X-Worker-ID</c>; bodies use
/// <see cref="CodeTetherJson.Options"/> (snake_case).
/// </summary>
/// <remarks>
/// Build it with <see cref="Create"/> unless you manage HTTP yourself. If you pass your own clients, give the
/// constructor two of them: <paramref name="http"/> for ordinary calls (with a resilience handler, e.g.
/// <c>AddStandardResilienceHandler()</c>) and <paramref name="streamHttp"/> for the SSE stream (no resilience handler,
/// <c>Timeout = Timeout.InfiniteTimeSpan</c>). See <see cref="CodeTetherHttp"/>.
/// </remarks>
public sealed partial class CodeTetherClient : IDisposable
{
    private const int MaxErrorBodyChars = 2000;

    private readonly HttpClient _http;
    private readonly HttpClient _streamHttp;
    private readonly bool _ownsClients;
    private readonly ILogger _logger;

    /// <param name="http">Client for ordinary calls; its <see cref="HttpClient.BaseAddress"/> is the server URL.</param>
    /// <param name="options">Identity of the worker.</param>
    /// <param name="logger">Reconnects and dropped streams are logged here.</param>
    /// <param name="streamHttp">Client for the SSE stream; defaults to <paramref name="http"/>, which then must not have
    /// a finite timeout or a retrying handler.</param>
    public CodeTetherClient(HttpClient http, CodeTetherClientOptions options, ILogger<CodeTetherClient>? logger = null,
        HttpClient? streamHttp = null)
        : this(http, streamHttp ?? http, options, logger, ownsClients: false)
    {
    }

    private CodeTetherClient(HttpClient http, HttpClient streamHttp, CodeTetherClientOptions options, ILogger? logger,
        bool ownsClients)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(options);
        _http = http;
        _streamHttp = streamHttp;
        _http.BaseAddress ??= options.ServerUrl;
        _streamHttp.BaseAddress ??= options.ServerUrl;
        Options = options;
        _logger = logger ?? NullLogger.Instance;
        _ownsClients = ownsClients;
    }

    /// <summary>
    /// Builds a client with its own two HTTP stacks (<see cref="CodeTetherHttp"/>): a resilient one for calls and a
    /// timeout-free, non-retrying one for the task stream. Dispose the client to release them.
    /// </summary>
    public static CodeTetherClient Create(CodeTetherClientOptions options, ILogger<CodeTetherClient>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new CodeTetherClient(CodeTetherHttp.CreateApiClient(options.ServerUrl),
            CodeTetherHttp.CreateStreamClient(options.ServerUrl), options, logger, ownsClients: true);
    }

    public CodeTetherClientOptions Options { get; }

    /// <summary>The id of the last stream event seen; sent as <c>Last-Event-ID</c> on reconnect.</summary>
    public string? LastEventId { get; private set; }

    // ---------------------------------------------------------------- workers

    /// <summary><c>POST /v1/agent/workers/register</c>.</summary>
    public async Task<WorkerDto> RegisterAsync(CancellationToken ct = default)
    {
        var body = new RegisterWorkerRequest
        {
            WorkerId = Options.WorkerId,
            Name = Options.DisplayName,
            AgentName = Options.DisplayName,
            Hostname = Options.Hostname,
            Codebases = Options.Codebases,
            Capabilities = Options.Capabilities,
            Models = Options.Models,
        };
        using var response = await SendAsync(HttpMethod.Post, "/v1/agent/workers/register", body, ct).ConfigureAwait(false);
        await EnsureSuccessAsync(response, ct).ConfigureAwait(false);
        return await ReadAsync<WorkerDto>(response, ct).ConfigureAwait(false);
    }

    /// <summary><c>POST /v1/agent/workers/{id}/heartbeat</c>. A 404 means the server forgot us: register again.</summary>
    public async Task HeartbeatAsync(string? status = null, CancellationToken ct = default)
    {
        var body = new WorkerHeartbeatRequest { WorkerId = Options.WorkerId, Status = status };
        using var response = await SendAsync(HttpMethod.Post,
            $"/v1/agent/workers/{Uri.EscapeDataString(Options.WorkerId)}/heartbeat", body, ct).ConfigureAwait(false);
        await EnsureSuccessAsync(response, ct).ConfigureAwait(false);
    }

    // ---------------------------------------------------------------- task stream

    /// <summary>
    /// <c>GET /v1/worker/tasks/stream</c> as an endless sequence of events. When the stream drops or the server is
    /// down it re-registers and reconnects with exponential back-off plus jitter (capped at
    /// <see cref="CodeTetherClientOptions.ReconnectMaxDelay"/>), sending <c>Last-Event-ID</c>. It ends only when
    /// <paramref name="ct"/> is cancelled (without throwing), or throws <see cref="CodeTetherApiException"/> when the
    /// server rejects our credentials (401/403), which no reconnect can fix.
    /// </summary>
    public async IAsyncEnumerable<WorkerStreamEvent> StreamTasksAsync([EnumeratorCancellation] CancellationToken ct = default)
    {
        var failures = 0;
        var reconnecting = false;
        while (!ct.IsCancellationRequested)
        {
            if (reconnecting)
            {
                var delay = ReconnectDelay(failures);
                Log.StreamReconnecting(_logger, Options.WorkerId, (long)delay.TotalMilliseconds, failures + 1, LastEventId);
                if (!await DelayAsync(delay, ct).ConfigureAwait(false)) yield break;
                if (!await TryRegisterAsync(ct).ConfigureAwait(false))
                {
                    failures++;
                    continue;
                }
            }
            reconnecting = true;

            using var response = await TryOpenStreamAsync(ct).ConfigureAwait(false);
            if (response is null)
            {
                if (ct.IsCancellationRequested) yield break;
                failures++;
                continue;
            }

            Stream stream;
            try
            {
                stream = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or HttpRequestException or OperationCanceledException)
            {
                if (ct.IsCancellationRequested) yield break;
                Log.StreamDropped(_logger, Options.WorkerId, ex.Message);
                failures++;
                continue;
            }

            await using var _ = stream.ConfigureAwait(false);
            using var idle = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var parser = SseParser.Create(stream, static (_, data) => Encoding.UTF8.GetString(data));
            var items = parser.EnumerateAsync(idle.Token).GetAsyncEnumerator(idle.Token);
            await using var __ = items.ConfigureAwait(false);
            var receivedAny = false;
            while (true)
            {
                idle.CancelAfter(Options.StreamIdleTimeout);
                SseItem<string> item;
                try
                {
                    if (!await items.MoveNextAsync().ConfigureAwait(false))
                    {
                        Log.StreamEnded(_logger, Options.WorkerId);
                        break;
                    }
                    item = items.Current;
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    yield break;
                }
                catch (OperationCanceledException)
                {
                    Log.StreamIdle(_logger, Options.WorkerId, (long)Options.StreamIdleTimeout.TotalSeconds);
                    break;
                }
                catch (Exception ex) when (ex is IOException or HttpRequestException)
                {
                    Log.StreamDropped(_logger, Options.WorkerId, ex.Message);
                    break;
                }

                // The consumer's time is not server silence: stop the idle clock while the event is handled.
                idle.CancelAfter(Timeout.InfiniteTimeSpan);
                receivedAny = true;
                if (!string.IsNullOrEmpty(item.EventId)) LastEventId = item.EventId;
                var evt = ToStreamEvent(item);
                if (evt is null) continue;
                if (evt is WorkerConnectedEvent)
                {
                    failures = 0;
                    Log.StreamConnected(_logger, Options.WorkerId, LastEventId);
                }
                yield return evt;
            }

            failures = receivedAny ? 0 : failures + 1;
        }
    }

    private async Task<HttpResponseMessage?> TryOpenStreamAsync(CancellationToken ct)
    {
        using var request = CreateRequest(HttpMethod.Get, "/v1/worker/tasks/stream");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        request.Headers.TryAddWithoutValidation("X-Agent-Name", Options.DisplayName);
        if (Options.Codebases.Count > 0)
            request.Headers.TryAddWithoutValidation("X-Codebases", string.Join(',', Options.Codebases));
        if (Options.Capabilities.Count > 0)
            request.Headers.TryAddWithoutValidation("X-Capabilities", string.Join(',', Options.Capabilities));
        if (LastEventId is not null)
            request.Headers.TryAddWithoutValidation("Last-Event-ID", LastEventId);

        HttpResponseMessage response;
        try
        {
            response = await _streamHttp.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return null;
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException)
        {
            Log.StreamConnectFailed(_logger, Options.WorkerId, ex.Message);
            return null;
        }

        if (response.IsSuccessStatusCode) return response;
        using (response)
        {
            if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            {
                throw await CreateExceptionAsync(response, ct).ConfigureAwait(false);
            }
            Log.StreamRejected(_logger, Options.WorkerId, (int)response.StatusCode);
            return null;
        }
    }

    private async Task<bool> TryRegisterAsync(CancellationToken ct)
    {
        try
        {
            await RegisterAsync(ct).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return false;
        }
        catch (CodeTetherApiException ex) when (ex.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
        {
            throw;
        }
        catch (Exception ex)
        {
            Log.ReregisterFailed(_logger, Options.WorkerId, ex.Message);
            return false;
        }
    }

    private WorkerStreamEvent? ToStreamEvent(SseItem<string> item)
    {
        try
        {
            switch (item.EventType)
            {
                case WorkerStreamEvents.Connected:
                    var connected = string.IsNullOrWhiteSpace(item.Data)
                        ? null
                        : JsonSerializer.Deserialize<WorkerStreamConnected>(item.Data, CodeTetherJson.Options);
                    return new WorkerConnectedEvent(item.EventId, connected?.WorkerId);

                case WorkerStreamEvents.TaskAvailable:
                    using (var doc = JsonDocument.Parse(item.Data))
                    {
                        // The TaskDto itself; tolerate a {"task": {...}} envelope too.
                        var json = doc.RootElement;
                        if (json.ValueKind == JsonValueKind.Object && !json.TryGetProperty("id", out _)
                            && json.TryGetProperty("task", out var inner) && inner.ValueKind == JsonValueKind.Object)
                        {
                            json = inner;
                        }
                        var task = json.Deserialize<TaskDto>(CodeTetherJson.Options)
                            ?? throw new JsonException("task_available carried null");
                        return new TaskAvailableEvent(item.EventId, task);
                    }

                case WorkerStreamEvents.TaskCancelled:
                    var cancelled = JsonSerializer.Deserialize<WorkerStreamTaskCancelled>(item.Data, CodeTetherJson.Options);
                    if (string.IsNullOrEmpty(cancelled?.TaskId)) throw new JsonException("task_cancelled without task_id");
                    return new TaskCancelledEvent(item.EventId, cancelled.TaskId, cancelled.Reason);

                case WorkerStreamEvents.Heartbeat:
                    return new StreamHeartbeatEvent(item.EventId);

                default:
                    Log.UnknownStreamEvent(_logger, item.EventType);
                    return null;
            }
        }
        catch (JsonException ex)
        {
            Log.MalformedStreamEvent(_logger, item.EventType, item.EventId, ex.Message);
            return null;
        }
    }

    private TimeSpan ReconnectDelay(int failures)
    {
        // "Equal jitter": half of the capped exponential delay is fixed, half random, so the loop never spins hot.
        var baseMs = Math.Max(1, Options.ReconnectBaseDelay.TotalMilliseconds);
        var capped = Math.Min(Options.ReconnectMaxDelay.TotalMilliseconds, baseMs * Math.Pow(2, Math.Min(failures, 16)));
        return TimeSpan.FromMilliseconds(capped / 2 + Random.Shared.NextDouble() * capped / 2);
    }

    private async Task<bool> DelayAsync(TimeSpan delay, CancellationToken ct)
    {
        try
        {
            await Task.Delay(delay, Options.TimeProvider, ct).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    // ---------------------------------------------------------------- task leases

    /// <summary>
    /// <c>POST /v1/worker/tasks/claim</c>. Returns the lease on 200, <c>null</c> on 409 (another worker won the race);
    /// other errors throw <see cref="CodeTetherApiException"/>.
    /// </summary>
    public async Task<ClaimTaskResponse?> ClaimAsync(string taskId, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(taskId);
        var body = new ClaimTaskRequest { TaskId = taskId, WorkerId = Options.WorkerId };
        using var response = await SendAsync(HttpMethod.Post, "/v1/worker/tasks/claim", body, ct).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.Conflict) return null;
        await EnsureSuccessAsync(response, ct).ConfigureAwait(false);
        var claim = await ReadAsync<ClaimTaskResponse>(response, ct).ConfigureAwait(false);
        return claim.FencingToken == 0 && claim.Task.FencingToken != 0
            ? claim with { FencingToken = claim.Task.FencingToken }
            : claim;
    }

    /// <summary>
    /// <c>POST /v1/worker/tasks/heartbeat</c>: renews the lease and reports progress.
    /// Throws <see cref="LeaseLostException"/> on 404/409 (cancelled, requeued, or stale fencing token).
    /// </summary>
    public async Task<TaskLeaseResponse> RenewLeaseAsync(string taskId, long fencingToken, int? progressPct = null,
        string? statusMessage = null, JsonElement? checkpoint = null, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(taskId);
        var body = new TaskHeartbeatRequest
        {
            TaskId = taskId,
            WorkerId = Options.WorkerId,
            FencingToken = fencingToken,
            ProgressPct = progressPct,
            StatusMessage = statusMessage,
            Checkpoint = checkpoint,
        };
        using var response = await SendAsync(HttpMethod.Post, "/v1/worker/tasks/heartbeat", body, ct).ConfigureAwait(false);
        await EnsureLeaseAsync(response, taskId, HttpStatusCode.NotFound, HttpStatusCode.Conflict, ct).ConfigureAwait(false);
        return await ReadAsync<TaskLeaseResponse>(response, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// <c>POST /v1/worker/tasks/{id}/events</c>: appends the agent's steps (and renews the lease server-side).
    /// Throws <see cref="LeaseLostException"/> on 404/409.
    /// </summary>
    public async Task PostStepsAsync(string taskId, long fencingToken, IReadOnlyList<TaskStep> steps,
        CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(taskId);
        ArgumentNullException.ThrowIfNull(steps);
        var body = new TaskStepsRequest { WorkerId = Options.WorkerId, FencingToken = fencingToken, Events = steps };
        using var response = await SendAsync(HttpMethod.Post,
            $"/v1/worker/tasks/{Uri.EscapeDataString(taskId)}/events", body, ct).ConfigureAwait(false);
        await EnsureLeaseAsync(response, taskId, HttpStatusCode.NotFound, HttpStatusCode.Conflict, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// <c>POST /v1/worker/tasks/release</c>: hands the task back with its final <paramref name="status"/>
    /// (<c>completed</c>, <c>failed</c> or <c>cancelled</c>); <paramref name="requeue"/> with <c>failed</c> hands it back
    /// for another attempt instead. Throws <see cref="LeaseLostException"/> on 404 (not the holder).
    /// </summary>
    public async Task ReleaseAsync(string taskId, long fencingToken, string status, string? result, string? error,
        CancellationToken ct = default, bool requeue = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(taskId);
        ArgumentException.ThrowIfNullOrEmpty(status);
        var body = new ReleaseTaskRequest
        {
            TaskId = taskId,
            WorkerId = Options.WorkerId,
            FencingToken = fencingToken,
            Status = status,
            Result = result,
            Error = error,
            Requeue = requeue ? true : null,
        };
        using var response = await SendAsync(HttpMethod.Post, "/v1/worker/tasks/release", body, ct).ConfigureAwait(false);
        await EnsureLeaseAsync(response, taskId, HttpStatusCode.NotFound, HttpStatusCode.NotFound, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// <c>POST /v1/worker/tasks/{id}/input-required</c>: the agent needs the user (a question or an approval). The task
    /// moves to <c>input-required</c> and the lease is given up; the user's answer (<see cref="ResumeTaskAsync"/>) puts it
    /// back in the queue with the answer as its prompt. Throws <see cref="LeaseLostException"/> on 404/409.
    /// </summary>
    public async Task<TaskDto> RequestInputAsync(string taskId, long fencingToken, string question, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(taskId);
        ArgumentException.ThrowIfNullOrWhiteSpace(question);
        var body = new RequestInputRequest { WorkerId = Options.WorkerId, FencingToken = fencingToken, Message = question };
        using var response = await SendAsync(HttpMethod.Post,
            $"/v1/worker/tasks/{Uri.EscapeDataString(taskId)}/input-required", body, ct).ConfigureAwait(false);
        await EnsureLeaseAsync(response, taskId, HttpStatusCode.NotFound, HttpStatusCode.Conflict, ct).ConfigureAwait(false);
        return await ReadAsync<TaskDto>(response, ct).ConfigureAwait(false);
    }

    /// <summary><c>POST /v1/agent/codebases/{id}/sessions/sync</c>.</summary>
    public async Task<SessionSyncResponse> SyncSessionsAsync(string codebaseId, SessionSyncRequest request,
        CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(codebaseId);
        ArgumentNullException.ThrowIfNull(request);
        var body = request.WorkerId is null ? request with { WorkerId = Options.WorkerId } : request;
        using var response = await SendAsync(HttpMethod.Post,
            $"/v1/agent/codebases/{Uri.EscapeDataString(codebaseId)}/sessions/sync", body, ct).ConfigureAwait(false);
        await EnsureSuccessAsync(response, ct).ConfigureAwait(false);
        return await ReadAsync<SessionSyncResponse>(response, ct).ConfigureAwait(false);
    }

    // ---------------------------------------------------------------- task API (CLI)

    /// <summary><c>POST /v1/agent/tasks</c> (202). Not retried: a replay could create the task twice.</summary>
    public async Task<TaskDto> CreateTaskAsync(CreateTaskRequest request, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var response = await SendAsync(HttpMethod.Post, "/v1/agent/tasks", request, ct, noRetry: true).ConfigureAwait(false);
        await EnsureSuccessAsync(response, ct).ConfigureAwait(false);
        return await ReadAsync<TaskDto>(response, ct).ConfigureAwait(false);
    }

    /// <summary><c>GET /v1/agent/tasks?status=&amp;codebase_id=&amp;limit=&amp;cursor=</c>.</summary>
    public async Task<TaskPage> ListTasksAsync(string? status = null, string? codebaseId = null, int? limit = null,
        string? cursor = null, CancellationToken ct = default)
    {
        var query = new List<string>(4);
        if (!string.IsNullOrEmpty(status)) query.Add("status=" + Uri.EscapeDataString(status));
        if (!string.IsNullOrEmpty(codebaseId)) query.Add("codebase_id=" + Uri.EscapeDataString(codebaseId));
        if (limit is { } l) query.Add("limit=" + l.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (!string.IsNullOrEmpty(cursor)) query.Add("cursor=" + Uri.EscapeDataString(cursor));
        var path = query.Count == 0 ? "/v1/agent/tasks" : "/v1/agent/tasks?" + string.Join('&', query);
        using var response = await SendAsync<object>(HttpMethod.Get, path, null, ct).ConfigureAwait(false);
        await EnsureSuccessAsync(response, ct).ConfigureAwait(false);
        return await ReadAsync<TaskPage>(response, ct).ConfigureAwait(false);
    }

    /// <summary><c>GET /v1/agent/tasks/{id}</c>; <c>null</c> when the task does not exist.</summary>
    public async Task<TaskDetailDto?> GetTaskAsync(string taskId, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(taskId);
        using var response = await SendAsync<object>(HttpMethod.Get,
            $"/v1/agent/tasks/{Uri.EscapeDataString(taskId)}", null, ct).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        await EnsureSuccessAsync(response, ct).ConfigureAwait(false);
        return await ReadAsync<TaskDetailDto>(response, ct).ConfigureAwait(false);
    }

    /// <summary><c>POST /v1/agent/tasks/{id}/cancel</c>.</summary>
    public async Task<TaskDto> CancelTaskAsync(string taskId, string? reason = null, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(taskId);
        using var response = await SendAsync(HttpMethod.Post, $"/v1/agent/tasks/{Uri.EscapeDataString(taskId)}/cancel",
            new CancelTaskRequest { Reason = reason }, ct).ConfigureAwait(false);
        await EnsureSuccessAsync(response, ct).ConfigureAwait(false);
        return await ReadAsync<TaskDto>(response, ct).ConfigureAwait(false);
    }

    /// <summary><c>POST /v1/agent/tasks/{id}/resume</c>: answers a task waiting in <c>input-required</c>.</summary>
    public async Task<TaskDto> ResumeTaskAsync(string taskId, string answer, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(taskId);
        ArgumentException.ThrowIfNullOrWhiteSpace(answer);
        using var response = await SendAsync(HttpMethod.Post, $"/v1/agent/tasks/{Uri.EscapeDataString(taskId)}/resume",
            new ResumeTaskRequest { Prompt = answer }, ct, noRetry: true).ConfigureAwait(false);
        await EnsureSuccessAsync(response, ct).ConfigureAwait(false);
        return await ReadAsync<TaskDto>(response, ct).ConfigureAwait(false);
    }

    // ---------------------------------------------------------------- plumbing

    private HttpRequestMessage CreateRequest(HttpMethod method, string path)
    {
        var request = new HttpRequestMessage(method, path);
        if (!string.IsNullOrEmpty(Options.Token))
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Options.Token);
        request.Headers.TryAddWithoutValidation("X-Worker-ID", Options.WorkerId);
        return request;
    }

    private async Task<HttpResponseMessage> SendAsync<T>(HttpMethod method, string path, T? body, CancellationToken ct,
        bool noRetry = false)
    {
        using var request = CreateRequest(method, path);
        if (body is not null) request.Content = JsonContent.Create(body, options: CodeTetherJson.Options);
        if (noRetry) request.Options.Set(CodeTetherHttp.NoRetry, true);
        return await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, ct).ConfigureAwait(false);
    }

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response, CancellationToken ct)
    {
        var value = await response.Content.ReadFromJsonAsync<T>(CodeTetherJson.Options, ct).ConfigureAwait(false);
        return value ?? throw new CodeTetherApiException(response.StatusCode,
            new ApiProblem { Title = "Empty response body" }, response.RequestMessage?.Method.Method ?? "?",
            response.RequestMessage?.RequestUri?.PathAndQuery ?? "?");
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken ct)
    {
        if (!response.IsSuccessStatusCode) throw await CreateExceptionAsync(response, ct).ConfigureAwait(false);
    }

    private static async Task EnsureLeaseAsync(HttpResponseMessage response, string taskId, HttpStatusCode lost1,
        HttpStatusCode lost2, CancellationToken ct)
    {
        if (response.IsSuccessStatusCode) return;
        if (response.StatusCode == lost1 || response.StatusCode == lost2)
        {
            var problem = await ReadProblemAsync(response, ct).ConfigureAwait(false);
            throw new LeaseLostException(taskId, response.StatusCode, problem, Method(response), PathOf(response));
        }
        throw await CreateExceptionAsync(response, ct).ConfigureAwait(false);
    }

    private static async Task<CodeTetherApiException> CreateExceptionAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var problem = await ReadProblemAsync(response, ct).ConfigureAwait(false);
        return new CodeTetherApiException(response.StatusCode, problem, Method(response), PathOf(response));
    }

    private static async Task<ApiProblem?> ReadProblemAsync(HttpResponseMessage response, CancellationToken ct)
    {
        string text;
        try
        {
            text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException)
        {
            return null;
        }
        if (string.IsNullOrWhiteSpace(text)) return null;
        if (text.TrimStart().StartsWith('{'))
        {
            try
            {
                return JsonSerializer.Deserialize<ApiProblem>(text, CodeTetherJson.Options);
            }
            catch (JsonException)
            {
                // fall through: keep the raw text
            }
        }
        return new ApiProblem
        {
            Status = (int)response.StatusCode,
            Detail = text.Length > MaxErrorBodyChars ? text[..MaxErrorBodyChars] + "…" : text,
        };
    }

    private static string Method(HttpResponseMessage r) => r.RequestMessage?.Method.Method ?? "?";
    private static string PathOf(HttpResponseMessage r) => r.RequestMessage?.RequestUri?.AbsolutePath ?? "?";

    public void Dispose()
    {
        if (!_ownsClients) return;
        _http.Dispose();
        _streamHttp.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Task stream of worker {WorkerId} connected (last event id {LastEventId})")]
        public static partial void StreamConnected(ILogger logger, string workerId, string? lastEventId);

        [LoggerMessage(2, LogLevel.Warning, "Task stream of worker {WorkerId} dropped: {Reason}")]
        public static partial void StreamDropped(ILogger logger, string workerId, string reason);

        [LoggerMessage(3, LogLevel.Information, "Task stream of worker {WorkerId} ended by the server")]
        public static partial void StreamEnded(ILogger logger, string workerId);

        [LoggerMessage(4, LogLevel.Warning, "Task stream of worker {WorkerId} silent for {Seconds} s; reconnecting")]
        public static partial void StreamIdle(ILogger logger, string workerId, long seconds);

        [LoggerMessage(5, LogLevel.Information,
            "Reconnecting task stream of worker {WorkerId} in {DelayMs} ms (attempt {Attempt}, Last-Event-ID {LastEventId})")]
        public static partial void StreamReconnecting(ILogger logger, string workerId, long delayMs, int attempt, string? lastEventId);

        [LoggerMessage(6, LogLevel.Warning, "Task stream of worker {WorkerId} could not connect: {Reason}")]
        public static partial void StreamConnectFailed(ILogger logger, string workerId, string reason);

        [LoggerMessage(7, LogLevel.Warning, "Task stream of worker {WorkerId} refused with HTTP {StatusCode}")]
        public static partial void StreamRejected(ILogger logger, string workerId, int statusCode);

        [LoggerMessage(8, LogLevel.Warning, "Re-registering worker {WorkerId} failed: {Reason}")]
        public static partial void ReregisterFailed(ILogger logger, string workerId, string reason);

        [LoggerMessage(9, LogLevel.Debug, "Ignoring task stream event {EventType}")]
        public static partial void UnknownStreamEvent(ILogger logger, string eventType);

        [LoggerMessage(10, LogLevel.Warning, "Skipping malformed task stream event {EventType} (id {EventId}): {Reason}")]
        public static partial void MalformedStreamEvent(ILogger logger, string eventType, string? eventId, string reason);
    }
}
