using System.Collections.Concurrent;
using System.Threading.Channels;
using CodeTether.Shared.Events;

namespace CodeTether.Api.Realtime;

/// <summary>The embedded default: fan-out to bounded channels in this process.</summary>
public sealed class InProcessEventBus : IEventBus
{
    const int Capacity = 10_000;
    readonly ConcurrentDictionary<long, Subscription> _subscribers = new();
    long _next;

    public ValueTask PublishAsync(LiveEvent e, CancellationToken ct = default)
    {
        foreach (var s in _subscribers.Values)
            s.Offer(e);
        return ValueTask.CompletedTask;
    }

    public IEventSubscription Subscribe(Func<LiveEvent, bool> filter)
    {
        var id = Interlocked.Increment(ref _next);
        var s = new Subscription(filter, () => _subscribers.TryRemove(id, out _));
        _subscribers[id] = s;
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
