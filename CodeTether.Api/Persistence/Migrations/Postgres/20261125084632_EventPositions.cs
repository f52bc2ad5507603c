using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace CodeTether.Api.Persistence.Migrations.Postgres
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
                type: "bigint",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "ix_task_events_task_id_position",
                table: "task_events",
                columns: new[] { "task_id", "position" });

            migrationBuilder.CreateIndex(
                name: "ix_task_events_tenant_id_codebase_id_position",
                table: "task_events",
                columns: new[] { "tenant_id", "codebase_id", "position" });

            // Positions are handed out as each writing transaction commits (a deferred constraint trigger), under a
            // per-tenant advisory lock held only from that instant to the end of the commit: positions grow in commit
            // order per tenant, so a stream resuming after position N never misses a late-committing N-1.
            migrationBuilder.Sql("""
                CREATE SEQUENCE task_event_position_seq;
                UPDATE task_events SET position = id WHERE position IS NULL;
                SELECT setval('task_event_position_seq', COALESCE((SELECT max(id) FROM task_events), 0) + 1, false);
                CREATE FUNCTION codetether_assign_event_position() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    PERFORM pg_advisory_xact_lock(hashtext('codetether.events:' || NEW.tenant_id));
                    UPDATE task_events SET position = nextval('task_event_position_seq') WHERE id = NEW.id;
                    RETURN NULL;
                END $$;
                CREATE CONSTRAINT TRIGGER task_events_position AFTER INSERT ON task_events
                    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION codetether_assign_event_position();
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                DROP TRIGGER IF EXISTS task_events_position ON task_events;
                DROP FUNCTION IF EXISTS codetether_assign_event_position();
                DROP SEQUENCE IF EXISTS task_event_position_seq;
                """);

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
