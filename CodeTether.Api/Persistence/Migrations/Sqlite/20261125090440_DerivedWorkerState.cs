using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace CodeTether.Api.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class DerivedWorkerState : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_tasks_tenant_id_worker_id",
                table: "tasks");

            migrationBuilder.DropColumn(
                name: "current_task_id",
                table: "workers");

            migrationBuilder.DropColumn(
                name: "tasks_completed",
                table: "workers");

            migrationBuilder.DropColumn(
                name: "tasks_failed",
                table: "workers");

            migrationBuilder.CreateIndex(
                name: "ix_tasks_tenant_id_lease_owner",
                table: "tasks",
                columns: new[] { "tenant_id", "lease_owner" });

            migrationBuilder.CreateIndex(
                name: "ix_tasks_tenant_id_worker_id_status",
                table: "tasks",
                columns: new[] { "tenant_id", "worker_id", "status" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_tasks_tenant_id_lease_owner",
                table: "tasks");

            migrationBuilder.DropIndex(
                name: "ix_tasks_tenant_id_worker_id_status",
                table: "tasks");

            migrationBuilder.AddColumn<string>(
                name: "current_task_id",
                table: "workers",
                type: "TEXT",
                maxLength: 64,
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "tasks_completed",
                table: "workers",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<int>(
                name: "tasks_failed",
                table: "workers",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.CreateIndex(
                name: "ix_tasks_tenant_id_worker_id",
                table: "tasks",
                columns: new[] { "tenant_id", "worker_id" });
        }
    }
}
