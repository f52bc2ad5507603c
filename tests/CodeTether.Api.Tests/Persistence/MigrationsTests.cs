using CodeTether.Api.Persistence;
using CodeTether.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace CodeTether.Api.Tests.Persistence;

/// <summary>Each provider has its own migration set; both must match the model and apply to an empty database.</summary>
public sealed class MigrationsTests
{
    [Theory]
    [InlineData(DbKind.Sqlite)]
    [InlineData(DbKind.Postgres)]
    public async Task Migrations_OnEmptyDatabase_ApplyAndMatchTheModel(DbKind kind)
    {
        await using var host = await ApiHost.StartAsync(kind);
        await using var scope = host.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CodeTetherDb>();

        Assert.False(db.Database.HasPendingModelChanges(), "The model changed without a migration for this provider.");
        Assert.Empty(await db.Database.GetPendingMigrationsAsync(TestContext.Current.CancellationToken));
        Assert.NotEmpty(await db.Database.GetAppliedMigrationsAsync(TestContext.Current.CancellationToken));
        Assert.Equal(kind == DbKind.Sqlite, db is SqliteCodeTetherDb);
        Assert.True(await db.Tenants.AnyAsync(t => t.Id == "default", TestContext.Current.CancellationToken));
    }
}
