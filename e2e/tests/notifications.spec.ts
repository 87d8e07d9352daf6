/**
 * System notifications while the app is in the background: after the user turns them on (a click, never on
 * load), a message arriving while the page is hidden is shown through the service worker (the path Android
 * Chrome requires), titled with the sender and carrying the conversation for the click handler.
 *
 * Headless Chromium reports every page as visible, so the test switches `document.visibilityState` with an
 * init script and fires `visibilitychange` — the only emulated part; the notification itself is the real
 * one (`ServiceWorkerRegistration.getNotifications()` lists what the worker showed). The init script also
 * records every call the page makes to the real `showNotification` and `Notification` (and how the call
 * ended) without replacing them, so a failure says which step went wrong: the message did not arrive, the
 * app did not ask, the browser refused, or the browser does not list it.
 */
import { expect, test, type Browser, type Page } from '@playwright/test';
import { appUrl, headlessDevice, registerAndEnter, uniqueUsername, watchPage } from '../support/app.ts';

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
    // Records the page's notification calls; the real APIs still do the work.
    type Call = { via: 'worker' | 'page'; title: string; body?: string; tag?: string; convId?: unknown; result: string };
    const calls: Call[] = [];
    (window as unknown as { __notificationCalls: Call[] }).__notificationCalls = calls;
    const show = ServiceWorkerRegistration.prototype.showNotification;
    ServiceWorkerRegistration.prototype.showNotification = function (title: string, options?: NotificationOptions) {
      const call: Call = { via: 'worker', title, body: options?.body, tag: options?.tag, convId: (options?.data as { convId?: unknown } | undefined)?.convId, result: 'pending' };
      calls.push(call);
      const shown = show.call(this, title, options);
      shown.then(
        () => (call.result = 'shown'),
        (e: unknown) => (call.result = `failed: ${String(e)}`),
      );
      return shown;
    };
    if (typeof Notification !== 'undefined') {
      const PageNotification = Notification;
      window.Notification = class extends PageNotification {
        constructor(title: string, options?: NotificationOptions) {
          calls.push({ via: 'page', title, body: options?.body, tag: options?.tag, result: 'constructed' });
          super(title, options);
        }
      };
    }
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

interface Call {
  via: 'worker' | 'page';
  title: string;
  body?: string;
  tag?: string;
  convId?: unknown;
  result: string;
}

/** What the page asked the browser to show, and how each call ended (see the init script). */
function notificationCalls(p: Page): Promise<Call[]> {
  return p.evaluate(() => [...(window as unknown as { __notificationCalls: Call[] }).__notificationCalls].map((c) => ({ ...c })));
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
  expect(await notificationCalls(ann.page)).toEqual([]);
  expect(await shownNotifications(ann.page)).toEqual([]);

  // Hidden page: the message arrives, the app asks the worker to show it, titled with the sender and
  // carrying the conversation id, and the browser lists it as shown by the worker.
  await ann.page.evaluate(() => (window as unknown as { __setHidden: (h: boolean) => void }).__setHidden(true));
  await send(bob.page, 'ping while you were away');
  await expect(ann.page.locator('.conv-row', { hasText: 'ping while you were away' }), 'the message reached the hidden page').toBeVisible({ timeout: 20_000 });
  await expect
    .poll(() => notificationCalls(ann.page), { message: 'the app asked the service worker to show it, and the browser did', timeout: 10_000 })
    .toEqual([expect.objectContaining({ via: 'worker', title: bob.name, body: 'ping while you were away', result: 'shown' })]);
  const [call] = await notificationCalls(ann.page);
  expect(call?.tag).toBe(call?.convId);
  expect(String(call?.convId)).toMatch(/^[0-9a-f-]{36}$/);
  await expect
    .poll(() => shownNotifications(ann.page), { message: 'the browser lists the worker\'s notification', timeout: 10_000 })
    .toEqual([{ title: bob.name, body: 'ping while you were away', tag: call?.tag, convId: call?.convId }]);

  // Ann reads the conversation on her phone (the same client core, in Node): the notification on this
  // device is withdrawn, as the unread badge is.
  const phone = await headlessDevice(ann.name);
  try {
    const conv = await phone.open(String(call?.convId));
    await expect.poll(() => conv.messages.some((m) => m.text === 'ping while you were away'), { timeout: 20_000 }).toBe(true);
    await conv.markRead();
    await conv.whenDelivered();
  } finally {
    await phone.stop();
  }
  await expect.poll(() => shownNotifications(ann.page), { message: 'read elsewhere, the notification goes', timeout: 20_000 }).toEqual([]);

  ann.watch.expectClean();
  bob.watch.expectClean();
});
