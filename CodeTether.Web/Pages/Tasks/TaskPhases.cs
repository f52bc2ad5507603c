using CodeTether.Shared.Contracts;
using CodeTether.Shared.Events;

namespace CodeTether.Web.Pages.Tasks;

/// <summary>How long one attempt of a task waited for a worker, sat claimed, ran, and waited for a person's answer; from its status events.</summary>
public sealed record AttemptPhases(int Attempt, TimeSpan Waiting, TimeSpan Claimed, TimeSpan Running, string? Worker, string Outcome, bool Open,
    TimeSpan AwaitingInput = default)
{
    public TimeSpan Total => Waiting + Claimed + Running + AwaitingInput;

    /// <summary>Splits the status events into attempts; an attempt still open is measured up to <paramref name="now"/>.</summary>
    public static IReadOnlyList<AttemptPhases> From(IEnumerable<TaskEventDto> events, DateTimeOffset now)
    {
        var result = new List<AttemptPhases>();
        foreach (var attempt in events.Where(e => e.Type == TaskEventTypes.Status).OrderBy(e => e.CreatedAt).ThenBy(e => e.Id).GroupBy(e => e.Attempt))
        {
            var list = attempt.ToList();
            TimeSpan waiting = default, claimed = default, running = default, asked = default;
            string? worker = null;
            for (var i = 0; i < list.Count; i++)
            {
                var e = list[i];
                var end = i + 1 < list.Count ? list[i + 1].CreatedAt : TaskStatuses.IsTerminal(e.Status) ? e.CreatedAt : now;
                var span = end - e.CreatedAt;
                if (span < TimeSpan.Zero) span = TimeSpan.Zero;
                switch (e.Status)
                {
                    case TaskStatuses.Submitted or TaskStatuses.Routed: waiting += span; break;
                    case TaskStatuses.Claimed: claimed += span; worker ??= e.WorkerId; break;
                    case TaskStatuses.Running: running += span; worker ??= e.WorkerId; break;
                    case TaskStatuses.InputRequired: asked += span; break; // a person's time, not the worker's
                }
            }
            var last = list[^1];
            // An attempt that was handed back (lease expired, worker shut down) ends where the next one starts.
            var open = !TaskStatuses.IsTerminal(last.Status);
            result.Add(new AttemptPhases(attempt.Key, waiting, claimed, running, worker, last.Status, open, asked));
        }
        // Only the newest attempt can still be open.
        for (var i = 0; i < result.Count - 1; i++) result[i] = result[i] with { Open = false };
        return result;
    }
}
