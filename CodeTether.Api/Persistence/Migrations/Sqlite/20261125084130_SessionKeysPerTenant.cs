using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace CodeTether.Api.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class SessionKeysPerTenant : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropPrimaryKey(
                name: "pk_sessions",
                table: "sessions");

            migrationBuilder.DropPrimaryKey(
                name: "pk_session_messages",
                table: "session_messages");

            migrationBuilder.AddPrimaryKey(
                name: "pk_sessions",
                table: "sessions",
                columns: new[] { "tenant_id", "id" });

            migrationBuilder.AddPrimaryKey(
                name: "pk_session_messages",
                table: "session_messages",
                columns: new[] { "tenant_id", "session_id", "id" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropPrimaryKey(
                name: "pk_sessions",
                table: "sessions");

            migrationBuilder.DropPrimaryKey(
                name: "pk_session_messages",
                table: "session_messages");

            migrationBuilder.AddPrimaryKey(
                name: "pk_sessions",
                table: "sessions",
                column: "id");

            migrationBuilder.AddPrimaryKey(
                name: "pk_session_messages",
                table: "session_messages",
                columns: new[] { "session_id", "id" });
        }
    }
}
