/**
 * One running tab per device (app/src/shell/tab-lock.ts), in real Chromium: two pages of one browser context
 * share IndexedDB exactly as two tabs do. A second tab shows "Parley is open in another tab" and starts nothing;
 * a reload of the running tab is not mistaken for another tab; "Use here" stops the first tab and runs Parley in
 * the second, whose messages reach the peer with no integrity warning (two clients on one device would reuse
 * frame counters and message ids); a notification click opens the conversation in the running tab, not in a
 * waiting one; once the second tab is closed, the first can take Parley back.
 */
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { GAP_SHOW_AFTER_MS } from '../../app/src/chat/integrity.ts';
import { axeSeriousViolations } from '../support/axe.ts';
import { appUrl, newBrowserUser, registerAndEnter, sendMessage, startDirectChat, watchPage, type BrowserUser } from '../support/app.ts';

const elsewhere = (p: Page) => p.getByRole('heading', { name: 'Parley is open in another tab' });
const messageText = (p: Page, text: string) => p.locator('.msg-text', { hasText: text });
const integrity = (p: Page) => p.locator('.integrity-notice');
const chatTitle = (p: Page) => p.locator('.chat-title');
const row = (p: Page, name: string) => p.locator('.conv-row').filter({ has: p.locator('.conv-name', { hasText: name }) });

/**
 * Clicks a notification about `convId` the way the browser does: the service worker shows a real notification and
 * its `notificationclick` listener gets the event (dispatched in the worker, the one emulated part).
 */
async function clickNotification(context: BrowserContext, convId: string): Promise<void> {
  await context.grantPermissions(['notifications'], { origin: new URL(appUrl('/')).origin });
  const worker = context.serviceWorkers()[0] ?? (await context.waitForEvent('serviceworker'));
  await worker.evaluate(async (id) => {
    // Worker globals (the e2e project is typed with the DOM library only).
    const sw = self as unknown as { registration: ServiceWorkerRegistration; dispatchEvent(e: Event): boolean };
    const { NotificationEvent } = globalThis as unknown as { NotificationEvent: new (type: string, init: { notification: Notification }) => Event };
    await sw.registration.showNotification('Parley', { body: 'new message', data: { convId: id }, tag: `click-${id}` });
    const [n] = await sw.registration.getNotifications({ tag: `click-${id}` });
    if (!n) throw new Error('the notification was not shown');
    sw.dispatchEvent(new NotificationEvent('notificationclick', { notification: n }));
  }, convId);
}

test.describe.serial('one running tab per device', () => {
  let a: BrowserUser;
  let b: BrowserUser;
  let convId: string;

  test.beforeAll(async ({ browser }) => {
    a = await newBrowserUser(browser, 'tabs');
    b = await newBrowserUser(browser, 'peer');
    await registerAndEnter(a.page, a.name);
    await registerAndEnter(b.page, b.name);
    await startDirectChat(a.page, b.name);
    convId = new URL(a.page.url()).searchParams.get('c') ?? '';
    expect(convId).toMatch(/^[0-9a-f-]{36}$/);
    await sendMessage(a.page, 'from the first tab');
    await expect(row(b.page, a.name)).toBeVisible({ timeout: 20_000 });
    await row(b.page, a.name).click();
    await expect(messageText(b.page, 'from the first tab')).toBeVisible({ timeout: 20_000 });
  });
  test.afterAll(async () => {
    for (const u of [a, b]) await u?.context.close();
  });

  test('a second tab waits; a reload of the first is no other tab; Use here moves Parley; closing it hands back', async () => {
    const second = await a.context.newPage();
    const watch2 = watchPage(second);
    await second.goto(appUrl('/'));
    await expect(elsewhere(second)).toBeVisible({ timeout: 10_000 });
    // The waiting tab starts nothing: no conversation list, no socket of its own.
    await expect(second.locator('.conv-row')).toHaveCount(0);
    await expect(second.getByRole('button', { name: 'Use here' })).toBeEnabled();
    expect(await axeSeriousViolations(second)).toEqual([]);

    // The first tab keeps running, and a reload of it comes back as the running tab.
    await a.page.reload();
    await expect(row(a.page, b.name)).toBeVisible({ timeout: 20_000 });
    await expect(elsewhere(a.page)).toHaveCount(0);
    await expect(elsewhere(second)).toBeVisible();

    // Use here: the first tab stops and says so; the second runs Parley and chats.
    await second.getByRole('button', { name: 'Use here' }).click();
    await expect(elsewhere(a.page)).toBeVisible({ timeout: 15_000 });
    await expect(row(second, b.name)).toBeVisible({ timeout: 20_000 });
    await expect(chatTitle(second)).toHaveCount(0);

    // A notification click opens the conversation in the running tab, not in a waiting one. Chromium lists the
    // newest window first to the worker, so a third tab, waiting, is the one a first-window pick would take.
    const third = await a.context.newPage();
    await third.goto(appUrl('/'));
    await expect(elsewhere(third)).toBeVisible({ timeout: 10_000 });
    await clickNotification(a.context, convId);
    await expect(chatTitle(second)).toHaveText(b.name, { timeout: 10_000 });
    for (const waiting of [a.page, third]) await expect(elsewhere(waiting)).toBeVisible();
    await third.close();

    await row(second, b.name).click();
    await expect(messageText(second, 'from the first tab')).toBeVisible({ timeout: 20_000 });
    await sendMessage(second, 'from the second tab');
    await sendMessage(second, 'and once more');
    for (const t of ['from the second tab', 'and once more']) await expect(messageText(b.page, t)).toBeVisible({ timeout: 20_000 });
    await expect(a.page.locator('.conv-row')).toHaveCount(0);

    // Closing the second tab: the first takes Parley back with Use here and carries on.
    await second.close();
    await a.page.getByRole('button', { name: 'Use here' }).click();
    await expect(row(a.page, b.name)).toBeVisible({ timeout: 20_000 });
    await row(a.page, b.name).click();
    await expect(messageText(a.page, 'and once more')).toBeVisible({ timeout: 20_000 });
    await sendMessage(a.page, 'back in the first tab');
    await expect(messageText(b.page, 'back in the first tab')).toBeVisible({ timeout: 20_000 });

    // Every device's frames and message ids stayed unique: the peer saw no integrity problem (a gap is shown
    // only after it stayed open GAP_SHOW_AFTER_MS, so wait that long first).
    await a.page.waitForTimeout(GAP_SHOW_AFTER_MS + 1000);
    await expect(integrity(b.page)).toHaveCount(0);
    await expect(integrity(a.page)).toHaveCount(0);
    watch2.expectClean();
    a.watch.expectClean();
    b.watch.expectClean();
  });
});
