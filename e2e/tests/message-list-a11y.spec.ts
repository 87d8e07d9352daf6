/**
 * The message list for keyboard and screen-reader users, in a 100-message conversation written by a headless
 * client (the real core, in Node) that stays online to send, edit and react while the browser user reads:
 * the list is one tab stop with arrow keys (Tab reaches the composer in a few presses), every actions button
 * names its message, Enter opens a message's actions and Escape closes them (focus back on its button), a
 * reaction from the keyboard leaves focus on that button, the actions of the newest message open on screen,
 * only new messages from others are announced (one status line per burst; not the actions panel, reactions,
 * edits, history sliding into the window or my own messages), and right-to-left messages and quotes take
 * their own direction.
 */
import { expect, test, type Page } from '@playwright/test';
import type { Conversation, ParleyClient } from '@parley/shared/client';
import { appUrl, composer, headlessUser, PASSWORD, sendMessage, submitSignIn } from '../support/app.ts';
import { axeSeriousViolations } from '../support/axe.ts';

const N = 100;
const RTL = 'שלום עולם! מה שלומך?';
const label = (i: number) => `history ${String(i).padStart(3, '0')}`;

/** What the page's live regions inside the message list have had added since `recordLive` (text per change). */
async function liveRecords(page: Page): Promise<Array<{ region: string; text: string }>> {
  return page.evaluate(() => (window as unknown as { __live: Array<{ region: string; text: string }> }).__live);
}

/**
 * Records additions to any live region inside the message scroller: an element with aria-live other than
 * "off", or (without aria-live) role log, status or alert; "Loading older messages…" is a legitimate status
 * and is left out.
 */
async function recordLive(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { __live: Array<{ region: string; text: string }>; __liveObserver?: MutationObserver };
    w.__liveObserver?.disconnect();
    w.__live = [];
    const liveOf = (node: Node): Element | null => {
      for (let el = node instanceof Element ? node : node.parentElement; el; el = el.parentElement) {
        const live = el.getAttribute('aria-live');
        if (live) return live === 'off' ? null : el;
        const role = el.getAttribute('role');
        if (role === 'log' || role === 'status' || role === 'alert') return el;
      }
      return null;
    };
    const obs = new MutationObserver((muts) => {
      for (const m of muts) {
        const region = liveOf(m.target);
        if (!region || region.classList.contains('msg-loading')) continue;
        const text = (m.type === 'characterData' ? (m.target.textContent ?? '') : Array.from(m.addedNodes, (n) => n.textContent ?? '').join('')).trim();
        if (text) w.__live.push({ region: `${region.getAttribute('role')}.${region.className}`, text });
      }
    });
    obs.observe(document.querySelector('.msg-scroller')!, { childList: true, subtree: true, characterData: true });
    w.__liveObserver = obs;
  });
}

test.describe.serial('message list: keyboard and screen readers', () => {
  let writer: { username: string; client: ParleyClient };
  let conv: Conversation;
  const ids: string[] = [];
  let page: Page;

  test.beforeAll(async ({ browser }, info) => {
    info.setTimeout(180_000);
    writer = await headlessUser('ann');
    const reader = await headlessUser('bob');
    conv = await writer.client.createDirect(reader.username);
    // Message 30 has a link: Tab from above the list must not stop on it (it is not the list's tab stop).
    for (let i = 0; i < N - 3; i++) ids.push(await conv.send(i === 30 ? `${label(i)} https://example.org/page` : label(i)));
    ids.push(await conv.send(RTL));
    ids.push(await conv.send('תודה, הכל טוב.', { replyTo: ids[N - 3] }));
    ids.push(await conv.send('    indented first line\n    second line'));
    expect(await conv.whenDelivered(60_000)).toBe(true);
    await reader.client.stop();

    page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    await submitSignIn(page, reader.username, PASSWORD);
    const row = page.locator('.conv-row', { hasText: writer.username });
    await expect(row).toBeVisible({ timeout: 30_000 });
    await row.click();
    await expect(page.locator('.chat-title')).toHaveText(writer.username);
    await page.getByRole('button', { name: /Jump to latest|new message/ }).click();
    await expect(page.locator('.msg-text', { hasText: 'indented first line' })).toBeInViewport();
  });

  test.afterAll(async () => {
    await writer?.client.stop();
    await page?.context().close();
  });

  test('every actions button names its message (sender, time and text)', async () => {
    const names = await page.locator('.msg-more').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') ?? ''));
    expect(names.length).toBeGreaterThan(50);
    expect(new Set(names).size).toBe(names.length);
    await expect(page.locator('.msg', { hasText: label(42) }).getByRole('button', { name: /^Actions for message from .+, .+: history 042$/ })).toHaveCount(1);
  });

  test('the list is one tab stop: arrows move between messages and Tab reaches the composer in a few presses', async () => {
    const focused = () => page.evaluate(() => {
      const a = document.activeElement;
      if (!a) return 'none';
      const where = a.closest('.msg-items') ? 'list:' : '';
      if (a.matches('.msg')) return `${where}msg:${a.querySelector('.msg-text')?.textContent ?? ''}`;
      return `${where}${a.tagName.toLowerCase()}#${a.id}.${a.className}`;
    });
    await page.locator('.chat-peer').focus();
    const path: string[] = [];
    for (let i = 0; i < 30 && !path.includes('textarea#composer-input.composer-input'); i++) {
      await page.keyboard.press('Tab');
      path.push(await focused());
    }
    // Into the list (on the newest message), then out of it to the composer: no stop per message (nor on the
    // link in an older one).
    const inList = path.filter((p) => p.startsWith('list:'));
    expect(inList).toEqual(['list:msg:    indented first line\n    second line', 'list:button#.msg-more']);
    expect(path.length).toBeLessThanOrEqual(8);
    await expect(composer(page)).toBeFocused();

    // Arrows walk the messages.
    const msgFocus = page.locator('.msg:focus');
    await page.locator('.msg', { hasText: 'indented first line' }).focus();
    await page.keyboard.press('ArrowUp');
    await expect(msgFocus).toContainText('תודה, הכל טוב.');
    await page.keyboard.press('ArrowUp');
    await expect(msgFocus.locator('.msg-text')).toHaveText(RTL);
    await page.keyboard.press('ArrowDown');
    await expect(msgFocus).toContainText('תודה, הכל טוב.');
    // Home: the oldest message (the window slides back to it); End: the newest.
    await page.keyboard.press('Home');
    await expect(msgFocus.locator('.msg-text')).toHaveText(label(0));
    await expect(msgFocus).toBeInViewport();
    await page.keyboard.press('ArrowDown');
    await expect(msgFocus.locator('.msg-text')).toHaveText(label(1));
    await page.keyboard.press('End');
    await expect(msgFocus).toContainText('indented first line');
    await expect(msgFocus).toBeInViewport();
    // Only the focused message is in the tab order; Shift+Tab leaves the list backwards.
    await expect(page.locator('.msg[tabindex="0"]')).toHaveCount(1);
    await page.keyboard.press('Shift+Tab');
    await expect(page.locator('.msg-items :focus')).toHaveCount(0);
    expect(await page.evaluate(() => document.activeElement !== document.body)).toBe(true);
  });

  test('Enter opens a message’s actions on screen, Escape closes them, a keyboard reaction keeps focus on the message', async () => {
    const newest = page.locator('.msg', { hasText: 'indented first line' });
    const more = newest.locator('.msg-more');
    await newest.focus();
    await page.keyboard.press('Enter');
    await expect(more).toHaveAttribute('aria-expanded', 'true');
    await expect(newest.getByRole('button', { name: 'React with 👍' })).toBeFocused();
    // The newest message's panel is scrolled into view: Reply is on screen, not below the list.
    await expect(newest.getByRole('button', { name: 'Reply' })).toBeInViewport({ ratio: 1 });
    await page.keyboard.press('Escape');
    await expect(newest.locator('.msg-actions')).toHaveCount(0);
    await expect(more).toBeFocused();
    // From the actions button: open, Tab to a reaction, Enter reacts, and focus is back on that button.
    await page.keyboard.press('Enter');
    await expect(more).toHaveAttribute('aria-expanded', 'true');
    await page.keyboard.press('Tab');
    await expect(newest.getByRole('button', { name: 'React with 👍' })).toBeFocused();
    await page.keyboard.press('Enter');
    await expect(newest.locator('.reaction')).toContainText('1');
    await expect(newest.locator('.msg-actions')).toHaveCount(0);
    await expect(more).toBeFocused();
    // The context-menu key opens them too.
    await newest.focus();
    await page.keyboard.press('Shift+F10');
    await expect(more).toHaveAttribute('aria-expanded', 'true');
    await page.keyboard.press('Escape');
    await expect(more).toBeFocused();
  });

  test('the newest message’s actions open in view with the mouse too (and axe finds nothing serious)', async () => {
    await page.getByRole('button', { name: /Jump to latest|new message/ }).click({ timeout: 1000 }).catch(() => undefined);
    const newest = page.locator('.msg', { hasText: 'indented first line' });
    await newest.hover();
    await newest.locator('.msg-more').click();
    await expect(newest.getByRole('button', { name: 'Reply' })).toBeInViewport({ ratio: 1 });
    expect(await axeSeriousViolations(page)).toEqual([]);
    await newest.locator('.msg-more').click();
    await expect(newest.locator('.msg-actions')).toHaveCount(0);
  });

  test('only new messages from others are announced, once per burst', async () => {
    await recordLive(page);
    // Not news: opening and closing actions, my reaction, the other's edit and reaction, history sliding in.
    const target = page.locator('.msg', { hasText: label(96) });
    await target.hover();
    await target.locator('.msg-more').click();
    await target.getByRole('button', { name: 'React with 🎉' }).click();
    await expect(target.locator('.reaction')).toContainText('1');
    await conv.edit(ids[95]!, `${label(95)} (edited by ann)`);
    await conv.react(ids[94]!, '❤️');
    await expect(page.locator('.msg', { hasText: 'edited by ann' }).locator('.msg-edited')).toBeVisible({ timeout: 20_000 });
    await expect(page.locator('.msg', { hasText: label(94) }).locator('.reaction')).toBeVisible({ timeout: 20_000 });
    for (let i = 0; i < 10; i++) {
      await page.locator('.msg-scroller').evaluate((el) => (el.scrollTop = 0));
      await page.waitForTimeout(50);
    }
    await expect(page.locator('.msg-text', { hasText: label(0) })).toBeAttached();
    await page.getByRole('button', { name: /Jump to latest|new message/ }).click();
    await page.waitForTimeout(1000);
    expect(await liveRecords(page)).toEqual([]);

    // One new message: announced once, with its sender and text.
    await conv.send('live news one');
    await expect(page.locator('.msg-text', { hasText: 'live news one' })).toBeVisible({ timeout: 20_000 });
    await expect.poll(() => liveRecords(page)).toEqual([{ region: 'status.visually-hidden msg-announce', text: `New message from ${writer.username}: live news one` }]);

    // A burst of three (arriving one by one): one announcement.
    for (const text of ['burst a', 'burst b', 'burst c']) {
      await conv.send(text);
      await new Promise((r) => setTimeout(r, 200));
    }
    await expect(page.locator('.msg-text', { hasText: 'burst c' })).toBeVisible({ timeout: 20_000 });
    await expect.poll(() => liveRecords(page).then((r) => r.slice(1))).toEqual([{ region: 'status.visually-hidden msg-announce', text: `3 new messages from ${writer.username}` }]);

    // My own message: not announced (it is in the list, and I just wrote it).
    await sendMessage(page, 'my own words');
    await expect(page.locator('.msg.mine .msg-text', { hasText: 'my own words' })).toBeVisible();
    await page.waitForTimeout(1500);
    expect(await liveRecords(page)).toHaveLength(2);
  });

  test('right-to-left messages and quotes take their own direction; a first-line indent is kept', async () => {
    const rtl = page.locator('.msg-text', { hasText: RTL });
    expect(await rtl.evaluate((el) => getComputedStyle(el).direction)).toBe('rtl');
    const quote = page.locator('.msg', { hasText: 'תודה, הכל טוב.' }).locator('.msg-quote-text');
    await expect(quote).toHaveText(RTL);
    expect(await quote.evaluate((el) => getComputedStyle(el).direction)).toBe('rtl');
    expect(await page.locator('.msg-text', { hasText: label(90) }).evaluate((el) => getComputedStyle(el).direction)).toBe('ltr');
    await expect(page.locator('.msg-text', { hasText: 'indented first line' })).toHaveText('    indented first line\n    second line');
  });
});
