/**
 * System notifications while the app is in the background: after the user turns them on (a click, never on
 * load), a message arriving while the page is hidden is shown through the service worker (the path Android
 * Chrome requires), titled with the sender and carrying the conversation for the click handler.
 *
 * Headless Chromium reports every page as visible, so the test switches `document.visibilityState` with an
 * init script and fires `visibilitychange` — the only emulated part; the notification itself is the real
 * one (`ServiceWorkerRegistration.getNotifications()` lists what the worker showed).
 */
import { expect, test, type Browser, type Page } from '@playwright/test';
import { appUrl, registerAndEnter, uniqueUsername, watchPage } from '../support/app.ts';

async function newUser(browser: Browser, prefix: string): Promise<{ name: string; page: Page; watch: ReturnType<typeof watchPage>; grant: () => Promise<void> }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await page.addInitScript(() => {
    let hidden = false;
    Object.defineProperty(Document.prototype, 'visibilityState', { configurable: true, get: () => (hidden ? 'hidden' : 'visible') });
    Object.defineProperty(Document.prototype, 'hidden', { configurable: true, get: () => hidden });
    (window as unknown as { __setHidden: (h: boolean) => void }).__setHidden = (h: boolean) => {
      hidden = h;
      document.dispatchEvent(new Event('visibilitychange'));
    };
  });
  const origin = new URL(appUrl('/')).origin;
  return { name: uniqueUsername(prefix), page, watch: watchPage(page), grant: () => context.grantPermissions(['notifications'], { origin }) };
}

const composer = (p: Page) => p.getByLabel('Message', { exact: true });

async function send(p: Page, text: string): Promise<void> {
  await composer(p).fill(text);
  await composer(p).press('Enter');
  await expect(composer(p)).toHaveValue('');
}

interface Shown {
  title: string;
  body: string;
  tag: string;
  convId: unknown;
}

function shownNotifications(p: Page): Promise<Shown[]> {
  return p.evaluate(async () => {
    const reg = await navigator.serviceWorker.getRegistration();
    if (!reg) return [];
    return (await reg.getNotifications()).map((n) => ({
      title: n.title,
      body: n.body,
      tag: n.tag,
      convId: (n.data as { convId?: unknown } | null)?.convId,
    }));
  });
}

test('a message that arrives while the app is hidden becomes a system notification from the service worker', async ({ browser, request }) => {
  // The generated worker loads the click handler.
  const sw = await (await request.get(appUrl('/sw.js'))).text();
  expect(sw).toContain('sw-notifications.js');
  const handler = await request.get(appUrl('/sw-notifications.js'));
  expect(handler.status()).toBe(200);
  expect(await handler.text()).toContain('notificationclick');

  const ann = await newUser(browser, 'nann');
  const bob = await newUser(browser, 'nbob');
  await registerAndEnter(ann.page, ann.name);
  await registerAndEnter(bob.page, bob.name);

  // Bob writes first, so Ann has a conversation (the opt-in is offered once there is something to notify about).
  await bob.page.getByRole('button', { name: 'New chat' }).click();
  const dlg = bob.page.getByRole('dialog', { name: 'New chat' });
  await dlg.getByLabel('Username').fill(ann.name);
  await dlg.getByRole('button', { name: 'Start chat' }).click();
  await expect(dlg).toBeHidden({ timeout: 20_000 });
  await send(bob.page, 'hello there');
  await expect(ann.page.locator('.conv-row', { hasText: bob.name })).toBeVisible({ timeout: 20_000 });

  // Nothing is shown while permission has not been given.
  const optIn = ann.page.getByRole('button', { name: 'Turn on notifications' });
  await expect(optIn).toBeVisible();
  await ann.grant();
  await optIn.click();
  await expect(optIn).toBeHidden();
  await ann.page.evaluate(async () => {
    await navigator.serviceWorker.ready;
  });

  // Visible page: no system notification, just the in-app signals.
  await send(bob.page, 'seen in the app');
  await expect(ann.page.locator('.conv-row', { hasText: 'seen in the app' })).toBeVisible({ timeout: 20_000 });
  expect(await shownNotifications(ann.page)).toEqual([]);

  // Hidden page: the worker shows one, titled with the sender, carrying the conversation id.
  await ann.page.evaluate(() => (window as unknown as { __setHidden: (h: boolean) => void }).__setHidden(true));
  await send(bob.page, 'ping while you were away');
  await expect.poll(() => shownNotifications(ann.page), { timeout: 20_000 }).toEqual([
    expect.objectContaining({ title: bob.name, body: 'ping while you were away' }),
  ]);
  const [shown] = await shownNotifications(ann.page);
  expect(shown?.tag).toBe(shown?.convId);
  expect(String(shown?.convId)).toMatch(/^[0-9a-f-]{36}$/);

  ann.watch.expectClean();
  bob.watch.expectClean();
});
