using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Threading.Channels;
using CodeTether.Shared.Contracts;
using CodeTether.Testing;

namespace CodeTether.Api.Tests.Lifecycle;

/// <summary>
/// Many workers race for many tasks, through pushed offers and the polling fallback at once.
/// Every task must be claimed exactly once and completed exactly once; losers get 409; nothing is lost.
/// </summary>
public abstract class ContentionTests(DbKind kind) : LifecycleTest(kind)
{
    const int WorkerCount = 8;
    const int SlotsPerWorker = 2; // a worker may run two tasks at once: its own claims race each other too
    const int TaskCount = 500;

    [Fact]
    public async Task ClaimRace_EightWorkersFiveHundredTasks_EachTaskClaimedAndCompletedExactlyOnce()
    {
        var host = await StartHostAsync();
        var admin = host.Client();
        var codebase = await admin.CreateCodebaseAsync();
        var race = new Race(TaskCount);
        var clock = Stopwatch.StartNew();

        var workers = Enumerable.Range(1, WorkerCount).Select(i => new RacingWorker(host, $"racer-{i}", codebase.Id, race)).ToList();
        foreach (var w in workers) await w.ConnectAsync();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestCancelled);
        var running = workers.Select(w => w.RunAsync(stop.Token)).ToList();

        // Submit while the workers are already racing, from four clients at once.
        var submitted = new ConcurrentBag<string>();
        await Parallel.ForEachAsync(Enumerable.Range(0, TaskCount), new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (i, _) =>
            submitted.Add((await admin.TriggerAsync(codebase.Id, $"task {i}")).Id));
        var submittedAfter = clock.Elapsed;

        var finished = await Task.WhenAny(race.AllCompleted.Task, Task.Delay(TimeSpan.FromSeconds(90), TestCancelled));
        stop.Cancel();
        await Task.WhenAll(running);
        foreach (var w in workers) await w.DisposeAsync();
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{Kind}: {TaskCount} tasks, {WorkerCount}x{SlotsPerWorker} workers in {clock.Elapsed.TotalSeconds:F1}s (all submitted after {submittedAfter.TotalSeconds:F1}s); " +
            $"claims 200={race.Won} 409={race.Conflicts}; wins via poll={race.WonFromPoll}, via offer={race.WonFromOffer}");

        Assert.Empty(race.Unexpected);
        Assert.True(finished == race.AllCompleted.Task, $"only {race.Completed} of {TaskCount} tasks completed in time");
        Assert.Equal(TaskCount, submitted.Distinct().Count());
        Assert.Equal(TaskCount, race.Won);
        Assert.True(race.Conflicts > 0, "no claim ever lost: there was no contention to prove anything");
        Assert.Equal(submitted.Order(), race.WinsPerTask.Keys.Order());
        Assert.All(race.WinsPerTask, kv => Assert.Equal(1, kv.Value));

        // What the server recorded agrees: one claim and one completion per task, all done, none pending.
        var timelines = new ConcurrentDictionary<string, TaskDetailDto>();
        await Parallel.ForEachAsync(submitted, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (id, _) =>
            timelines[id] = await admin.GetTaskAsync(id));
        Assert.All(timelines.Values, d =>
        {
            Assert.Equal(TaskStatuses.Completed, d.Task.Status);
            Assert.Equal(1, d.Task.FencingToken);
            Assert.Single(d.Timeline, e => e.Status == TaskStatuses.Claimed);
            Assert.Single(d.Timeline, e => e.Status == TaskStatuses.Completed);
            Assert.Equal(race.WinnerOf[d.Task.Id], d.Task.WorkerId);
        });
        var pending = await (await admin.GetAsync($"/v1/agent/tasks?status=pending&codebase_id={codebase.Id}", TestCancelled)).ReadAsync<TaskPage>();
        Assert.Empty(pending.Tasks);
        var listed = await admin.GetFromJsonAsync<List<WorkerDto>>("/v1/agent/workers", Protocol.Json, TestCancelled);
        Assert.Equal(TaskCount, listed!.Sum(w => w.TasksCompleted));
        Assert.All(listed!, w => Assert.Equal(race.Wins(w.WorkerId), w.TasksCompleted));
        Assert.All(listed!, w => Assert.Null(w.CurrentTaskId));
    }

    /// <summary>What the racers saw, shared between them.</summary>
    sealed class Race(int taskCount)
    {
        int _won, _conflicts, _completed, _fromPoll, _fromOffer;
        public int Won => _won;
        public int Conflicts => _conflicts;
        public int Completed => _completed;
        public int WonFromPoll => _fromPoll;
        public int WonFromOffer => _fromOffer;
        public ConcurrentDictionary<string, int> WinsPerTask { get; } = new();
        public ConcurrentDictionary<string, string> WinnerOf { get; } = new();
        public ConcurrentQueue<string> Unexpected { get; } = new();
        public TaskCompletionSource AllCompleted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Wins(string workerId) => WinnerOf.Values.Count(w => w == workerId);

        public void OnWon(string taskId, string workerId, bool fromPoll)
        {
            Interlocked.Increment(ref _won);
            Interlocked.Increment(ref fromPoll ? ref _fromPoll : ref _fromOffer);
            WinsPerTask.AddOrUpdate(taskId, 1, (_, n) => n + 1);
            WinnerOf[taskId] = workerId;
        }

        public void OnConflict() => Interlocked.Increment(ref _conflicts);

        public void OnCompleted()
        {
            if (Interlocked.Increment(ref _completed) == taskCount) AllCompleted.TrySetResult();
        }
    }

    /// <summary>
    /// A worker that takes everything: it claims every task it is offered on its stream and every task the
    /// polling fallback lists, and completes what it wins at once. Its own HttpClient, like a separate process.
    /// </summary>
    sealed class RacingWorker(ApiHost host, string id, string codebaseId, Race race) : IAsyncDisposable
    {
        readonly HttpClient _http = host.Client(ApiHost.WorkerToken);
        readonly Channel<(string TaskId, bool FromPoll)> _candidates = Channel.CreateUnbounded<(string, bool)>();
        readonly ConcurrentDictionary<string, byte> _tried = new();
        SseClient _stream = null!;

        public async Task ConnectAsync()
        {
            await _http.RegisterWorkerAsync(id, codebaseId);
            _stream = await _http.OpenWorkerStreamAsync(id);
            Assert.Equal("connected", (await _stream.NextAsync()).Type);
        }

        public async Task RunAsync(CancellationToken ct)
        {
            var loops = new List<Task> { ListenAsync(ct), PollAsync(ct) };
            loops.AddRange(Enumerable.Range(0, SlotsPerWorker).Select(_ => WorkAsync(ct)));
            try { await Task.WhenAll(loops); }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
        }

        async Task ListenAsync(CancellationToken ct)
        {
            await foreach (var e in _stream.ReadAllAsync(ct))
                if (e.Type == "task_available") _candidates.Writer.TryWrite((e.Json.GetProperty("id").GetString()!, false));
        }

        async Task PollAsync(CancellationToken ct)
        {
            while (!ct.IsCancellationRequested)
            {
                using var req = new HttpRequestMessage(HttpMethod.Get, $"/v1/agent/tasks?status=pending&limit=50");
                req.Headers.Add("X-Worker-ID", id);
                using var res = await _http.SendAsync(req, ct);
                if (res.StatusCode != HttpStatusCode.OK) { race.Unexpected.Enqueue($"poll by {id}: {(int)res.StatusCode}"); continue; }
                foreach (var t in (await res.ReadAsync<TaskPage>()).Tasks) _candidates.Writer.TryWrite((t.Id, true));
                await Task.Delay(100, ct); // the fallback's poll interval, not a wait for an outcome
            }
        }

        async Task WorkAsync(CancellationToken ct)
        {
            await foreach (var (taskId, fromPoll) in _candidates.Reader.ReadAllAsync(ct))
            {
                if (!_tried.TryAdd(taskId, 0)) continue; // never re-claim what it holds or lost (a holder's re-claim is an idempotent 200)
                using var claim = await _http.PostJsonAsync("/v1/worker/tasks/claim", new { task_id = taskId, worker_id = id });
                if (claim.StatusCode == HttpStatusCode.Conflict) { race.OnConflict(); continue; }
                if (claim.StatusCode != HttpStatusCode.OK)
                {
                    race.Unexpected.Enqueue($"claim {taskId} by {id}: {(int)claim.StatusCode} {await claim.Content.ReadAsStringAsync(ct)}");
                    continue;
                }
                var lease = await claim.ReadAsync<ClaimTaskResponse>();
                race.OnWon(taskId, id, fromPoll);
                using var done = await _http.ReleaseAsync(taskId, id, result: $"done by {id}", fencingToken: lease.FencingToken);
                if (done.StatusCode != HttpStatusCode.OK)
                    race.Unexpected.Enqueue($"release {taskId} by {id}: {(int)done.StatusCode} {await done.Content.ReadAsStringAsync(ct)}");
                else race.OnCompleted();
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stream.DisposeAsync();
            _http.Dispose();
        }
    }
}

public sealed class SqliteContentionTests() : ContentionTests(DbKind.Sqlite);

public sealed class PostgresContentionTests() : ContentionTests(DbKind.Postgres);
