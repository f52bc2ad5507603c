using CodeTether.Shared.Contracts;
using CodeTether.Testing;
using Microsoft.Playwright;

namespace CodeTether.E2E;

/// <summary>
/// Issue 5: the dialogs work with the keyboard alone. Focus lands in the first field when a dialog opens, fast typing
/// is kept character for character, Tab walks the fields in order and stays inside the dialog, and Enter on the
/// focused button submits. Runs against its own host (a cold one: the first dialog of a fresh circuit is the slow case).
/// </summary>
public sealed class KeyboardTests : IAsyncLifetime
{
    ApiHost _host = null!;
    IPlaywright _pw = null!;
    IBrowser _browser = null!;
    string Base => _host.BaseAddress.ToString().TrimEnd('/');

    public async ValueTask InitializeAsync()
    {
        _host = await ApiHost.StartAsync();
        _pw = await Playwright.CreateAsync();
        _browser = await Browser.LaunchAsync(_pw);
    }

    public async ValueTask DisposeAsync()
    {
        await _browser.DisposeAsync();
        _pw.Dispose();
        await _host.DisposeAsync();
    }

    [Fact]
    public async Task RegisterCodebase_WithTheKeyboardOnly_SavesExactlyWhatWasTyped()
    {
        var page = await OpenCodebasesAsync("[data-testid=empty-state]");
        var id = Guid.NewGuid().ToString("N")[..8];
        var name = $"kbd-{id}-payments-service_Quick.Brown.Fox";
        var path = $"/srv/repos/kbd-{id}/payments-service";

        await TabToAsync(page, "#register-codebase");
        await page.Keyboard.PressAsync("Enter");
        await WaitForFocusAsync(page, "#codebase-name");   // the caret is in the first field: the person starts typing

        await page.Keyboard.TypeAsync(name);               // no delay between keys
        await page.Keyboard.PressAsync("Tab");
        Assert.Equal("codebase-path", await ActiveIdAsync(page));
        await page.Keyboard.TypeAsync(path);
        await page.Keyboard.PressAsync("Tab");
        Assert.Equal("codebase-description", await ActiveIdAsync(page));
        await Browser.ShotAsync(page, "codebase-dialog-keyboard-1280");
        await page.Keyboard.PressAsync("Tab");             // Cancel
        await page.Keyboard.PressAsync("Tab");
        Assert.Equal("codebase-save", await ActiveIdAsync(page));
        await page.Keyboard.PressAsync("Enter");

        await page.WaitForSelectorAsync("[data-testid=codebase-dialog]", new() { State = WaitForSelectorState.Detached, Timeout = 15_000 });
        await page.WaitForSelectorAsync($"[data-testid=codebase-table] a:text-is('{name}')", new() { Timeout = 15_000 });
        Assert.Equal(1, await page.Locator($"[data-testid=codebase-table] .ct-mono:text-is('{path}')").CountAsync());
        await WaitForFocusAsync(page, "#register-codebase"); // focus goes back to the button that opened the dialog

        var all = await (await _host.Client().GetAsync("/v1/agent/codebases")).ReadAsync<List<CodebaseDto>>();
        var saved = Assert.Single(all);
        Assert.Equal(name, saved.Name);
        Assert.Equal(path, saved.Path);
    }

    [Fact]
    public async Task TriggerDialog_TabWalksTheFieldsInOrder_StaysInTheDialog_EnterStartsTheTask()
    {
        var codebase = await _host.Client().CreateCodebaseAsync("keyboard-target", "/srv/repos/keyboard-target");
        var page = await OpenCodebasesAsync("[data-testid=codebase-table]");
        var prompt = "Run the full test suite, then fix every failing test; report what changed.";
        var title = "Green build via keyboard";

        await TabToAsync(page, ".trigger-button");
        await page.Keyboard.PressAsync("Enter");
        await WaitForFocusAsync(page, "#trigger-prompt");

        await page.Keyboard.TypeAsync(prompt);
        await page.Keyboard.PressAsync("Tab");
        Assert.Equal("trigger-title", await ActiveIdAsync(page));
        await page.Keyboard.TypeAsync(title);

        // The rest of the fields, then the two buttons, in reading order.
        string[] order = ["trigger-agent", "trigger-model", "trigger-priority", "Cancel", "trigger-submit"];
        var seen = new List<string>();
        foreach (var _ in order)
        {
            await page.Keyboard.PressAsync("Tab");
            seen.Add(await ActiveNameAsync(page));
        }
        Assert.Equal(order, seen);
        await Browser.ShotAsync(page, "trigger-dialog-keyboard-1280");

        // The focus trap: Tab past the last button comes back to the prompt, Shift+Tab from there to the last button.
        await page.Keyboard.PressAsync("Tab");
        await WaitForFocusAsync(page, "#trigger-prompt");
        await page.Keyboard.PressAsync("Shift+Tab");
        await WaitForFocusAsync(page, "#trigger-submit");

        await page.Keyboard.PressAsync("Enter");
        await page.WaitForURLAsync(u => u.Contains("/tasks/"), new() { Timeout = 15_000 });
        var taskId = page.Url.Split("/tasks/")[1].Split('?', '#')[0];
        var task = (await _host.Client().GetTaskAsync(taskId)).Task;
        Assert.Equal(codebase.Id, task.CodebaseId);
        Assert.Equal(prompt, task.Prompt);
        Assert.Equal(title, task.Title);
    }

    async Task<IPage> OpenCodebasesAsync(string loaded)
    {
        var ctx = await Browser.ContextAsync(_browser);
        var page = await ctx.NewPageAsync();
        await page.GotoAsync($"{Base}/login?token={Uri.EscapeDataString(_host.AdminToken)}");
        await Browser.WaitForCircuitAsync(page);
        await page.GotoAsync(Base + "/codebases");
        await Browser.WaitForCircuitAsync(page);
        await page.WaitForSelectorAsync(loaded, new() { Timeout = 15_000 });
        return page;
    }

    /// <summary>Presses Tab until the element matching <paramref name="selector"/> has the focus.</summary>
    static async Task TabToAsync(IPage page, string selector)
    {
        for (var i = 0; i < 40; i++)
        {
            if (await page.EvaluateAsync<bool>("s => document.activeElement?.matches(s) ?? false", selector)) return;
            await page.Keyboard.PressAsync("Tab");
        }
        Assert.Fail($"Tab never reached {selector}; focus is on {await ActiveNameAsync(page)}");
    }

    static async Task WaitForFocusAsync(IPage page, string selector)
    {
        try
        {
            await page.WaitForFunctionAsync("s => document.activeElement?.matches(s) ?? false", selector, new() { Timeout = 10_000 });
        }
        catch (TimeoutException)
        {
            Assert.Fail($"{selector} never got the focus; it is on {await ActiveNameAsync(page)}");
        }
    }

    static Task<string> ActiveIdAsync(IPage page) => page.EvaluateAsync<string>("() => document.activeElement?.id ?? ''");

    /// <summary>
    /// The focused element's id; for a MudSelect (a focusable combobox div beside a hidden input that carries the id) the
    /// input's id; else its text (buttons without an id); else its tag and classes.
    /// </summary>
    static Task<string> ActiveNameAsync(IPage page) => page.EvaluateAsync<string>("""
        () => {
            const a = document.activeElement;
            if (!a) return '';
            if (a.id) return a.id;
            const select = a.getAttribute('role') === 'combobox' ? a.parentElement.querySelector('input[id]') : null;
            return select?.id || a.textContent.trim() || (a.tagName + '.' + a.className);
        }
        """);
}
