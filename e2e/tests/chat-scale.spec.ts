/**
 * A long conversation in the browser: a headless client (the real core, in Node) writes N messages
 * (PARLEY_E2E_SCALE, default 2,000; the acceptance run uses 10,000), then the other member signs in on a
 * fresh browser and opens the chat. The message list stays windowed (a bounded number of DOM items however
 * long the history), opens at the first unread message, jumps to the newest, scrolls back through history,
 * and search jumps into it.
 * Timings are printed for the record; bounds are generous (the machine may be slow).
 */
import { expect, test } from '@playwright/test';
import { appUrl, headlessUser, PASSWORD, submitSignIn } from '../support/app.ts';

const N = Number(process.env.PARLEY_E2E_SCALE ?? 2000);

test(`a ${N}-message history opens at the first unread, jumps to the newest, stays windowed, scrolls and searches`, async ({ page }) => {
  test.setTimeout(120_000 + N * 60);
  const writer = await headlessUser('big');
  const reader = await headlessUser('rdr');
  const conv = await writer.client.createDirect(reader.username);
  const t0 = Date.now();
  for (let i = 0; i < N; i++) await conv.send(i === 7 ? 'the hidden needle is zephyrine' : `history message ${i}`);
  expect(await conv.whenDelivered(120_000 + N * 20)).toBe(true);
  const seeded = Date.now() - t0;
  await reader.client.stop();
  await writer.client.stop();

  await page.setViewportSize({ width: 1280, height: 800 });
  await submitSignIn(page, reader.username, PASSWORD);
  const row = page.locator('.conv-row', { hasText: writer.username });
  await expect(row).toBeVisible({ timeout: 30_000 });
  const t1 = Date.now();
  await row.click();
  // Everything is unread: the chat opens at the "New messages" divider (the first unread message of the
  // newest segment; older segments load as the reader scrolls up, and in the background for search).
  await expect(page.locator('.unread-sep')).toBeInViewport({ timeout: 60_000 });
  const opened = Date.now() - t1;
  const domItems = () => page.locator('.msg').count();
  expect(await domItems()).toBeLessThanOrEqual(200);

  // Jump to the newest message.
  const t2 = Date.now();
  await page.getByRole('button', { name: /Jump to latest|new message/ }).click();
  await expect(page.locator('.msg-text', { hasText: `history message ${N - 1}` })).toBeInViewport();
  const jumped = Date.now() - t2;
  expect(await domItems()).toBeLessThanOrEqual(200);

  // Scroll back through history: the window slides, the DOM stays bounded, the reading position holds.
  const t3 = Date.now();
  for (let i = 0; i < 15; i++) {
    await page.locator('.msg-scroller').evaluate((el) => (el.scrollTop = 0));
    await page.waitForTimeout(30);
  }
  const scrolled = Date.now() - t3;
  expect(await domItems()).toBeLessThanOrEqual(200);
  await expect(page.locator('.msg-text', { hasText: `history message ${N - 1}` })).toHaveCount(0);

  // Search reaches the oldest messages and jumps there.
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await page.getByLabel('Search messages').fill('zephyrin');
  await expect(async () => {
    // The oldest segment is indexed once the background history load reaches it.
    await page.getByLabel('Search messages').fill('');
    await page.getByLabel('Search messages').fill('zephyrin');
    await expect(page.locator('.search-hit', { hasText: 'zephyrine' })).toBeVisible({ timeout: 2000 });
  }).toPass({ timeout: 60_000 + N * 20 });
  await page.locator('.search-hit', { hasText: 'zephyrine' }).click();
  const needle = page.locator('.msg', { hasText: 'the hidden needle is zephyrine' });
  await expect(needle).toBeInViewport({ timeout: 20_000 });
  expect(await domItems()).toBeLessThanOrEqual(200);

  console.log(`[scale] ${N} messages: seeded in ${seeded} ms; opened at the first unread in ${opened} ms; jump to latest ${jumped} ms; 15 scroll steps ${scrolled} ms`);
});
