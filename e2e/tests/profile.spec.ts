/**
 * Encrypted profiles in the app: Alice sets a display name, status and picture in "Your profile"; Bob (her
 * contact) sees the display name in the conversation list and the chat header, the status and picture in
 * the contact-info dialog, and the safety number there both as text groups and as a QR code image.
 */
import { expect, test, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { registerAndEnter, uniqueUsername, watchPage } from '../support/app.ts';
import { axeSeriousViolations as axeSerious } from '../support/axe.ts';

interface User {
  name: string;
  context: BrowserContext;
  page: Page;
  watch: ReturnType<typeof watchPage>;
}

async function newUser(browser: Browser, prefix: string): Promise<User> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const watch = watchPage(page, ['WebSocket', 'net::ERR', 'Failed to load resource']);
  return { name: uniqueUsername(prefix), context, page, watch };
}

const composer = (p: Page) => p.getByLabel('Message', { exact: true });

// A 300×200 PNG (a solid colour), made in the test so no fixture file is needed.
async function pngBytes(p: Page): Promise<Buffer> {
  const b64 = await p.evaluate(async () => {
    const c = document.createElement('canvas');
    c.width = 300;
    c.height = 200;
    const ctx = c.getContext('2d');
    if (!ctx) throw new Error('no 2d context');
    ctx.fillStyle = '#3a7';
    ctx.fillRect(0, 0, 300, 200);
    return c.toDataURL('image/png').split(',')[1] ?? '';
  });
  return Buffer.from(b64, 'base64');
}

test.describe.serial('profiles', () => {
  let a: User;
  let b: User;

  test.beforeAll(async ({ browser }) => {
    a = await newUser(browser, 'alice');
    b = await newUser(browser, 'bob');
  });
  test.afterAll(async () => {
    for (const u of [a, b]) await u?.context.close();
  });

  test('display name, status and picture reach a contact; the safety number shows as text and QR code', async () => {
    test.setTimeout(60_000);
    await Promise.all([registerAndEnter(a.page, a.name), registerAndEnter(b.page, b.name)]);

    // Alice starts a chat with Bob, so they are contacts.
    await a.page.getByRole('button', { name: 'New chat' }).click();
    const newChat = a.page.getByRole('dialog', { name: 'New chat' });
    await newChat.getByLabel('Username').fill(b.name);
    await newChat.getByRole('button', { name: 'Start chat' }).click();
    await expect(newChat).toBeHidden({ timeout: 20_000 });
    await composer(a.page).fill('Hi Bob');
    await composer(a.page).press('Enter');
    await expect(b.page.locator('.conv-row')).toHaveCount(1, { timeout: 20_000 });

    // Settings' "Edit profile" (and the /profile address) open the profile dialog in the chat.
    await a.page.getByRole('link', { name: 'Settings' }).click();
    await a.page.getByRole('link', { name: 'Edit profile' }).click();
    const dlg = a.page.getByRole('dialog', { name: 'Your profile' });
    await expect(dlg).toBeVisible();
    await expect(a.page).toHaveURL(/\/$/);
    await dlg.getByRole('button', { name: 'Close' }).click();
    await expect(dlg).toBeHidden();
    await a.page.goto(new URL('/profile', a.page.url()).href);
    await expect(dlg).toBeVisible({ timeout: 20_000 });
    await dlg.getByRole('button', { name: 'Close' }).click();
    await expect(dlg).toBeHidden();

    // Alice edits her profile; an over-long status is refused with a clear error.
    await a.page.getByRole('button', { name: 'Profile', exact: true }).click();
    await dlg.getByLabel('Display name').fill('Alice Liddell');
    await dlg.getByLabel('Status').fill('x'.repeat(141));
    await dlg.getByRole('button', { name: 'Save' }).click();
    await expect(dlg.getByRole('alert')).toContainText('Status: at most 140 characters');
    await dlg.getByLabel('Status').fill('Down the rabbit hole');
    await dlg.locator('#profile-avatar').setInputFiles({ name: 'me.png', mimeType: 'image/png', buffer: await pngBytes(a.page) });
    await expect(dlg.locator('.avatar-img')).toBeVisible();
    expect(await axeSerious(a.page)).toEqual([]);
    await dlg.getByRole('button', { name: 'Save' }).click();
    await expect(dlg).toBeHidden({ timeout: 20_000 });

    // Bob sees the display name in the list and the header, with her picture.
    const row = b.page.locator('.conv-row').first();
    await expect(row.locator('.conv-name')).toHaveText('Alice Liddell', { timeout: 20_000 });
    await expect(row.locator('.avatar-img')).toBeVisible();
    await row.click();
    await expect(b.page.locator('.chat-title')).toHaveText('Alice Liddell');
    await expect(b.page.locator('.msg-text', { hasText: 'Hi Bob' })).toBeVisible();

    // Contact info: status, username, the safety number as text and as a QR code.
    await b.page.locator('.chat-peer').click();
    const info = b.page.getByRole('dialog', { name: 'Alice Liddell' });
    await expect(info.getByTestId('contact-status')).toHaveText('Down the rabbit hole');
    await expect(info.getByText(`@${a.name}`)).toBeVisible();
    const number = info.getByTestId('safety-number');
    await expect(number.locator('.safety-group')).toHaveCount(12);
    const digits = ((await number.textContent()) ?? '').replace(/\D/g, '');
    expect(digits).toMatch(/^\d{60}$/);
    const qr = info.getByTestId('safety-qr');
    await expect(qr).toBeVisible();
    expect(await qr.getAttribute('src')).toMatch(/^data:image\/svg\+xml/);
    expect((await qr.getAttribute('alt'))?.replace(/\D/g, '')).toBe(digits);
    expect(await qr.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
    expect(await axeSerious(b.page)).toEqual([]);

    a.watch.expectClean();
    b.watch.expectClean();
  });
});
