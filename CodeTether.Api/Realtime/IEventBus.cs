using System.Threading.Channels;
using CodeTether.Shared.Events;

namespace CodeTether.Api.Realtime;

/// <summary>
/// Carries committed changes to every view (SSE streams, the dispatcher, SignalR). In-process by default;
/// a Redis implementation fans out across replicas. The database stays the source of truth: a subscriber that
/// falls behind is closed and resumes from the database with Last-Event-ID.
/// </summary>
public interface IEventBus
{
    ValueTask PublishAsync(LiveEvent e, CancellationToken ct = default);

    /// <summary>Receive every event published after this call that passes <paramref name="filter"/>.</summary>
    IEventSubscription Subscribe(Func<LiveEvent, bool> filter);
}

public interface IEventSubscription : IDisposable
{
    /// <summary>Completes with <see cref="SubscriberOverflowException"/> when the subscriber fell too far behind.</summary>
    ChannelReader<LiveEvent> Reader { get; }
}

public sealed class SubscriberOverflowException() : Exception("The subscriber fell behind the event bus and was disconnected.");
