/**
 * Encrypted profiles in the app: Alice sets a display name, status and picture in "Your profile"; Bob (her
 * contact) sees the display name in the conversation list and the chat header, the status and picture in
 * the contact-info dialog, and the safety number there both as text groups and as a QR code image.
 */
import { expect, test, type Browser, type BrowserContext, type Locator, type Page } from '@playwright/test';
import { PASSWORD, registerAndEnter, submitSignIn, uniqueUsername, watchPage } from '../support/app.ts';
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
async function pngBytes(p: Page, colour = '#3a7'): Promise<Buffer> {
  const b64 = await p.evaluate(async (fill) => {
    const c = document.createElement('canvas');
    c.width = 300;
    c.height = 200;
    const ctx = c.getContext('2d');
    if (!ctx) throw new Error('no 2d context');
    ctx.fillStyle = fill;
    ctx.fillRect(0, 0, 300, 200);
    return c.toDataURL('image/png').split(',')[1] ?? '';
  }, colour);
  return Buffer.from(b64, 'base64');
}

/** The colour (r, g, b) of an image element's centre. */
async function centreColour(img: Locator): Promise<number[]> {
  return img.evaluate(async (el: HTMLImageElement) => {
    await el.decode();
    const c = document.createElement('canvas');
    c.width = 1;
    c.height = 1;
    const ctx = c.getContext('2d');
    if (!ctx) throw new Error('no 2d context');
    ctx.drawImage(el, el.naturalWidth / 2, el.naturalHeight / 2, 1, 1, 0, 0, 1, 1);
    return [...ctx.getImageData(0, 0, 1, 1).data.slice(0, 3)];
  });
}

/**
 * Holds every `createImageBitmap` of the page until `releaseDecode` is called: a picture then stays "being
 * prepared" for as long as the test needs, as a very large image (a 12000×12000 PNG takes ~7 s) does.
 */
async function holdDecode(p: Page): Promise<void> {
  await p.evaluate(() => {
    const real = window.createImageBitmap.bind(window);
    let release = () => {};
    const gate = new Promise<void>((r) => (release = r));
    Object.assign(window, {
      releaseDecode: release,
      createImageBitmap: async (...args: Parameters<typeof createImageBitmap>) => {
        await gate;
        return real(...args);
      },
    });
  });
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

  test('the profile dialog: no empty error box, one clear error for an over-long name, busy while a picture is prepared', async () => {
    const p = a.page;
    // No empty pink box in "New chat", yet its alert region is there for an error that comes later.
    await p.getByRole('button', { name: 'New chat' }).click();
    const newChat = p.getByRole('dialog', { name: 'New chat' });
    await expect(newChat.getByLabel('Username')).toBeVisible();
    await expect(newChat.locator('[role="alert"]')).toHaveCount(1);
    await expect(newChat.locator('.form-error').filter({ visible: true })).toHaveCount(0);
    await newChat.getByRole('button', { name: 'Close' }).click();
    await expect(newChat).toBeHidden();

    await p.getByRole('button', { name: 'Profile', exact: true }).click();
    const dlg = p.getByRole('dialog', { name: 'Your profile' });
    const name = dlg.getByLabel('Display name');
    await expect(name).toHaveValue('Alice Liddell');
    await expect(dlg.locator('[role="alert"]')).toHaveCount(1);
    await expect(dlg.locator('.form-error').filter({ visible: true })).toHaveCount(0);

    // A pasted 200-letter name: the counter says it is too long, and Save gives one message, not two.
    await name.fill('Ж'.repeat(200));
    await expect(dlg.locator('#profile-name-hint')).toHaveText('200/64: too long by 136.');
    await expect(name).toHaveAttribute('aria-invalid', 'true');
    await dlg.getByRole('button', { name: 'Save' }).click();
    const alert = dlg.getByRole('alert');
    await expect(alert.locator('p')).toHaveText(['Display name: at most 64 characters']);
    await expect(dlg).toBeVisible();
    await name.fill('Alice Liddell');
    await expect(name).not.toHaveAttribute('aria-invalid');

    // While a chosen picture is prepared, the dialog says so and Save waits; then the picture is saved.
    await holdDecode(p);
    const save = dlg.getByRole('button', { name: 'Save' });
    await dlg.locator('#profile-avatar').setInputFiles({ name: 'new.png', mimeType: 'image/png', buffer: await pngBytes(p, '#c33') });
    await expect(dlg.getByRole('status')).toHaveText('Preparing picture…');
    await expect(save).toBeDisabled();
    await name.press('Enter'); // implicit submission does not save either
    await p.waitForTimeout(300);
    await expect(dlg).toBeVisible();
    await p.evaluate(() => (window as unknown as { releaseDecode: () => void }).releaseDecode());
    await expect(dlg.getByRole('status')).toHaveText('');
    await expect(save).toBeEnabled();
    await save.click();
    await expect(dlg).toBeHidden({ timeout: 20_000 });
    await p.getByRole('button', { name: 'Profile', exact: true }).click();
    const [r, g] = await centreColour(dlg.locator('.avatar-img'));
    expect(r).toBeGreaterThan(150); // #c33, not the earlier #3a7
    expect(g).toBeLessThan(110);
    await dlg.getByRole('button', { name: 'Close' }).click();
    a.watch.expectClean();
  });

  test('a profile dialog left open on another device saves only what was changed there', async ({ browser }) => {
    // Alice's second device opens "Your profile" (name Alice Liddell); the laptop then renames her; the
    // phone, still showing the old name, changes only the status and saves: the new name stays.
    const phone = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const p2 = await phone.newPage();
      await submitSignIn(p2, a.name, PASSWORD);
      await p2.getByRole('button', { name: 'Profile', exact: true }).click({ timeout: 30_000 });
      const onPhone = p2.getByRole('dialog', { name: 'Your profile' });
      await expect(onPhone.getByLabel('Display name')).toHaveValue('Alice Liddell', { timeout: 20_000 });

      await a.page.getByRole('button', { name: 'Profile', exact: true }).click();
      const onLaptop = a.page.getByRole('dialog', { name: 'Your profile' });
      await onLaptop.getByLabel('Display name').fill('Alice from the laptop');
      await onLaptop.getByRole('button', { name: 'Save' }).click();
      await expect(onLaptop).toBeHidden({ timeout: 20_000 });

      await onPhone.getByLabel('Status').fill('On the train');
      await onPhone.getByRole('button', { name: 'Save' }).click();
      await expect(onPhone).toBeHidden({ timeout: 20_000 });
      // Bob sees both: the laptop's name and the phone's status.
      await expect(b.page.getByText('Alice from the laptop').first()).toBeVisible({ timeout: 20_000 });
      await p2.getByRole('button', { name: 'Profile', exact: true }).click();
      await expect(onPhone.getByLabel('Display name')).toHaveValue('Alice from the laptop', { timeout: 20_000 });
      await expect(onPhone.getByLabel('Status')).toHaveValue('On the train');
    } finally {
      await phone.close();
    }
  });
});
