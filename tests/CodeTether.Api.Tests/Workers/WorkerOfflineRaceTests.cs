using CodeTether.Api.Auth;
using CodeTether.Api.Workers;
using CodeTether.Shared.Contracts;
using CodeTether.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace CodeTether.Api.Tests.Workers;

/// <summary>
/// A worker whose old stream closes just as it reconnects: the late "offline" of the old stream must not undo the
/// new connection.
/// </summary>
public sealed class WorkerOfflineRaceTests : IAsyncLifetime
{
    ApiHost _host = null!;

    public async ValueTask InitializeAsync() => _host = await ApiHost.StartAsync();
    public async ValueTask DisposeAsync() => await _host.DisposeAsync();

    async Task<string> StatusAsync(string workerId) =>
        (await (await _host.Client().GetAsync($"/v1/agent/workers/{workerId}", TestContext.Current.CancellationToken)).ReadAsync<WorkerDto>()).Status;

    async Task MarkOfflineAsync(string workerId, DateTimeOffset closedAt)
    {
        await using var scope = _host.Services.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<TenantContext>().TenantId = Tenant.DefaultId;
        await scope.ServiceProvider.GetRequiredService<WorkerRegistry>().MarkOfflineAsync(workerId, TestContext.Current.CancellationToken, closedAt);
    }

    [Fact]
    public async Task OldStreamClosing_AfterTheWorkerRegisteredAgain_LeavesItOnline()
    {
        var http = _host.Client(ApiHost.WorkerToken);
        var closedAt = DateTimeOffset.UtcNow.AddSeconds(-1); // the old stream closed ...
        await http.RegisterWorkerAsync("flapper", "global"); // ... then the worker came back

        await MarkOfflineAsync("flapper", closedAt);          // the old stream's late "offline"

        Assert.Equal(WorkerStatuses.Online, await StatusAsync("flapper"));
    }

    [Fact]
    public async Task StreamClosing_WithNoNewsSince_ShowsTheWorkerOffline()
    {
        var http = _host.Client(ApiHost.WorkerToken);
        await http.RegisterWorkerAsync("leaver", "global");

        await MarkOfflineAsync("leaver", DateTimeOffset.UtcNow.AddSeconds(1));

        Assert.Equal(WorkerStatuses.Offline, await StatusAsync("leaver"));
    }
}
