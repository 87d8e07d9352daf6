/**
 * The chat screens in real browsers against the real server: two users find each other and chat in real
 * time (presence, typing, notifications), one writes offline and syncs back in order, a reload and a new
 * device keep the whole history, a group of three drops a removed member, message search jumps to a
 * message, hostile names and messages stay inert text, phone and desktop layouts (screenshots in
 * docs/screenshots, light and dark), and axe finds no serious or critical violations. The app's real CSP
 * stays on (axe is evaluated over the DevTools protocol, not injected as an inline script).
 *
 * One serial suite: users are registered once (the server allows 10 registrations per IP per hour) and
 * their browser contexts are reused by the later tests.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, type Browser, type BrowserContext, type Locator, type Page } from '@playwright/test';
import { appUrl, PASSWORD, registerAndEnter, startDirectChat as startDirect, submitSignIn, uniqueUsername, watchPage } from '../support/app.ts';
import { axeSeriousViolations } from '../support/axe.ts';
import { repoRoot } from '../support/server.ts';

const SHOTS = join(repoRoot, 'docs/screenshots');
const XSS_IMG = '<img src=x onerror=alert(1)>';
const XSS_SCRIPT = '<script>alert("pwned")</script>';

interface User {
  name: string;
  context: BrowserContext;
  page: Page;
  dialogs: string[];
  watch: ReturnType<typeof watchPage>;
}

async function newUser(browser: Browser, prefix: string, viewport = { width: 1280, height: 800 }): Promise<User> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const dialogs: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  // Offline phases make the browser log failed socket/fetch attempts; those are expected.
  const watch = watchPage(page, ['ERR_INTERNET_DISCONNECTED', 'WebSocket', 'net::ERR', 'Failed to load resource']);
  return { name: uniqueUsername(prefix), context, page, dialogs, watch };
}

const composer = (p: Page) => p.getByLabel('Message', { exact: true });
const exactly = (text: string) => new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
const row = (p: Page, title: string) => p.locator('.conv-row').filter({ has: p.locator('.conv-name', { hasText: exactly(title) }) });
const messageText = (p: Page, text: string) => p.locator('.msg-text', { hasText: text });

/** Opens a message's actions (hover, then its actions button) and presses `name` among them. */
async function messageAction(msg: Locator, name: string, exact = false): Promise<void> {
  await msg.hover();
  await msg.getByRole('button', { name: /Actions for message/ }).click();
  await msg.getByRole('button', { name, exact }).click();
}

async function send(p: Page, text: string): Promise<void> {
  await composer(p).fill(text);
  await composer(p).press('Enter');
  await expect(composer(p)).toHaveValue('');
}

async function openChat(p: Page, title: string): Promise<void> {
  await row(p, title).click();
  await expect(p.locator('.chat-title')).toHaveText(title);
}

async function shot(p: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await p.screenshot({ path: join(SHOTS, `${name}.png`) });
}

test.describe.serial('chat', () => {
  let a: User;
  let b: User;
  let c: User;

  test.beforeAll(async ({ browser }) => {
    a = await newUser(browser, 'ann');
    b = await newUser(browser, 'bob');
    c = await newUser(browser, 'cat');
  });
  test.afterAll(async () => {
    for (const u of [a, b, c]) await u?.context.close();
  });

  test('two users find each other and chat in real time, with presence and typing', async () => {
    await Promise.all([registerAndEnter(a.page, a.name), registerAndEnter(b.page, b.name)]);

    // Clear errors: an unknown user, and yourself.
    await a.page.getByRole('button', { name: 'New chat' }).click();
    const dlg = a.page.getByRole('dialog', { name: 'New chat' });
    await dlg.getByLabel('Username').fill('nobody-here-xyz');
    await dlg.getByRole('button', { name: 'Start chat' }).click();
    await expect(dlg.getByRole('alert')).toContainText('No user called “nobody-here-xyz”');
    await dlg.getByLabel('Username').fill(a.name);
    await dlg.getByRole('button', { name: 'Start chat' }).click();
    await expect(dlg.getByRole('alert')).toContainText('That is you');
    await dlg.getByRole('button', { name: 'Close' }).click();

    await startDirect(a.page, b.name);
    await send(a.page, 'Hello Bob, this is Ann');
    await expect(a.page.locator('.msg.mine').last().locator('.msg-status')).toHaveText(/Sent|Read/);

    // Bob: the chat appears with an unread count, opens, and the message is there.
    await expect(row(b.page, a.name)).toBeVisible({ timeout: 20_000 });
    await expect(row(b.page, a.name).locator('.unread-badge')).toContainText('1');
    await expect(b.page).toHaveTitle(/^\(1\) /);
    await openChat(b.page, a.name);
    await expect(messageText(b.page, 'Hello Bob, this is Ann')).toBeVisible();
    await expect(b.page).not.toHaveTitle(/^\(\d+\) /);
    // Ann sees it read.
    await expect(a.page.locator('.msg.mine').last().locator('.msg-status')).toHaveText('Read', { timeout: 15_000 });

    // Presence both ways.
    await expect(a.page.locator('.chat-subtitle')).toHaveText('Online', { timeout: 15_000 });
    await expect(b.page.locator('.chat-subtitle')).toHaveText('Online', { timeout: 15_000 });

    // Typing.
    await composer(b.page).pressSequentially('Hi Ann', { delay: 20 });
    await expect(a.page.locator('.typing-line')).toHaveText(`${b.name} is typing…`, { timeout: 10_000 });
    await composer(b.page).press('Enter');
    await expect(messageText(a.page, 'Hi Ann')).toBeVisible();
    await expect(a.page.locator('.typing-line')).toHaveText('', { timeout: 10_000 });

    // Shift+Enter makes a new line instead of sending.
    await composer(a.page).fill('line one');
    await composer(a.page).press('Shift+Enter');
    await composer(a.page).pressSequentially('line two');
    await expect(composer(a.page)).toHaveValue('line one\nline two');
    await composer(a.page).press('Enter');
    await expect(messageText(b.page, 'line two')).toBeVisible();
  });

  test('a message in another conversation shows a toast and the unread badge', async () => {
    await registerAndEnter(c.page, c.name);
    await startDirect(c.page, b.name);
    await send(c.page, 'Psst, Bob: are you there?');
    // Bob is in his chat with Ann: a toast names Cat, the list and the title count the unread message.
    await expect(b.page.locator('.toast', { hasText: `New message from ${c.name}` })).toBeVisible({ timeout: 20_000 });
    await expect(row(b.page, c.name).locator('.unread-badge')).toContainText('1');
    await expect(b.page).toHaveTitle(/^\(1\) /);
    await expect(b.page.locator('.chat-title')).toHaveText(a.name);

    // A second message from Cat updates that toast instead of stacking another; opening her chat takes it away.
    await send(c.page, 'Still there?');
    const catToasts = b.page.locator('.toast', { hasText: c.name });
    await expect(catToasts).toHaveText([new RegExp(`2 new messages from ${c.name}: Still there\\?`)]);
    await openChat(b.page, c.name);
    await expect(catToasts).toHaveCount(0, { timeout: 1500 });
    await expect(row(b.page, c.name).locator('.unread-badge')).toHaveCount(0, { timeout: 10_000 });
    await openChat(b.page, a.name);
    await send(c.page, 'One more for later');
    await expect(row(b.page, c.name).locator('.unread-badge')).toContainText('1', { timeout: 20_000 });

    // Ann's messages to Bob read "Read"; her first message to Cat, who has not opened it, says "Sent" (Bob's
    // receipt once leaked into every unread message of the tab through an array the view shared).
    await startDirect(a.page, c.name);
    await send(a.page, 'Hi Cat, unread so far');
    const status = a.page.locator('.msg.mine', { hasText: 'Hi Cat, unread so far' }).locator('.msg-status');
    await expect(status).toHaveText('Sent', { timeout: 15_000 });
    await openChat(a.page, b.name);
    await expect(a.page.locator('.msg.mine .msg-status').last()).toHaveText('Read');
    await openChat(a.page, c.name);
    await expect(status).toHaveText('Sent');
    await openChat(a.page, b.name);
  });

  test('opened at the new-messages line, the chat follows messages that arrive once the reader saw the newest', async () => {
    // Bob opens Cat's chat at its one unread message: the divider is on screen with the newest message.
    await openChat(b.page, c.name);
    await expect(b.page.locator('.unread-sep')).toBeVisible();
    await expect(row(b.page, c.name).locator('.unread-badge')).toHaveCount(0, { timeout: 10_000 });
    // More than a screenful arrives: the view follows it and Bob reads it as it comes.
    for (let i = 1; i <= 20; i++) await send(c.page, `burst ${i} of twenty`);
    await expect(messageText(b.page, 'burst 20 of twenty')).toBeInViewport({ timeout: 20_000 });
    await expect(row(b.page, c.name).locator('.unread-badge')).toHaveCount(0, { timeout: 10_000 });
    await expect(b.page).not.toHaveTitle(/^\(\d+\) /);
    await expect(b.page.getByRole('button', { name: /Jump to latest|new message/ })).toHaveCount(0);
    await openChat(b.page, a.name);
  });

  test('offline: three messages written offline arrive in order after reconnecting', async () => {
    await expect(a.page.locator('.chat-title')).toHaveText(b.name);
    await b.context.setOffline(true);
    for (const t of ['offline one', 'offline two', 'offline three']) await send(b.page, t);
    await expect(b.page.locator('.msg.mine .msg-status', { hasText: 'Sending…' }).first()).toBeVisible();
    await a.page.waitForTimeout(1500);
    await expect(messageText(a.page, 'offline one')).toHaveCount(0);

    await b.context.setOffline(false);
    await expect(messageText(a.page, 'offline three')).toBeVisible({ timeout: 30_000 });
    const texts = await a.page.locator('.msg-text').allTextContents();
    const order = ['offline one', 'offline two', 'offline three'].map((t) => texts.indexOf(t));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((x, y) => x - y)).toEqual(order);
    await expect(b.page.locator('.msg.mine .msg-status', { hasText: 'Sending…' })).toHaveCount(0, { timeout: 20_000 });
  });

  test('edit, react, reply and delete', async () => {
    await send(a.page, 'Typo in thsi message');
    const mine = a.page.locator('.msg.mine', { hasText: 'Typo in thsi message' });
    await messageAction(mine, 'Edit');
    await composer(a.page).fill('Fixed: this message');
    await composer(a.page).press('Enter');
    await expect(messageText(b.page, 'Fixed: this message')).toBeVisible();
    await expect(b.page.locator('.msg', { hasText: 'Fixed: this message' }).locator('.msg-edited')).toBeVisible();

    const theirs = b.page.locator('.msg', { hasText: 'Fixed: this message' });
    await messageAction(theirs, 'React with 👍');
    await expect(a.page.locator('.msg', { hasText: 'Fixed: this message' }).locator('.reaction')).toContainText('👍');

    await messageAction(theirs, 'Reply');
    await expect(b.page.locator('.composer-mode')).toContainText(`Replying to ${a.name}`);
    await send(b.page, 'Replying with a quote');
    const reply = a.page.locator('.msg', { hasText: 'Replying with a quote' });
    await expect(reply.locator('.msg-quote')).toContainText('Fixed: this message');

    await send(a.page, 'This will be deleted');
    const del = a.page.locator('.msg.mine', { hasText: 'This will be deleted' });
    await messageAction(del, 'Delete', true);
    await del.getByRole('button', { name: 'Delete for everyone' }).click();
    await expect(messageText(b.page, 'This will be deleted')).toHaveCount(0, { timeout: 15_000 });
    await expect(b.page.locator('.msg-deleted').last()).toBeVisible();
  });

  test('an edit cannot blank a message: Save stays disabled and the composer says why', async () => {
    await send(a.page, 'Keep this text');
    const mine = a.page.locator('.msg.mine', { hasText: 'Keep this text' });
    await messageAction(mine, 'Edit');
    const hint = a.page.getByRole('status').filter({ hasText: 'A message cannot be empty. To remove it, cancel editing and delete the message instead.' });
    await expect(hint).toHaveCount(0);
    await composer(a.page).fill('   ');
    await composer(a.page).press('Enter');
    await expect(hint).toBeVisible();
    await expect(composer(a.page)).toHaveAccessibleDescription(/A message cannot be empty/);
    await expect(a.page.getByRole('button', { name: 'Save edit' })).toBeDisabled();
    await expect(a.page.locator('.composer-mode')).toContainText('Editing your message'); // still editing, nothing lost
    await expect(messageText(a.page, 'Keep this text')).toBeVisible();
    await composer(a.page).fill('Keep this text, edited');
    await expect(hint).toHaveCount(0);
    await expect(a.page.getByRole('button', { name: 'Save edit' })).toBeEnabled();
    await a.page.getByRole('button', { name: 'Cancel editing' }).click();
    await expect(a.page.locator('.composer-mode')).toBeHidden();
  });

  test('HTML and script payloads in names and messages render as inert text; links are safe', async () => {
    await send(a.page, XSS_IMG);
    await send(a.page, XSS_SCRIPT);
    await send(a.page, 'see https://example.org/path?q=1 and javascript:alert(1)');
    for (const p of [a.page, b.page]) {
      await expect(messageText(p, XSS_IMG)).toBeVisible();
      await expect(messageText(p, XSS_IMG)).toHaveText(XSS_IMG);
      await expect(messageText(p, XSS_SCRIPT)).toHaveText(XSS_SCRIPT);
      await expect(p.locator('.msg-text img, .msg-text script')).toHaveCount(0);
      const link = p.locator('.msg-text a', { hasText: 'https://example.org/path?q=1' });
      await expect(link).toHaveAttribute('rel', 'noopener noreferrer nofollow');
      await expect(link).toHaveAttribute('target', '_blank');
      await expect(p.locator('.msg-text a[href^="javascript"]')).toHaveCount(0);
    }
    await a.page.waitForTimeout(500);
    expect(a.dialogs).toEqual([]);
    expect(b.dialogs).toEqual([]);
  });

  test('a group of three; the removed member cannot read new messages', async () => {
    const groupName = `Team ${XSS_IMG}`;
    await a.page.getByRole('button', { name: 'New group' }).click();
    const dlg = a.page.getByRole('dialog', { name: 'New group' });
    await dlg.getByLabel('Group name').fill(groupName);
    await dlg.getByLabel('Members').fill(`${b.name}, nobody-at-all-xyz`);
    await dlg.getByRole('button', { name: 'Create group' }).click();
    await expect(dlg.getByRole('alert')).toContainText('No user called “nobody-at-all-xyz”');
    await dlg.getByLabel('Members').fill(`${b.name}, ${c.name}`);
    // Both are told they were added (a short-lived toast: watch for it from the start).
    const told = Promise.all([b, c].map((u) => expect(u.page.locator('.toast', { hasText: /You were added to (the|a) group/ })).toBeVisible({ timeout: 20_000 })));
    await dlg.getByRole('button', { name: 'Create group' }).click();
    await expect(dlg).toBeHidden({ timeout: 20_000 });
    await expect(a.page.locator('.chat-title')).toHaveText(groupName);
    await send(a.page, 'Welcome to the group');

    await told;
    for (const u of [b, c]) {
      await openChat(u.page, groupName);
      await expect(messageText(u.page, 'Welcome to the group')).toBeVisible({ timeout: 20_000 });
    }
    await send(c.page, 'Cat says hi to the group');
    await expect(messageText(a.page, 'Cat says hi to the group')).toBeVisible();
    await expect(messageText(b.page, 'Cat says hi to the group')).toBeVisible();

    // Members and roles; Ann (admin) removes Cat.
    await a.page.getByRole('button', { name: 'Members', exact: true }).click();
    const info = a.page.getByRole('dialog', { name: 'Group info' });
    await expect(info.locator('.member', { hasText: a.name }).locator('.member-role')).toHaveText('Admin');
    await expect(info.locator('.member', { hasText: c.name }).locator('.member-role')).toHaveText('Member');
    // Cat is told (the group leaves her list), and her open view does not call her an unverified member.
    const toldRemoved = expect(c.page.locator('.toast', { hasText: `You were removed from the group “${groupName}”` })).toBeVisible({ timeout: 20_000 });
    await info.getByRole('button', { name: `Remove ${c.name}` }).click();
    await info.getByRole('group', { name: `Remove ${c.name}?` }).getByRole('button', { name: 'Remove', exact: true }).click();
    await expect(info.locator('.member', { hasText: c.name })).toHaveCount(0, { timeout: 20_000 });
    await info.getByRole('button', { name: 'Close' }).click();
    await toldRemoved;
    // Everyone still in the group sees what happened, where it happened.
    await expect(b.page.locator('.msg-system', { hasText: `${a.name} removed ${c.name}` })).toBeVisible({ timeout: 20_000 });
    await expect(a.page.locator('.msg-system', { hasText: `You removed ${c.name}` })).toBeVisible();
    await expect(b.page.locator('.msg-system', { hasText: `${a.name} created the group “${groupName}”` })).toBeVisible();

    await send(a.page, 'Secret after removal');
    await expect(messageText(b.page, 'Secret after removal')).toBeVisible({ timeout: 20_000 });
    await expect(c.page.locator('.chat-banner', { hasText: 'no longer a member' })).toBeVisible({ timeout: 20_000 });
    await expect(c.page.locator('.chat-banner', { hasText: 'Unverified member' })).toHaveCount(0);
    await c.page.waitForTimeout(2000);
    await expect(messageText(c.page, 'Secret after removal')).toHaveCount(0);
    await expect(composer(c.page)).toBeDisabled();
    for (const u of [a, b, c]) expect(u.dialogs).toEqual([]);
  });

  test('the removed member keeps the group, read-only, after a reload, until she deletes it from the device', async () => {
    const groupName = `Team ${XSS_IMG}`;
    // Listed, marked, and still there after a reload (it used to vanish once the view closed).
    await expect(row(c.page, groupName).locator('.conv-tag')).toHaveText('Not a member');
    await c.page.reload();
    await expect(row(c.page, groupName).locator('.conv-tag')).toHaveText('Not a member', { timeout: 20_000 });
    await openChat(c.page, groupName);
    await expect(messageText(c.page, 'Welcome to the group')).toBeVisible({ timeout: 20_000 });
    await expect(messageText(c.page, 'Cat says hi to the group')).toBeVisible();
    await expect(messageText(c.page, 'Secret after removal')).toHaveCount(0);
    await expect(composer(c.page)).toBeDisabled();
    const banner = c.page.locator('.chat-banner', { hasText: 'no longer a member' });
    await expect(banner).toBeVisible();
    // Her own search still finds what she had.
    await c.page.getByRole('button', { name: 'Search', exact: true }).click();
    const q = c.page.getByLabel('Search messages');
    await q.fill('cat says hi');
    await expect(c.page.locator('.search-hit', { hasText: 'Cat says hi to the group' })).toBeVisible();
    await c.page.getByRole('button', { name: 'Close search' }).click();

    // Added back while she looks at it: the view turns live (composer on, new messages arrive); removed again,
    // it is read-only again.
    await openChat(a.page, groupName);
    const members = async (act: (info: Locator) => Promise<void>) => {
      await a.page.getByRole('button', { name: 'Members', exact: true }).click();
      const info = a.page.getByRole('dialog', { name: 'Group info' });
      await act(info);
      await info.getByRole('button', { name: 'Close' }).click();
    };
    await members(async (info) => {
      // Adding someone who is in the group already, herself included, is refused and changes nothing.
      for (const [who, says] of [
        [a.name.toUpperCase(), 'That is you: you are in this group already.'],
        [b.name, `${b.name} is in this group already.`],
      ] as const) {
        await info.getByLabel('Add a member').fill(who);
        await info.getByRole('button', { name: 'Add', exact: true }).click();
        await expect(info.getByRole('alert')).toHaveText(says);
      }
      await expect(info.locator('.member', { hasText: a.name }).locator('.member-role')).toHaveText('Admin');
      await info.getByLabel('Add a member').fill(c.name);
      await info.getByRole('button', { name: 'Add', exact: true }).click();
      await expect(info.locator('.member', { hasText: c.name })).toHaveCount(1, { timeout: 20_000 });
    });
    await expect(banner).toHaveCount(0, { timeout: 20_000 });
    await expect(composer(c.page)).toBeEnabled();
    await expect(row(c.page, groupName).locator('.conv-tag')).toHaveCount(0);
    await send(a.page, 'Welcome back, Cat');
    await expect(messageText(c.page, 'Welcome back, Cat')).toBeVisible({ timeout: 20_000 });
    // After the line "You added Cat", Ann's message starts a new run (sender and time shown), though her
    // previous message was hers too.
    await expect(a.page.locator('.msg-system', { hasText: `You added ${c.name}` })).toBeVisible();
    await expect(a.page.locator('.msg', { hasText: 'Welcome back, Cat' })).toHaveClass(/run-start/);
    // Cat writes while offline and is removed meanwhile: back online, her message says it was never sent.
    await c.context.setOffline(true);
    await send(c.page, 'did I miss anything?');
    await members(async (info) => {
      await info.getByRole('button', { name: `Remove ${c.name}` }).click();
      await info.getByRole('group', { name: `Remove ${c.name}?` }).getByRole('button', { name: 'Remove', exact: true }).click();
      await expect(info.locator('.member', { hasText: c.name })).toHaveCount(0, { timeout: 20_000 });
    });
    await c.context.setOffline(false);
    await expect(banner).toBeVisible({ timeout: 20_000 });
    await expect(composer(c.page)).toBeDisabled();
    await expect(messageText(c.page, 'Welcome back, Cat')).toBeVisible();
    await expect(c.page.locator('.msg.mine', { hasText: 'did I miss anything?' })).toContainText('Not sent');
    await expect(messageText(a.page, 'did I miss anything?')).toHaveCount(0);

    // Delete from this device: asked first; Keep keeps it.
    await banner.getByRole('button', { name: 'Delete from this device' }).click();
    await expect(c.page.locator('.chat-banner', { hasText: 'This cannot be undone' })).toBeVisible();
    await c.page.getByRole('button', { name: 'Keep' }).click();
    await expect(messageText(c.page, 'Welcome to the group')).toBeVisible();
    await banner.getByRole('button', { name: 'Delete from this device' }).click();
    await c.page.locator('.chat-banner').getByRole('button', { name: 'Delete', exact: true }).click();
    await expect(c.page.locator('.toast', { hasText: 'Deleted from this device' })).toBeVisible();
    await expect(row(c.page, groupName)).toHaveCount(0);
    await expect(c.page.locator('.chat-title')).toHaveCount(0);
    await c.page.getByRole('button', { name: 'Search', exact: true }).click();
    await q.fill('cat says hi');
    await expect(c.page.getByText('No messages match “cat says hi”.')).toBeVisible();
    await c.page.getByRole('button', { name: 'Close search' }).click();
    await c.page.reload();
    await expect(c.page.locator('.conv-pane')).toBeVisible({ timeout: 20_000 });
    await c.page.waitForTimeout(1500); // the list from storage, then from the server
    await expect(row(c.page, groupName)).toHaveCount(0);
    // The others keep the group as it was.
    await expect(row(a.page, groupName)).toBeVisible();
    expect(c.dialogs).toEqual([]);
  });

  test('search finds a message (accents, typos, prefixes) and jumps to it in context', async () => {
    await openChat(a.page, b.name);
    await send(a.page, 'Meet me at the Café Noir on Friday');
    for (let i = 0; i < 12; i++) await send(a.page, `filler message number ${i}`);
    await a.page.getByRole('button', { name: 'Search', exact: true }).click();
    const q = a.page.getByLabel('Search messages');
    for (const query of ['cafe noir', 'Cafe Nior', 'fri']) {
      // Clear the previous hit first, so each query's own result is what is asserted.
      await q.fill('qxzqxzqxz');
      await expect(a.page.locator('.search-hit')).toHaveCount(0);
      await q.fill(query);
      await expect(a.page.locator('.search-hit', { hasText: 'Café Noir' })).toBeVisible();
    }
    // Headings: a direct chat is named after the other person, so the name is not said twice ("bob in bob");
    // groups keep "Sender in Group".
    const heading = (text: string) => a.page.locator('.search-hit', { hasText: text }).locator('.conv-name');
    await expect(heading('Café Noir')).toHaveText(`You to ${b.name}`);
    await q.fill('replying quote');
    await expect(heading('Replying with a quote')).toHaveText(b.name);
    await q.fill('cat says hi');
    await expect(heading('Cat says hi to the group')).toHaveText(`${c.name} in Team ${XSS_IMG}`);
    await q.fill('fri');
    await expect(a.page.locator('.search-hit', { hasText: 'Café Noir' })).toBeVisible();
    // Sender filter: Bob never wrote it.
    await a.page.getByLabel('Sender').selectOption({ label: b.name });
    await expect(a.page.locator('.search-hit')).toHaveCount(0);
    await a.page.getByLabel('Sender').selectOption({ label: `${a.name} (you)` });
    await a.page.locator('.search-hit', { hasText: 'Café Noir' }).click();
    const target = a.page.locator('.msg', { hasText: 'Meet me at the Café Noir on Friday' });
    await expect(target).toBeInViewport();
    await expect(target).toHaveClass(/highlighted/);
    await a.page.getByRole('button', { name: 'Close search' }).click();

    // A result in another conversation opens that one at the message, not at its newest messages.
    await openChat(a.page, c.name);
    await a.page.getByRole('button', { name: 'Search', exact: true }).click();
    await q.fill('cafe noir');
    await a.page.locator('.search-hit', { hasText: 'Café Noir' }).click();
    await expect(a.page.locator('.chat-title')).toHaveText(b.name);
    await expect(target).toBeInViewport();
    await expect(target).toHaveClass(/highlighted/);
    await a.page.getByRole('button', { name: 'Close search' }).click();
  });

  test('a reload keeps everything, including the draft', async () => {
    await openChat(b.page, a.name);
    await composer(b.page).fill('an unsent draft');
    await b.page.waitForTimeout(700);
    await b.page.reload();
    await expect(b.page.locator('.chat-title')).toHaveText(a.name, { timeout: 30_000 });
    await expect(messageText(b.page, 'offline three')).toBeVisible({ timeout: 20_000 });
    await expect(messageText(b.page, 'Meet me at the Café Noir')).toBeVisible();
    await expect(composer(b.page)).toHaveValue('an unsent draft');
    await expect(row(b.page, c.name)).toBeVisible();
  });

  test('a new device signing in as an existing user sees the full history', async ({ browser }) => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await submitSignIn(page, a.name, PASSWORD);
    await expect(row(page, b.name)).toBeVisible({ timeout: 30_000 });
    await openChat(page, b.name);
    await expect(messageText(page, 'Meet me at the Café Noir')).toBeVisible({ timeout: 20_000 });
    // Scroll up through the history: the first messages are there too.
    await page.locator('.msg-scroller').evaluate((el) => (el.scrollTop = 0));
    await expect(messageText(page, 'Hello Bob, this is Ann')).toBeVisible({ timeout: 20_000 });
    for (const t of ['offline one', 'offline two', 'offline three', 'Replying with a quote']) await expect(messageText(page, t)).toHaveCount(1);
    await expect(row(page, `Team ${XSS_IMG}`)).toBeVisible();
    await context.close();
  });

  test('phone (360×740) and desktop (1280×800) layouts, light and dark, with no serious axe violations', async () => {
    const p = a.page;
    for (const scheme of ['light', 'dark'] as const) {
      await p.emulateMedia({ colorScheme: scheme });
      // Desktop: list and chat side by side.
      await p.setViewportSize({ width: 1280, height: 800 });
      await openChat(p, b.name);
      await p.locator('.msg-scroller').evaluate((el) => (el.scrollTop = el.scrollHeight));
      await expect(p.locator('.chat-sidebar')).toBeVisible();
      await shot(p, `desktop-chat-${scheme}`);
      expect(await axeSeriousViolations(p)).toEqual([]);

      // Phone: the list and the chat are separate screens with a back button.
      await p.setViewportSize({ width: 360, height: 740 });
      await expect(p.locator('.chat-sidebar')).toBeHidden();
      await expect(p.getByRole('button', { name: 'Back to conversations' })).toBeVisible();
      await expect(composer(p)).toBeInViewport();
      await shot(p, `phone-chat-${scheme}`);
      expect(await axeSeriousViolations(p)).toEqual([]);
      await p.getByRole('button', { name: 'Back to conversations' }).click();
      await expect(p.locator('.chat-sidebar')).toBeVisible();
      await expect(p.locator('.chat-main')).toBeHidden();
      await shot(p, `phone-list-${scheme}`);
      expect(await axeSeriousViolations(p)).toEqual([]);
      const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      await openChat(p, b.name);
      await expect(composer(p)).toBeInViewport();
      // Touch targets: the send button and the back button are at least 44 px.
      for (const l of [p.getByRole('button', { name: 'Send message' }), p.getByRole('button', { name: 'Back to conversations' })] as Locator[]) {
        const box = await l.boundingBox();
        expect(box?.height ?? 0).toBeGreaterThanOrEqual(44);
      }
      await p.getByRole('button', { name: 'Back to conversations' }).click();

      await p.setViewportSize({ width: 1280, height: 800 });
      await shot(p, `desktop-list-${scheme}`);
    }
    await p.emulateMedia({ colorScheme: 'light' });
    for (const u of [a, b, c]) u.watch.expectClean();
  });
});
