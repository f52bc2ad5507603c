using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;

namespace CodeTether.Api.Persistence;

/// <summary>
/// SQLite only, for <see cref="GroupCommit"/>: writes newly added entities with INSERT statements that stay prepared on
/// one connection owned by the writer loop. Microsoft.Data.Sqlite compiles the SQL of every new command again
/// (dotnet/efcore#14044), and for a task row with its indexes and the event-position trigger that compile costs more
/// than the insert itself. Statements and values come from the EF model (table and column names, value converters, the
/// generated key), so the rows are the ones SaveChanges would write. Entity types the plan cannot express make
/// <see cref="TryPlan"/> fail, and the batch is saved by EF instead.
/// </summary>
internal sealed class SqliteInserts(string connectionString, IModel model) : IDisposable
{
    readonly SqliteConnection _connection = new(connectionString);
    readonly Dictionary<Type, Plan?> _plans = [];

    sealed record Column(IProperty Property, SqliteParameter Parameter, Func<object?, object?>? ToProvider);

    sealed record Plan(SqliteCommand Command, Column[] Columns, IProperty? GeneratedKey);

    /// <summary>Whether every entity can be written by a prepared plan (else the caller uses SaveChanges).</summary>
    public bool TryPlan(IEnumerable<object> entities) => entities.All(e => PlanFor(e.GetType()) is not null);

    /// <summary>Inserts the entities, in order, in one transaction; sets generated keys on them.</summary>
    public void Write(IReadOnlyList<object> entities)
    {
        if (_connection.State != System.Data.ConnectionState.Open) _connection.Open();
        using var tx = _connection.BeginTransaction();
        foreach (var entity in entities)
        {
            var plan = PlanFor(entity.GetType()) ?? throw new InvalidOperationException($"No insert plan for {entity.GetType().Name}.");
            plan.Command.Transaction = tx;
            foreach (var c in plan.Columns)
            {
                var value = c.Property.GetGetter().GetClrValue(entity);
                if (value is not null && c.ToProvider is not null) value = c.ToProvider(value);
                c.Parameter.Value = value ?? DBNull.Value;
            }
            if (plan.GeneratedKey is { } key)
                key.PropertyInfo!.SetValue(entity, Convert.ChangeType(plan.Command.ExecuteScalar(), key.ClrType, System.Globalization.CultureInfo.InvariantCulture));
            else
                plan.Command.ExecuteNonQuery();
        }
        tx.Commit();
    }

    Plan? PlanFor(Type clrType)
    {
        if (_plans.TryGetValue(clrType, out var known)) return known;
        var plan = Build(clrType);
        _plans[clrType] = plan;
        return plan;
    }

    Plan? Build(Type clrType)
    {
        var et = model.FindEntityType(clrType);
        if (et is null || et.GetTableName() is not { } table || et.IsOwned() || et.GetDiscriminatorPropertyName() is not null) return null;
        var store = StoreObjectIdentifier.Table(table, et.GetSchema());
        IProperty? generated = null;
        var columns = new List<(IProperty, string)>();
        foreach (var p in et.GetProperties())
        {
            if (p.IsShadowProperty() || p.PropertyInfo is null) return null;
            if (p.IsPrimaryKey() && p.ValueGenerated == ValueGenerated.OnAdd)
            {
                if (generated is not null) return null;
                generated = p;
                continue;
            }
            if (p.GetBeforeSaveBehavior() != PropertySaveBehavior.Save) continue; // database-assigned (event positions)
            columns.Add((p, p.GetColumnName(store) ?? throw new InvalidOperationException($"{p.Name} has no column")));
        }
        if (generated is not null && generated.PropertyInfo?.SetMethod is null) return null;

        var command = _connection.CreateCommand();
        var cols = new List<Column>(columns.Count);
        var names = new List<string>(columns.Count);
        var values = new List<string>(columns.Count);
        for (var i = 0; i < columns.Count; i++)
        {
            var (p, name) = columns[i];
            var parameter = command.CreateParameter();
            parameter.ParameterName = "$p" + i;
            command.Parameters.Add(parameter);
            cols.Add(new Column(p, parameter, p.GetTypeMapping().Converter?.ConvertToProvider));
            names.Add(Quote(name));
            values.Add(parameter.ParameterName);
        }
        var qualified = et.GetSchema() is { } schema ? $"{Quote(schema)}.{Quote(table)}" : Quote(table);
        command.CommandText = $"INSERT INTO {qualified} ({string.Join(", ", names)}) VALUES ({string.Join(", ", values)})" +
                              (generated is null ? "" : $" RETURNING {Quote(generated.GetColumnName(store)!)}");
        return new Plan(command, [.. cols], generated);
    }

    static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"") + "\"";

    public void Dispose()
    {
        foreach (var plan in _plans.Values) plan?.Command.Dispose();
        _connection.Dispose();
    }
}
