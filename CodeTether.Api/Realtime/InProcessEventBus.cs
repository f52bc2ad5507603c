using System.Threading.Channels;
using CodeTether.Shared.Events;

namespace CodeTether.Api.Realtime;

/// <summary>The embedded default: fan-out to bounded channels in this process.</summary>
public sealed class InProcessEventBus : IEventBus
{
    const int Capacity = 10_000;
    /// <summary>Copy-on-write: publishing (every committed change) reads a snapshot without taking a lock.</summary>
    volatile Subscription[] _subscribers = [];
    readonly Lock _changing = new();

    public ValueTask PublishAsync(LiveEvent e, CancellationToken ct = default)
    {
        foreach (var s in _subscribers)
            s.Offer(e);
        return ValueTask.CompletedTask;
    }

    public IEventSubscription Subscribe(Func<LiveEvent, bool> filter)
    {
        Subscription? s = null;
        s = new Subscription(filter, () => { lock (_changing) _subscribers = [.. _subscribers.Where(x => x != s)]; });
        lock (_changing) _subscribers = [.. _subscribers, s];
        return s;
    }

    sealed class Subscription(Func<LiveEvent, bool> filter, Action remove) : IEventSubscription
    {
        readonly Channel<LiveEvent> _channel = Channel.CreateBounded<LiveEvent>(
            new BoundedChannelOptions(Capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

        public ChannelReader<LiveEvent> Reader => _channel.Reader;

        public void Offer(LiveEvent e)
        {
            if (!filter(e)) return;
            if (!_channel.Writer.TryWrite(e))
                _channel.Writer.TryComplete(new SubscriberOverflowException());
        }

        public void Dispose()
        {
            remove();
            _channel.Writer.TryComplete();
        }
    }
}
