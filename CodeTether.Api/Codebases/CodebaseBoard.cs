using CodeTether.Api.Auth;
using CodeTether.Api.Persistence;
using CodeTether.Shared.Contracts;
using CodeTether.Web.Services;

namespace CodeTether.Api.Codebases;

/// <summary>The dashboard's codebase port: the REST handlers, in the signed-in user's tenant.</summary>
public sealed class CodebaseBoard(DashboardUser user) : ICodebaseBoard
{
    public Task<IReadOnlyList<CodebaseDto>> ListAsync(CancellationToken ct = default) =>
        user.RunAsync<IReadOnlyList<CodebaseDto>>(Permission.CodebasesRead, async sp =>
            (await CodebasesEndpoints.List(sp.GetRequiredService<CodeTetherDb>(), ct)).Value!);

    public Task<CodebaseDto?> GetAsync(string codebaseId, CancellationToken ct = default) =>
        user.RunAsync(Permission.CodebasesRead, async sp =>
            (await CodebasesEndpoints.Get(codebaseId, sp.GetRequiredService<CodeTetherDb>(), ct)).Result is Microsoft.AspNetCore.Http.HttpResults.Ok<CodebaseDto> ok ? ok.Value : null);

    public Task<CodebaseDto> RegisterAsync(CodebaseForm form, CancellationToken ct = default) =>
        user.RunAsync(Permission.CodebasesWrite, async sp => DashboardUser.Unwrap<CodebaseDto>(await CodebasesEndpoints.Register(
            new RegisterCodebaseRequest { Name = form.Name, Path = form.Path, Description = Blank(form.Description) },
            sp.GetRequiredService<CodeTetherDb>(), sp.GetRequiredService<Transactions>(), ct)));

    public Task<CodebaseDto> UpdateAsync(string codebaseId, CodebaseForm form, CancellationToken ct = default) =>
        user.RunAsync(Permission.CodebasesWrite, async sp => DashboardUser.Unwrap<CodebaseDto>(await CodebasesEndpoints.Update(codebaseId,
            new UpdateCodebaseRequest { Name = form.Name, Path = form.Path, Description = form.Description ?? "" },
            sp.GetRequiredService<CodeTetherDb>(), sp.GetRequiredService<Transactions>(), ct)));

    public Task RemoveAsync(string codebaseId, CancellationToken ct = default) =>
        user.RunAsync(Permission.CodebasesWrite, async sp =>
        {
            DashboardUser.EnsureSuccess(await CodebasesEndpoints.Delete(codebaseId, sp.GetRequiredService<CodeTetherDb>(), sp.GetRequiredService<Transactions>(), ct));
            return true;
        });

    static string? Blank(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;
}
