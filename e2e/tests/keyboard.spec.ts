/**
 * Keyboard focus, confirmation and text direction in the chat screens, in a real browser against the real
 * server: opening a conversation from the list by keyboard puts focus in it (the composer, or the heading of a
 * read-only one), by pointer it stays on the row beside it (desktop) or goes to the heading (phone), Back
 * returns it to the row, rows keep focus when they update or move, closing search returns it to the Search
 * button; "Remove <member>" asks first and then focuses the members heading; group names are counted in code
 * points and refused when too long, never cut inside an emoji; names, previews, titles and search results take
 * their own direction (as dir="auto" would), so right-to-left text keeps its punctuation in place. The
 * preview is checked after its text changed from "No messages yet": Chromium then leaves a dir="auto" element
 * cloned from a template left-to-right, which is why the app sets the direction it computes.
 *
 * One serial suite: three users registered once (the server allows 10 registrations per IP per hour).
 */
import { expect, test, type Locator, type Page } from '@playwright/test';
import { composer, newBrowserUser, registerAndEnter, sendMessage, startDirectChat, type BrowserUser } from '../support/app.ts';

const FAMILY = '\u{1F468}\u200D\u{1F469}\u200D\u{1F467}\u200D\u{1F466}'; // 7 code points, 11 UTF-16 units
/** 100 code points, 120 UTF-16 units: `maxlength="100"` cut it inside the fourth family emoji. */
const EMOJI_NAME = `${'G'.repeat(60)} ${FAMILY.repeat(5)} end`;
const RTL_GROUP = 'צוות שלום!';
const RTL_FROM_BOB = 'שלום עולם! מה שלומך?';
const RTL_FROM_ANN = 'מחיר: 100$ (בערך).';

const exactly = (text: string) => new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
const row = (p: Page, title: string) => p.locator('.conv-row').filter({ has: p.locator('.conv-name', { hasText: exactly(title) }) });
const direction = (l: Locator) => l.evaluate((el) => getComputedStyle(el).direction);
/** `data-conv-id` of a row. */
const convId = async (l: Locator) => (await l.getAttribute('data-conv-id')) ?? '';

test.describe.serial('keyboard, confirmation and direction', () => {
  let a: BrowserUser;
  let b: BrowserUser;
  let c: BrowserUser;

  test.beforeAll(async ({ browser }) => {
    // After Cat is removed, her device gets 404s for the group: expected protocol traffic.
    const allow = ['Failed to load resource'];
    [a, b, c] = await Promise.all([newBrowserUser(browser, 'ann', allow), newBrowserUser(browser, 'bob', allow), newBrowserUser(browser, 'cat', allow)]);
  });
  test.afterAll(async () => {
    for (const u of [a, b, c]) await u?.context.close();
  });

  test('group names count code points: a name of emoji is kept whole, a long one is refused with a count', async () => {
    await Promise.all([a, b, c].map((u) => registerAndEnter(u.page, u.name)));
    await a.page.getByRole('button', { name: 'New group' }).click();
    const dlg = a.page.getByRole('dialog', { name: 'New group' });
    const name = dlg.getByLabel('Group name');
    await name.fill(`${EMOJI_NAME}x`);
    await expect(name).toHaveValue(`${EMOJI_NAME}x`); // nothing cut
    await expect(name).toHaveAttribute('aria-invalid', 'true');
    await expect(dlg.locator('#new-group-name-hint')).toHaveText('101/100: too long by 1.');
    await dlg.getByLabel('Members').fill(`${b.name}, ${c.name}`);
    await dlg.getByRole('button', { name: 'Create group' }).click();
    await expect(dlg.getByRole('alert')).toContainText('The group name is too long by 1 character.');
    await name.fill(EMOJI_NAME);
    await expect(dlg.locator('#new-group-name-hint')).toHaveText(/^100\/100\. Only members can see the name/);
    await expect(name).not.toHaveAttribute('aria-invalid', 'true');
    await dlg.getByRole('button', { name: 'Create group' }).click();
    await expect(dlg).toBeHidden({ timeout: 20_000 });
    await expect(a.page.locator('.chat-title')).toHaveText(EMOJI_NAME);

    // Rename: the same count and refusal; then a right-to-left name.
    await a.page.getByRole('button', { name: 'Members', exact: true }).click();
    const info = a.page.getByRole('dialog', { name: 'Group info' });
    const rename = info.getByLabel('Group name');
    await expect(info.locator('#group-rename-hint')).toHaveText('100/100');
    await rename.fill(`${'R'.repeat(95)}${FAMILY}`);
    await expect(rename).toHaveValue(`${'R'.repeat(95)}${FAMILY}`);
    await expect(info.locator('#group-rename-hint')).toHaveText('102/100: too long by 2.');
    await info.getByRole('button', { name: 'Rename' }).click();
    await expect(info.getByRole('alert')).toContainText('The group name is too long by 2 characters.');
    await expect(a.page.locator('.chat-title')).toHaveText(EMOJI_NAME);
    await rename.fill(RTL_GROUP);
    await info.getByRole('button', { name: 'Rename' }).click();
    await expect(a.page.locator('.chat-title')).toHaveText(RTL_GROUP, { timeout: 20_000 });
    await info.getByRole('button', { name: 'Close' }).click();
  });

  test('"Remove <member>" asks first; Cancel keeps them; after removing, focus is on the members heading', async () => {
    await a.page.getByRole('button', { name: 'Members', exact: true }).click();
    const info = a.page.getByRole('dialog', { name: 'Group info' });
    const catRow = info.locator('.member', { hasText: c.name });
    const question = info.getByRole('group', { name: `Remove ${c.name}? They keep what they had but get nothing new.` });

    await info.getByRole('button', { name: `Remove ${c.name}` }).click();
    await expect(question).toBeVisible();
    await expect(question.getByRole('button', { name: 'Cancel' })).toBeFocused();
    await a.page.waitForTimeout(1000); // nothing happens without the answer
    await expect(catRow.locator('.member-role')).toHaveText('Member');
    await question.getByRole('button', { name: 'Cancel' }).click();
    await expect(question).toBeHidden();
    await expect(info.getByRole('button', { name: `Remove ${c.name}` })).toBeFocused();
    await expect(catRow).toHaveCount(1);

    // By keyboard: Enter asks, Shift+Tab reaches the confirming Remove, Enter removes.
    await a.page.keyboard.press('Enter');
    await expect(question.getByRole('button', { name: 'Cancel' })).toBeFocused();
    await a.page.keyboard.press('Shift+Tab');
    await expect(question.getByRole('button', { name: 'Remove', exact: true })).toBeFocused();
    await a.page.keyboard.press('Enter');
    await expect(catRow).toHaveCount(0, { timeout: 20_000 });
    await expect(info.getByRole('heading', { name: 'Members (2)' })).toBeFocused();
    // "Leave group" asks too: focus moves to the safe answer, and back to the button after Stay.
    await info.getByRole('button', { name: 'Leave group' }).focus();
    await a.page.keyboard.press('Enter');
    await expect(info.getByRole('button', { name: 'Stay' })).toBeFocused();
    await a.page.keyboard.press('Enter');
    await expect(info.getByRole('button', { name: 'Leave group' })).toBeFocused();
    await info.getByRole('button', { name: 'Close' }).click();
  });

  test('desktop: Enter on an unread row puts focus in the composer; a clicked or moved row keeps focus', async () => {
    await startDirectChat(b.page, a.name);
    await sendMessage(b.page, RTL_FROM_BOB);
    const bobRow = row(a.page, b.name);
    await expect(bobRow.locator('.unread-badge')).toBeVisible({ timeout: 20_000 });
    // [#5] The preview takes the message's own direction.
    await expect(bobRow.locator('.conv-preview')).toHaveText(RTL_FROM_BOB);
    expect(await direction(bobRow.locator('.conv-preview'))).toBe('rtl');
    expect(await direction(row(a.page, RTL_GROUP).locator('.conv-name'))).toBe('rtl');
    expect(await direction(a.page.locator('.chat-title'))).toBe('rtl');

    await bobRow.focus();
    await a.page.keyboard.press('Enter');
    await expect(a.page.locator('.chat-title')).toHaveText(b.name);
    await expect(composer(a.page)).toBeFocused();
    await a.page.keyboard.type('typed by keyboard');
    await a.page.keyboard.press('Enter');
    await expect(b.page.locator('.msg-text', { hasText: 'typed by keyboard' })).toBeVisible({ timeout: 20_000 });

    // A mouse click beside the open conversation leaves focus on the row (no jump into the composer).
    await row(a.page, RTL_GROUP).click();
    await expect(a.page.locator('.chat-title')).toHaveText(RTL_GROUP);
    await expect(row(a.page, RTL_GROUP)).toBeFocused();

    // The focused row moves to the top when a message arrives in it, and keeps focus.
    const groupId = await convId(row(a.page, RTL_GROUP));
    await expect(a.page.locator('.conv-row').first()).toHaveAttribute('data-conv-id', await convId(bobRow));
    await row(b.page, RTL_GROUP).click();
    await sendMessage(b.page, 'Bob in the group');
    await expect(a.page.locator('.conv-row').first()).toHaveAttribute('data-conv-id', groupId, { timeout: 20_000 });
    await expect(row(a.page, RTL_GROUP)).toBeFocused();
  });

  test('phone: opening by keyboard focuses the composer, by touch the heading; Back returns focus to the row', async () => {
    const p = a.page;
    await p.setViewportSize({ width: 390, height: 800 });
    const back = p.getByRole('button', { name: 'Back to conversations' });
    await back.click();
    await expect(row(p, RTL_GROUP)).toBeFocused();

    await row(p, b.name).focus();
    await p.keyboard.press('Enter');
    await expect(composer(p)).toBeFocused();
    await back.focus();
    await p.keyboard.press('Enter');
    await expect(row(p, b.name)).toBeFocused();

    await row(p, b.name).click();
    await expect(p.locator('.chat-title')).toHaveText(b.name);
    await expect(p.getByRole('heading', { name: b.name, level: 2 })).toBeFocused();
    await back.click();
    await expect(row(p, b.name)).toBeFocused();
    await p.setViewportSize({ width: 1280, height: 800 });
  });

  test('a read-only conversation opened by keyboard focuses its heading', async () => {
    const archived = c.page.locator('.conv-row.archived');
    await expect(archived).toHaveCount(1, { timeout: 20_000 });
    await archived.focus();
    await c.page.keyboard.press('Enter');
    await expect(composer(c.page)).toBeDisabled();
    await expect(c.page.locator('.chat-heading')).toBeFocused();
  });

  test('closing search (Escape or its button) returns focus to the Search button', async () => {
    const p = a.page;
    const searchBtn = p.getByRole('button', { name: 'Search', exact: true });
    await searchBtn.focus();
    await p.keyboard.press('Enter');
    await expect(p.getByLabel('Search messages')).toBeFocused();
    await p.keyboard.press('Escape');
    await expect(searchBtn).toBeFocused();
    await searchBtn.click();
    await p.getByRole('button', { name: 'Close search' }).click();
    await expect(searchBtn).toBeFocused();
  });

  test('right-to-left: my preview, search snippets and the group name in a result heading take their own direction', async () => {
    const p = a.page;
    await row(p, RTL_GROUP).click();
    await sendMessage(p, RTL_FROM_ANN);
    const preview = row(p, RTL_GROUP).locator('.conv-preview');
    await expect(preview).toHaveText(`You: ${RTL_FROM_ANN}`);
    expect(await direction(preview.locator('.conv-preview-body'))).toBe('rtl');

    await p.getByRole('button', { name: 'Search', exact: true }).click();
    await p.getByLabel('Search messages').fill('בערך');
    const hit = p.locator('.search-hit', { hasText: RTL_FROM_ANN });
    await expect(hit).toBeVisible({ timeout: 10_000 });
    expect(await direction(hit.locator('.search-snippet'))).toBe('rtl');
    await expect(hit.locator('.conv-name')).toHaveText(`You in ${RTL_GROUP}`);
    expect(await direction(hit.locator('.conv-name [dir]').last())).toBe('rtl');
    expect(await direction(hit.locator('.conv-name'))).toBe('ltr'); // the heading's English words stay in place
    await p.getByRole('button', { name: 'Close search' }).click();
    for (const u of [a, b, c]) u.watch.expectClean();
  });
});
