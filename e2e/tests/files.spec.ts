/**
 * Encrypted file sharing in real browsers against the real server: alice attaches an image (a PNG made in
 * the test) and a PDF with the file picker and sends them; bob sees the thumbnail (made and encrypted on
 * alice's device, verified on his before it is shown), opens the full image in the lightbox (Escape closes
 * it), and downloads the PDF byte-identical (SHA-256). Pasting and dropping files stage them in the
 * composer, and a staged file can be removed. The app's real CSP stays on; the console must stay clean.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import { expect, test, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { cuttingProxy } from '../../sync-server/test/blobs-support.ts';
import { registerAndEnter, uniqueUsername, watchPage } from '../support/app.ts';
import { repoRoot } from '../support/server.ts';

interface User {
  name: string;
  context: BrowserContext;
  page: Page;
  watch: ReturnType<typeof watchPage>;
}

async function newUser(browser: Browser, prefix: string): Promise<User> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  const page = await context.newPage();
  return { name: uniqueUsername(prefix), context, page, watch: watchPage(page) };
}

/** A real PNG (8-bit RGB, no filter) of a colour gradient, encoded here so no binary image is committed. */
function makePng(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    for (let x = 0; x < width; x++) raw.set([(x * 255) / width, (y * 255) / height, 160], row + 1 + x * 3);
  }
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const composer = (p: Page) => p.getByLabel('Message', { exact: true });
const exactly = (text: string) => new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
const row = (p: Page, title: string) => p.locator('.conv-row').filter({ has: p.locator('.conv-name', { hasText: exactly(title) }) });

test.describe.serial('files', () => {
  let a: User;
  let b: User;
  const png = makePng(640, 400);
  const pdf = readFileSync(join(repoRoot, 'e2e/fixtures/sample.pdf'));

  test.beforeAll(async ({ browser }) => {
    a = await newUser(browser, 'fia');
    b = await newUser(browser, 'fib');
  });
  test.afterAll(async () => {
    for (const u of [a, b]) await u?.context.close();
  });

  test('alice sends an image and a PDF; bob sees the thumbnail, opens the image, and downloads the PDF intact', async () => {
    await Promise.all([registerAndEnter(a.page, a.name), registerAndEnter(b.page, b.name)]);
    await a.page.getByRole('button', { name: 'New chat' }).click();
    const dlg = a.page.getByRole('dialog', { name: 'New chat' });
    await dlg.getByLabel('Username').fill(b.name);
    await dlg.getByRole('button', { name: 'Start chat' }).click();
    await expect(dlg).toBeHidden({ timeout: 20_000 });
    await expect(a.page.locator('.chat-title')).toHaveText(b.name);

    // Attach both with the file picker; each uploads (encrypted) with progress, then is ready.
    await expect(a.page.getByRole('button', { name: 'Attach files' })).toBeEnabled();
    await a.page.getByTestId('attach-input').setInputFiles([
      { name: 'gradient.png', mimeType: 'image/png', buffer: png },
      { name: 'sample.pdf', mimeType: 'application/pdf', buffer: pdf },
    ]);
    const tray = a.page.getByRole('list', { name: 'Files to send' });
    await expect(tray.locator('.upload-item')).toHaveCount(2);
    await expect(tray.locator('.upload-item.upload-ready')).toHaveCount(2, { timeout: 20_000 });
    await composer(a.page).fill('Here are the files');
    await composer(a.page).press('Enter');
    await expect(tray).toBeHidden();
    const mine = a.page.locator('.msg.mine').last();
    await expect(mine.locator('.msg-text')).toHaveText('Here are the files');
    await expect(mine.getByRole('img', { name: 'gradient.png' })).toBeVisible({ timeout: 20_000 });
    await expect(mine.locator('.file-card-name')).toHaveText('sample.pdf');
    await expect(mine.locator('.msg-status')).toHaveText(/Sent|Read/, { timeout: 15_000 });

    // Bob: the thumbnail is the on-device one (at most 320 px), shown from a blob: URL after verification.
    await expect(row(b.page, a.name)).toBeVisible({ timeout: 20_000 });
    await row(b.page, a.name).click();
    const theirs = b.page.locator('.msg.theirs').last();
    const thumb = theirs.getByRole('img', { name: 'gradient.png' });
    await expect(thumb).toBeVisible({ timeout: 20_000 });
    expect(await thumb.getAttribute('src')).toMatch(/^blob:/);
    const size = await thumb.evaluate((img: HTMLImageElement) => ({ w: img.naturalWidth, h: img.naturalHeight }));
    expect(size).toEqual({ w: 320, h: 200 });
    await expect(theirs.locator('.file-card-name')).toHaveText('sample.pdf');
    await expect(theirs.locator('.file-card-size')).toHaveText(`${pdf.length} B`);

    // The lightbox shows the full image (verified), keeps focus inside, and Escape closes it.
    await theirs.getByRole('button', { name: 'Open image gradient.png' }).click();
    const viewer = b.page.getByRole('dialog', { name: 'gradient.png' });
    await expect(viewer).toBeVisible();
    const full = viewer.getByRole('img', { name: 'gradient.png' });
    await expect(full).toBeVisible({ timeout: 20_000 });
    expect(await full.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(640);
    await b.page.keyboard.press('Tab');
    await b.page.keyboard.press('Tab');
    expect(await viewer.evaluate((d) => d.contains(document.activeElement))).toBe(true);
    await b.page.keyboard.press('Escape');
    await expect(viewer).toBeHidden();
    await expect(theirs.getByRole('button', { name: 'Open image gradient.png' })).toBeFocused();

    // The PDF downloads byte-identical.
    const [download] = await Promise.all([b.page.waitForEvent('download'), theirs.getByRole('button', { name: 'Download sample.pdf' }).click()]);
    expect(download.suggestedFilename()).toBe('sample.pdf');
    const saved = readFileSync(await download.path());
    expect(sha256(saved)).toBe(sha256(pdf));

    a.watch.expectClean();
    b.watch.expectClean();
  });

  test('pasted and dropped files are staged in the composer and can be removed before sending', async () => {
    await composer(a.page).focus();
    await composer(a.page).evaluate((el) => {
      const dt = new DataTransfer();
      dt.items.add(new File(['pasted text'], 'pasted.txt', { type: 'text/plain' }));
      el.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
    });
    const tray = a.page.getByRole('list', { name: 'Files to send' });
    await expect(tray.locator('.upload-name')).toHaveText(['pasted.txt']);
    await expect(composer(a.page)).toHaveValue(''); // the file did not paste as text

    await a.page.locator('.chat-view').evaluate((el) => {
      const dt = new DataTransfer();
      dt.items.add(new File(['dropped'], 'dropped.txt', { type: 'text/plain' }));
      for (const type of ['dragenter', 'dragover', 'drop']) el.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
    });
    await expect(tray.locator('.upload-name')).toHaveText(['pasted.txt', 'dropped.txt']);
    await expect(a.page.locator('.chat-view')).not.toHaveClass(/file-drop-active/);
    await expect(tray.locator('.upload-item.upload-ready')).toHaveCount(2, { timeout: 20_000 });

    await tray.getByRole('button', { name: 'Remove dropped.txt' }).click();
    await expect(tray.locator('.upload-name')).toHaveText(['pasted.txt']);
    // A finished file survives a reload, like the draft (kept sealed on the device); the removed one stays gone.
    await a.page.waitForTimeout(500);
    await a.page.reload();
    await expect(tray.locator('.upload-item.upload-ready .upload-name')).toHaveText(['pasted.txt'], { timeout: 30_000 });
    await a.page.getByRole('button', { name: 'Send message' }).click(); // a file alone, no text
    await expect(tray).toBeHidden();
    await expect(a.page.locator('.msg.mine').last().locator('.file-card-name')).toHaveText('pasted.txt', { timeout: 20_000 });
    await expect(b.page.locator('.msg.theirs').last().locator('.file-card-name')).toHaveText('pasted.txt', { timeout: 20_000 });
    await expect(b.page.locator('.file-card-name', { hasText: 'dropped.txt' })).toHaveCount(0);
    a.watch.expectClean();
    b.watch.expectClean();
  });

  test('a download that breaks off mid-transfer resumes where it stopped ([FILE-11]) and the file is intact', async () => {
    // 1.5 MB of pseudo-random bytes (23 sealed chunks) from alice. Bob's requests for the blob are sent through
    // a TCP proxy that closes its first connection after 300 kB of the answer (the Content-Length promised all
    // of it), as a dropped network would; the app asks again from the first chunk it has not opened.
    const big = Buffer.alloc(1_500_000);
    for (let i = 0, x = 0x9e3779b9; i < big.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      big[i] = x & 0xff;
    }
    await a.page.getByTestId('attach-input').setInputFiles([{ name: 'big.bin', mimeType: 'application/octet-stream', buffer: big }]);
    const tray = a.page.getByRole('list', { name: 'Files to send' });
    await expect(tray.locator('.upload-item.upload-ready')).toHaveCount(1, { timeout: 30_000 });
    await a.page.getByRole('button', { name: 'Send message' }).click();
    await expect(tray).toBeHidden();
    const card = b.page.locator('.msg.theirs').last();
    await expect(card.locator('.file-card-name')).toHaveText('big.bin', { timeout: 20_000 });

    const server = new URL(b.page.url()).origin;
    // The close waits 1 s after the bytes: Chromium fails a stream at once on a premature end, possibly before
    // the page has read what arrived, and this test is about what the page does with what it got.
    const proxy = await cuttingProxy(server, (k) => (k === 0 ? 300_000 : Infinity), 1_000);
    const ranges: Array<string | null> = [];
    await b.context.route(/\/api\/blobs\/[0-9a-f-]{36}$/, async (route) => {
      if (route.request().method() !== 'GET') return route.continue();
      ranges.push((await route.request().allHeaders())['range'] ?? null);
      const url = new URL(route.request().url());
      await route.continue({ url: `${proxy.url}${url.pathname}` });
    });
    try {
      const [download] = await Promise.all([b.page.waitForEvent('download', { timeout: 60_000 }), card.getByRole('button', { name: 'Download big.bin' }).click()]);
      expect(sha256(readFileSync(await download.path()))).toBe(sha256(big));
    } finally {
      await b.context.unrouteAll({ behavior: 'ignoreErrors' });
      await proxy.close();
    }
    // Two requests: the whole blob (cut), then the rest from a chunk boundary inside what the first delivered.
    expect(proxy.connections).toBe(2);
    expect(ranges.length).toBe(2);
    expect(ranges[0]).toBeNull();
    const from = Number(/^bytes=(\d+)-$/.exec(ranges[1] ?? '')?.[1]);
    expect(from % 65_576).toBe(0);
    expect(from).toBeGreaterThan(0);
    expect(from).toBeLessThanOrEqual(300_000);
    a.watch.expectClean();
    // Chromium logs the broken transfer as a failed resource load; nothing else may appear.
    expect(b.watch.errors.filter((e) => !/ERR_CONTENT_LENGTH_MISMATCH|ERR_INCOMPLETE|Failed to load resource/.test(e))).toEqual([]);
  });

  test('after opening attachments, the recipient keeps receiving messages live (no reload)', async () => {
    // Regression: the list stopped following new messages when the open-at-first-unread jump ran before the
    // message was rendered (follow went false while the list looked scrolled to the bottom).
    await composer(a.page).fill('live after attachments');
    await composer(a.page).press('Enter');
    await expect(b.page.locator('.msg.theirs').last()).toContainText('live after attachments', { timeout: 20_000 });
  });

  test('a file or a photo alone and a deleted message read as words in the list; the toast names the file', async () => {
    const preview = (p: Page, title: string) => row(p, title).locator('.conv-preview');
    // Bob goes back to the list: with no conversation open, a new message shows a toast.
    await b.page.evaluate(() => history.back());
    await expect(b.page.locator('.chat-title')).toBeHidden();

    await a.page.getByTestId('attach-input').setInputFiles([{ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('some notes') }]);
    const tray = a.page.getByRole('list', { name: 'Files to send' });
    await expect(tray.locator('.upload-item.upload-ready')).toHaveCount(1, { timeout: 20_000 });
    await a.page.getByRole('button', { name: 'Send message' }).click();
    await expect(tray).toBeHidden();
    await expect(b.page.locator('.toast', { hasText: `New message from ${a.name}: 📎 notes.txt` })).toBeVisible({ timeout: 20_000 });
    await expect(preview(b.page, a.name)).toHaveText('📎 notes.txt');
    await expect(preview(a.page, b.name)).toHaveText('You: 📎 notes.txt');

    await a.page.getByTestId('attach-input').setInputFiles([{ name: 'photo.png', mimeType: 'image/png', buffer: png }]);
    await expect(tray.locator('.upload-item.upload-ready')).toHaveCount(1, { timeout: 20_000 });
    await a.page.getByRole('button', { name: 'Send message' }).click();
    const mine = a.page.locator('.msg.mine').last();
    await expect(mine.getByRole('img', { name: 'photo.png' })).toBeVisible({ timeout: 20_000 });
    await expect(preview(a.page, b.name)).toHaveText('You: 🖼 Photo');
    await expect(preview(b.page, a.name)).toHaveText('🖼 Photo', { timeout: 20_000 });

    // Deleted for everyone: the newest message is gone, and the list says so instead of "You: ".
    await mine.hover();
    await mine.getByRole('button', { name: /Actions for message/ }).click();
    await mine.getByRole('button', { name: 'Delete', exact: true }).click();
    await mine.getByRole('button', { name: 'Delete for everyone' }).click();
    await expect(preview(a.page, b.name)).toHaveText('You deleted a message', { timeout: 15_000 });
    await expect(preview(b.page, a.name)).toHaveText('Message deleted', { timeout: 15_000 });
    a.watch.expectClean();
    // Bob's page still holds the broken transfer of the resume test; nothing else may appear.
    expect(b.watch.errors.filter((e) => !/ERR_CONTENT_LENGTH_MISMATCH|ERR_INCOMPLETE|Failed to load resource/.test(e))).toEqual([]);
  });

  test('cancelling a download is not an error: a quiet status, and the card offers Download again', async () => {
    await a.page.getByTestId('attach-input').setInputFiles([{ name: 'cancel-me.txt', mimeType: 'text/plain', buffer: Buffer.from('to be cancelled') }]);
    const tray = a.page.getByRole('list', { name: 'Files to send' });
    await expect(tray.locator('.upload-item.upload-ready')).toHaveCount(1, { timeout: 20_000 });
    await a.page.getByRole('button', { name: 'Send message' }).click();
    await expect(tray).toBeHidden();
    await row(b.page, a.name).click();
    const card = b.page.locator('.file-card').filter({ has: b.page.locator('.file-card-name', { hasText: exactly('cancel-me.txt') }) });
    await expect(card).toBeVisible({ timeout: 20_000 });

    // The blob request is held, so the download is still running when Cancel is clicked.
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    await b.context.route(/\/api\/blobs\/[0-9a-f-]{36}$/, async (route) => {
      if (route.request().method() !== 'GET') return route.continue();
      await held;
      await route.continue().catch(() => undefined); // the page aborted it
    });
    try {
      await card.getByRole('button', { name: 'Download cancel-me.txt' }).click();
      await card.getByRole('button', { name: 'Cancel download of cancel-me.txt' }).click();
      await expect(card.getByRole('button', { name: 'Download cancel-me.txt' })).toBeVisible();
      await expect(card.getByRole('status')).toHaveText('Download cancelled.');
      await expect(card.getByRole('alert')).toHaveCount(0);
      await expect(card).not.toHaveClass(/file-card-failed/);
      await expect(card.locator('progress')).toHaveCount(0);
    } finally {
      release();
      await b.context.unrouteAll({ behavior: 'ignoreErrors' });
    }
  });

  test('offline, an upload and a download say they wait for the connection, and finish once back', async () => {
    // Upload: staged while offline, it waits (the client core retries) and completes when the network is back.
    await a.context.setOffline(true);
    await a.page.getByTestId('attach-input').setInputFiles([{ name: 'offline.txt', mimeType: 'text/plain', buffer: Buffer.from('written offline') }]);
    const tray = a.page.getByRole('list', { name: 'Files to send' });
    await expect(tray.locator('.upload-item')).toContainText('Waiting for connection…');
    await a.context.setOffline(false);
    await expect(tray.locator('.upload-item')).not.toContainText('Waiting for connection…');
    await expect(tray.locator('.upload-item.upload-ready')).toHaveCount(1, { timeout: 30_000 });
    await a.page.getByRole('button', { name: 'Send message' }).click();
    await expect(tray).toBeHidden();

    // Download: bob (in the conversation since the last test) goes offline and clicks Download.
    const card = b.page.locator('.file-card').filter({ has: b.page.locator('.file-card-name', { hasText: exactly('offline.txt') }) });
    await expect(card).toBeVisible({ timeout: 20_000 });
    await b.context.setOffline(true);
    await card.getByRole('button', { name: 'Download offline.txt' }).click();
    await expect(card.getByRole('status')).toHaveText('Waiting for connection…');
    const [download] = await Promise.all([b.page.waitForEvent('download', { timeout: 30_000 }), b.context.setOffline(false)]);
    await expect(card.getByRole('status')).toHaveText('');
    expect(readFileSync(await download.path()).toString()).toBe('written offline');
    // Offline phases make the browser log failed requests and socket attempts; nothing else may appear.
    const unexpected = (w: User) => w.watch.errors.filter((e) => !/ERR_CONTENT_LENGTH_MISMATCH|ERR_INCOMPLETE|ERR_INTERNET_DISCONNECTED|WebSocket|Failed to load resource/.test(e));
    expect(unexpected(a)).toEqual([]);
    expect(unexpected(b)).toEqual([]);
  });

  test('on a phone-width screen, long file names keep their extension in view (the stem is cut)', async () => {
    const name = 'qa-fake-quarterly-report-with-a-rather-long-name-2024.pdf';
    /** Whether the extension is shown whole inside the name's box while the stem is cut with an ellipsis. */
    const layout = (el: Element) => {
      const ext = el.querySelector('.file-name-ext');
      const stem = el.querySelector('.file-name-stem');
      if (!ext || !stem) return { ext: '', extInside: false, stemCut: false };
      const e = ext.getBoundingClientRect();
      const n = el.getBoundingClientRect();
      return { ext: ext.textContent ?? '', extInside: e.width > 0 && e.left >= n.left && e.right <= n.right + 0.5, stemCut: stem.scrollWidth > stem.clientWidth };
    };
    await a.page.setViewportSize({ width: 390, height: 844 });
    try {
      await a.page.getByTestId('attach-input').setInputFiles([{ name, mimeType: 'application/pdf', buffer: pdf }]);
      const tray = a.page.getByRole('list', { name: 'Files to send' });
      const staged = tray.locator('.upload-name');
      await expect(staged).toHaveText(name); // the text is the whole name; only the display is cut
      await expect(staged).toHaveAttribute('title', name);
      // Polled: the tray lays out again as the upload starts (progress, status), so one early reading can catch it mid-way.
      await expect(staged).toBeVisible();
      await expect.poll(() => staged.evaluate(layout)).toEqual({ ext: '.pdf', extInside: true, stemCut: true });
      await expect(tray.locator('.upload-item.upload-ready')).toHaveCount(1, { timeout: 20_000 });
      await a.page.getByRole('button', { name: 'Send message' }).click();
      await expect(tray).toBeHidden();

      const sent = a.page.locator('.msg.mine').last().locator('.file-card-name');
      await expect(sent).toHaveText(name, { timeout: 20_000 });
      await expect(sent).toHaveAttribute('title', name);
      await expect(sent).toBeVisible();
      await expect.poll(() => sent.evaluate(layout)).toEqual({ ext: '.pdf', extInside: true, stemCut: true });
      await expect(a.page.locator('.msg.mine').last().getByRole('button', { name: `Download ${name}` })).toBeVisible();
    } finally {
      await a.page.setViewportSize({ width: 1280, height: 800 });
    }
  });
});
