/**
 * The composer and the time labels in a real browser: pasted text over the core's limit is never cut (a
 * counter, a disabled Send and a hint until it is shortened), right-to-left text gets its own direction, the
 * first line's indentation survives sending, the reply bar notices that its message was deleted, and day
 * labels turn at local midnight and on wake, in the browser's language.
 *
 * One serial suite of two users. Ann's page runs on Playwright's fake clock (installed before the app loads,
 * flowing normally until the last test pauses it) in a fixed-offset time zone whose midnight falls just after
 * the suite starts, so the clock never runs far from the server's.
 */
import { expect, test, type Browser, type BrowserContext, type Locator, type Page } from '@playwright/test';
import { composer, registerAndEnter, sendMessage, startDirectChat, uniqueUsername, watchPage } from '../support/app.ts';

const MAX = 16_000; // MAX_TEXT_LENGTH in shared/src/envelope/inner.ts (UTF-16 units)
const HOUR = 3_600_000;

interface User {
  name: string;
  context: BrowserContext;
  page: Page;
  watch: ReturnType<typeof watchPage>;
}

async function newUser(browser: Browser, prefix: string, options: { locale: string; timezoneId: string }): Promise<User> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...options });
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  const page = await context.newPage();
  return { name: uniqueUsername(prefix), context, page, watch: watchPage(page, ['WebSocket', 'net::ERR', 'Failed to load resource']) };
}

const sendButton = (p: Page) => p.getByRole('button', { name: 'Send message' });
const msg = (p: Page, text: string) => p.locator('.msg', { has: p.locator('.msg-text', { hasText: text }) });

/** Opens a message's actions (hover, then its actions button) and presses `name` among them. */
async function messageAction(m: Locator, name: string, exact = false): Promise<void> {
  await m.hover();
  await m.getByRole('button', { name: /Actions for message/ }).click();
  await m.getByRole('button', { name, exact }).click();
}

/** Pastes `text` into the focused composer through the real clipboard (Ctrl+V). */
async function paste(p: Page, text: string): Promise<void> {
  await p.evaluate((t) => navigator.clipboard.writeText(t), text);
  await composer(p).focus();
  await p.keyboard.press('ControlOrMeta+V');
}

test.describe.serial('composer', () => {
  let a: User;
  let b: User;
  /** Ann's next local midnight (fake clock) and her time zone, UTC+offset hours. */
  let midnight = 0;
  let offset = 0;

  test.beforeAll(async ({ browser }) => {
    // The first whole UTC hour at least 10 min away becomes Ann's midnight: a fixed-offset zone (no DST).
    midnight = Math.ceil((Date.now() + 10 * 60_000) / HOUR) * HOUR;
    const utcHour = new Date(midnight).getUTCHours();
    offset = utcHour <= 12 ? -utcHour : 24 - utcHour; // local = UTC + offset, midnight local
    const timezoneId = offset === 0 ? 'Etc/GMT' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`; // POSIX signs are inverted
    a = await newUser(browser, 'ann', { locale: 'en-US', timezoneId });
    await a.page.clock.install({ time: midnight - 5 * 60_000 });
    b = await newUser(browser, 'bob', { locale: 'de-DE', timezoneId: 'Europe/Berlin' });
    await Promise.all([registerAndEnter(a.page, a.name), registerAndEnter(b.page, b.name)]);
    await startDirectChat(b.page, a.name);
    await sendMessage(b.page, 'Hallo Ann');
    await a.page.locator('.conv-row', { hasText: b.name }).click();
    await expect(a.page.locator('.chat-title')).toHaveText(b.name);
    await expect(msg(a.page, 'Hallo Ann')).toBeVisible();
  });
  test.afterAll(async () => {
    for (const u of [a, b]) await u?.context.close();
  });

  test('relative time words follow the browser language', async () => {
    // Bob's browser is German: the words match the German dates (they were English before).
    await expect(b.page.locator('.day-sep').last()).toHaveText('Heute');
    await expect(msg(b.page, 'Hallo Ann').locator('.msg-time')).toHaveText('jetzt');
    await expect(b.page.locator('.conv-row', { hasText: a.name }).locator('.conv-time')).toHaveText('jetzt');
    // English stays as it was.
    await expect(a.page.locator('.day-sep').last()).toHaveText('Today');
  });

  test('pasted text over the limit is kept whole, counted, and cannot be sent until shortened', async () => {
    const words = Array.from({ length: 1_700 }, (_, i) => `word${String(i).padStart(5, '0')}`).join(' '); // 16,999 units
    const long = `${words.slice(0, MAX + 311)}!`; // 16,312 units
    await paste(a.page, long);
    // Nothing cut (maxlength kept 10,000 before). Lengths first: a failure then prints numbers, not 16 kB.
    await expect.poll(async () => (await composer(a.page).inputValue()).length).toBe(long.length);
    expect(await composer(a.page).inputValue()).toBe(long);
    await expect(a.page.locator('.composer-count')).toHaveText('16,312 / 16,000');
    await expect(a.page.locator('.composer-hint')).toHaveText('Too long by 312 characters. Shorten it to send.');
    await expect(composer(a.page)).toHaveAttribute('aria-invalid', 'true');
    await expect(sendButton(a.page)).toBeDisabled();
    await composer(a.page).press('Enter');
    expect(await composer(a.page).inputValue()).toBe(long); // Enter did not send either

    // Shortened to exactly the limit (counted like the core, on the text as sent): it goes, whole.
    const fits = `${long.slice(0, MAX - 1)}.`; // ends "word01599."
    await composer(a.page).fill(`${fits}   \n`);
    await expect(a.page.locator('.composer-count')).toHaveText('16,000 / 16,000');
    await expect(a.page.locator('.composer-hint')).toHaveText('');
    await expect(sendButton(a.page)).toBeEnabled();
    await composer(a.page).press('Enter');
    await expect(composer(a.page)).toHaveValue('');
    await expect(a.page.locator('.composer-count')).toHaveCount(0);
    const received = b.page.locator('.msg-text', { hasText: 'word01599.' });
    await expect(received).toHaveCount(1, { timeout: 20_000 });
    expect(await received.evaluate((el) => el.textContent)).toBe(fits);
  });

  test('right-to-left text takes its own direction; the first line keeps its indentation', async () => {
    await expect(composer(a.page)).toHaveAttribute('dir', 'auto');
    await composer(a.page).fill('שלום עולם! מה שלומך?');
    expect(await composer(a.page).evaluate((el) => el.matches(':dir(rtl)'))).toBe(true);
    await composer(a.page).fill('plain English');
    expect(await composer(a.page).evaluate((el) => el.matches(':dir(ltr)'))).toBe(true);

    // Whitespace alone is not sent.
    await composer(a.page).fill('   \n  ');
    await expect(sendButton(a.page)).toBeDisabled();
    // Blank lines before the text and whitespace after it go; the indentation of the first line stays.
    await composer(a.page).fill('\n  \n    indented first line\n  second line  \n\n');
    await composer(a.page).press('Enter');
    await expect(composer(a.page)).toHaveValue('');
    const sent = b.page.locator('.msg-text', { hasText: 'indented first line' });
    await expect(sent).toHaveCount(1, { timeout: 20_000 });
    expect(await sent.evaluate((el) => el.textContent)).toBe('    indented first line\n  second line');
  });

  test('the reply bar says when the message it answers is deleted', async () => {
    await sendMessage(b.page, 'Bob will delete this');
    const theirs = msg(a.page, 'Bob will delete this');
    await expect(theirs).toBeVisible({ timeout: 20_000 });
    await messageAction(theirs, 'Reply');
    const bar = a.page.locator('.composer-mode');
    await expect(bar).toContainText(`Replying to ${b.name}`);
    await expect(bar.locator('.composer-mode-text span')).toHaveText('Bob will delete this');

    const mine = msg(b.page, 'Bob will delete this');
    await messageAction(mine, 'Delete', true);
    await mine.getByRole('button', { name: 'Delete for everyone' }).click();
    await expect(bar.locator('.composer-mode-text span')).toHaveText('Deleted message', { timeout: 20_000 });
    await expect(bar).toContainText(`Replying to ${b.name}`);
    await a.page.getByRole('button', { name: 'Cancel reply' }).click();
  });

  test('day labels turn at local midnight, and on wake', async () => {
    await sendMessage(a.page, 'before midnight');
    const sep = a.page.locator('.day-sep').last();
    await expect(sep).toHaveText('Today');

    // Time stops 1 ms before midnight, then runs 2 ms: the label turns at once (not at the next 30 s tick).
    await a.page.clock.pauseAt(midnight - 1);
    await expect(sep).toHaveText('Today');
    await a.page.clock.runFor(2);
    await expect(sep).toHaveText('Yesterday', { timeout: 3_000 });

    // A day later without any timer firing (a laptop asleep): waking the page brings the labels up to date.
    await a.page.clock.setSystemTime(midnight + 24 * HOUR + 60_000);
    await expect(sep).toHaveText('Yesterday');
    await a.page.evaluate(() => document.dispatchEvent(new Event('visibilitychange')));
    const day = new Date(midnight - 60_000).toLocaleDateString('en-US', {
      timeZone: offset === 0 ? 'UTC' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`,
      weekday: 'long',
      year: 'numeric',
      month: 'long',
      day: 'numeric',
    });
    await expect(sep).toHaveText(day, { timeout: 3_000 });
    a.watch.expectClean();
    b.watch.expectClean();
  });
});
