using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace CodeTether.Api.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class EventPositions : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_task_events_task_id_id",
                table: "task_events");

            migrationBuilder.DropIndex(
                name: "ix_task_events_tenant_id_codebase_id_id",
                table: "task_events");

            migrationBuilder.AddColumn<long>(
                name: "position",
                table: "task_events",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "ix_task_events_task_id_position",
                table: "task_events",
                columns: new[] { "task_id", "position" });

            migrationBuilder.CreateIndex(
                name: "ix_task_events_tenant_id_codebase_id_position",
                table: "task_events",
                columns: new[] { "tenant_id", "codebase_id", "position" });

            // SQLite has one writer at a time, so the row id already grows in commit order.
            migrationBuilder.Sql("UPDATE task_events SET position = id WHERE position IS NULL;");
            migrationBuilder.Sql("""
                CREATE TRIGGER task_events_position AFTER INSERT ON task_events
                BEGIN
                    UPDATE task_events SET position = NEW.id WHERE id = NEW.id;
                END;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP TRIGGER IF EXISTS task_events_position;");

            migrationBuilder.DropIndex(
                name: "ix_task_events_task_id_position",
                table: "task_events");

            migrationBuilder.DropIndex(
                name: "ix_task_events_tenant_id_codebase_id_position",
                table: "task_events");

            migrationBuilder.DropColumn(
                name: "position",
                table: "task_events");

            migrationBuilder.CreateIndex(
                name: "ix_task_events_task_id_id",
                table: "task_events",
                columns: new[] { "task_id", "id" });

            migrationBuilder.CreateIndex(
                name: "ix_task_events_tenant_id_codebase_id_id",
                table: "task_events",
                columns: new[] { "tenant_id", "codebase_id", "id" });
        }
    }
}
