using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace CodeTether.Api.Persistence.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class A2APushConfigs : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "webhook_subscriptions",
                columns: table => new
                {
                    id = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    tenant_id = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    kind = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    task_id = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    config_id = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    url = table.Column<string>(type: "character varying(2048)", maxLength: 2048, nullable: false),
                    token = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: true),
                    auth_schemes = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: true),
                    auth_credentials = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_webhook_subscriptions", x => x.id);
                });

            migrationBuilder.CreateIndex(
                name: "ix_webhook_subscriptions_tenant_id_kind_task_id_config_id",
                table: "webhook_subscriptions",
                columns: new[] { "tenant_id", "kind", "task_id", "config_id" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "webhook_subscriptions");
        }
    }
}
