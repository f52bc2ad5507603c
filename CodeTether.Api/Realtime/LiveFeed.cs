using System.Threading.Channels;
using CodeTether.Api.Auth;
using CodeTether.Shared.Events;
using CodeTether.Web.Services;

namespace CodeTether.Api.Realtime;

/// <summary>
/// The dashboard's live port (one per circuit): bus events of the signed-in user's tenant, handed to the components
/// that subscribed. A subscription that falls behind the bus is re-attached; <see cref="IsLive"/> is false meanwhile
/// and views reload when it turns true again (the database is the source of truth).
/// </summary>
public sealed class LiveFeed(IEventBus bus, DashboardUser user, ILogger<LiveFeed> log) : ILiveFeed, IDisposable
{
    readonly CancellationTokenSource _stop = new();
    bool _live = true;

    public bool IsLive => _live;
    public event Action? LiveChanged;

    public IDisposable Subscribe(Func<LiveEvent, Task> onEvent, Func<LiveEvent, bool>? filter = null)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        _ = PumpAsync(onEvent, filter ?? (_ => true), cts.Token);
        return new Stopper(cts);
    }

    async Task PumpAsync(Func<LiveEvent, Task> onEvent, Func<LiveEvent, bool> filter, CancellationToken ct)
    {
        string tenant;
        try { tenant = await user.TenantAsync(); }
        catch (Exception ex) when (ex is InvalidOperationException or ObjectDisposedException) { return; }
        while (!ct.IsCancellationRequested)
        {
            using var sub = bus.Subscribe(e => e.TenantId == tenant && filter(e));
            SetLive(true);
            try
            {
                await foreach (var e in sub.Reader.ReadAllAsync(ct))
                {
                    try { await onEvent(e); }
                    catch (Exception ex) when (ex is not OperationCanceledException) { Log.HandlerFailed(log, ex); }
                }
                return; // the bus completed the channel: shutting down
            }
            catch (OperationCanceledException) { return; }
            catch (ChannelClosedException) { SetLive(false); }
            catch (SubscriberOverflowException) { SetLive(false); }
            try { await Task.Delay(TimeSpan.FromMilliseconds(250), ct); } catch (OperationCanceledException) { return; }
        }
    }

    void SetLive(bool live)
    {
        if (_live == live) return;
        _live = live;
        LiveChanged?.Invoke();
    }

    public void Dispose()
    {
        _stop.Cancel();
        _stop.Dispose();
    }

    sealed class Stopper(CancellationTokenSource cts) : IDisposable
    {
        public void Dispose()
        {
            try { cts.Cancel(); } catch (ObjectDisposedException) { }
            cts.Dispose();
        }
    }
}

static partial class Log
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "A dashboard live-update handler failed")]
    public static partial void HandlerFailed(ILogger logger, Exception ex);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The SignalR relay fell behind the event bus and re-attached")]
    public static partial void RelayOverflow(ILogger logger);
}
