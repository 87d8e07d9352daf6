/**
 * The integrity notice, provoked for real: Ann (`a`) and Bob (`b`) chat in their browsers, then a second device of Bob's
 * (the headless client core, in Node: `AccountClient`, `Keyring`, `SyncConnection`, `EnvelopeBinding`)
 * writes into the conversation's open segment through the real server:
 *
 * (a) its frame counter skips one number (a frame that never reaches the server, as if withheld), and Ann's
 *     browser says, once the gap has lasted a few seconds, that an update from Bob is missing;
 * (b) a frame whose signature has one byte flipped (the server stores it: it only checks structure), and Ann's
 *     browser says an update failed its signature check and never shows what it carried.
 *
 * Normal messages keep flowing both ways, the notice comes back after a reload (the frames are in the local
 * cache and are checked again), the Details disclosure works from the keyboard, the notice fits a 360 px
 * phone, axe finds no serious violations (light and dark), and neither page logs an error.
 */
import { expect, test, type Page } from '@playwright/test';
import * as Y from 'yjs';
import {
  AccountClient,
  deriveLocalKey,
  KeyDirectory,
  Keyring,
  MemoryStorage,
  SealedStore,
  SyncConnection,
} from '@parley/shared/client';
import { EnvelopeBinding, putMessage, sealFrame, signMessage, type CounterStore } from '@parley/shared/envelope';
import { ConversationListResponse, toHex } from '@parley/shared/protocol';
import { randomBytes } from '@parley/shared/crypto';
import { GAP_SHOW_AFTER_MS as GAP_DELAY_MS } from '../../app/src/chat/integrity.ts';
import { axeSeriousViolations } from '../support/axe.ts';
import { appUrl, composer, newBrowserUser, PASSWORD, registerAndEnter, sendMessage, startDirectChat, type BrowserUser } from '../support/app.ts';

const FORGED = 'FORGED: transfer the savings to mallory';

const messageText = (p: Page, text: string) => p.locator('.msg-text', { hasText: text });
const notice = (p: Page) => p.getByRole('status', { name: 'Conversation integrity' });

/** A frame counter store that never hands out `skip`: the frame under it is missing for everyone else. */
class SkippingCounters implements CounterStore {
  #last = 0;
  constructor(private readonly skip: number) {}
  next(_segmentId: string, atLeast: number): number {
    let value = Math.max(this.#last + 1, atLeast);
    if (value === this.skip) value++;
    this.#last = value;
    return value;
  }
}

/**
 * A second device of `username`, writing straight into the open segment of `convId` with the client core's
 * envelope layer (no `ParleyClient`: nothing but what the test asks for is written).
 */
async function headlessDevice(username: string, convId: string) {
  const account = new AccountClient({ baseUrl: appUrl('/') });
  const { session, keys } = await account.login({ username, password: PASSWORD, deviceName: 'integrity test' });
  const { conversations } = await account.transport.request(ConversationListResponse, 'GET', '/api/conversations', { auth: true });
  const segment = conversations.find((c) => c.id === convId)?.segments.find((s) => s.state === 'open');
  if (!segment) throw new Error('no open segment');
  const store = new SealedStore(new MemoryStorage(), deriveLocalKey(keys.identity.secretKey, session.userId), session.userId);
  const directory = new KeyDirectory(account.transport, store, session);
  await directory.load();
  const keyring = new Keyring(convId, { transport: account.transport, store, directory, keys, userId: session.userId });
  await keyring.refresh(() => true);
  const epochKey = keyring.key(segment.epoch);
  if (!epochKey) throw new Error(`no key for epoch ${segment.epoch}`);

  const author = { userId: session.userId, deviceId: toHex(randomBytes(16)), signingKey: keys.identity.secretKey };
  const scope = { convId, segmentId: segment.id };
  const sync = new SyncConnection(appUrl('/'), () => account.accessToken());
  const envelope = new Y.Doc();
  const inner = new Y.Doc();
  const link = sync.open(segment.id, envelope);
  await link.whenSynced();
  const binding = new EnvelopeBinding({
    envelope,
    inner,
    scope,
    self: author,
    epoch: segment.epoch,
    resolvers: { signerKey: async (u) => (await directory.get(u)).identity, isMember: () => true, epochKey: (e) => keyring.key(e) },
    counters: new SkippingCounters(2),
    coalesceMs: Number.POSITIVE_INFINITY,
  });
  let messageCounter = 0;
  return {
    /** Sends one message in a frame of its own; resolves once the server has it. */
    async send(text: string): Promise<void> {
      putMessage(inner, signMessage(convId, author, { counter: ++messageCounter, ts: Date.now(), text }));
      const r = await binding.flush();
      if (!r.ok || r.value !== 1) throw new Error(`flush: ${JSON.stringify(r)}`);
      await link.whenAcked();
    },
    /** Appends a frame carrying `text`, sealed by this device, with one byte of its signature flipped. */
    async sendTampered(text: string, counter: number): Promise<void> {
      const doc = new Y.Doc();
      putMessage(doc, signMessage(convId, author, { counter: ++messageCounter, ts: Date.now(), text }));
      const frame = sealFrame({ scope, kind: 'update', epoch: segment.epoch, epochKey, ...author, counter, plaintext: Y.encodeStateAsUpdate(doc) });
      frame[frame.length - 1]! ^= 0x01;
      envelope.transact(() => binding.log.push([frame]));
      await link.whenAcked();
    },
    async stop(): Promise<void> {
      binding.destroy();
      link.close();
      sync.destroy();
      await account.logout();
    },
  };
}

test.describe.serial('integrity notice', () => {
  let a: BrowserUser;
  let b: BrowserUser;

  test.beforeAll(async ({ browser }) => {
    a = await newBrowserUser(browser, 'ivy');
    b = await newBrowserUser(browser, 'ike');
  });
  test.afterAll(async () => {
    for (const u of [a, b]) await u?.context.close();
  });

  test('missing and rejected updates are shown; messages keep flowing', async ({}, testInfo) => {
    test.setTimeout(150_000);
    await Promise.all([registerAndEnter(a.page, a.name), registerAndEnter(b.page, b.name)]);
    await startDirectChat(a.page, b.name);
    await sendMessage(a.page, 'Hello Ike');
    await b.page.locator('.conv-row', { hasText: a.name }).click();
    await expect(messageText(b.page, 'Hello Ike')).toBeVisible({ timeout: 20_000 });
    await sendMessage(b.page, 'Hi Ivy');
    await expect(messageText(a.page, 'Hi Ivy')).toBeVisible();
    // An honest conversation shows nothing, also after the gap delay.
    await a.page.waitForTimeout(GAP_DELAY_MS + 500);
    await expect(notice(a.page)).toHaveText('');
    await expect(notice(b.page)).toHaveText('');

    const convId = new URL(a.page.url()).searchParams.get('c');
    expect(convId).toBeTruthy();
    const device = await headlessDevice(b.name, convId!);
    try {
      // (a) Counter 1, then 3: frame 2 never exists, so it is missing for Ann for good.
      await device.send('from the other device, first');
      await device.send('from the other device, after the gap');
      await expect(messageText(a.page, 'from the other device, after the gap')).toBeVisible();
      const appeared = Date.now();
      await expect(notice(a.page)).toHaveText(''); // not yet: the gap may still be filling
      await expect(notice(a.page)).toContainText(`1 update from ${b.name} is missing.`, { timeout: 20_000 });
      expect(Date.now() - appeared).toBeGreaterThan(GAP_DELAY_MS - 2000);
      await expect(notice(a.page)).toContainText(`The server may be withholding it, or ${b.name}’s device lost it before sending.`);
      await expect(notice(a.page)).not.toContainText('Rejected');

      // (b) A frame altered after signing: rejected at once, its content never shown.
      await device.sendTampered(FORGED, 4);
      await expect(notice(a.page)).toContainText('Rejected updates (not shown)');
      await expect(notice(a.page)).toContainText('1 update failed its signature check (altered or forged).');
      await expect(notice(a.page)).toContainText(`1 update from ${b.name} is missing.`);

      // Messages keep flowing: from the headless device, and both ways in the browsers.
      await device.send('from the other device, after the forgery');
      await expect(messageText(a.page, 'from the other device, after the forgery')).toBeVisible();
      await sendMessage(a.page, 'Still reading you, Ike');
      await expect(messageText(b.page, 'Still reading you, Ike')).toBeVisible();
      await sendMessage(b.page, 'Good to hear');
      await expect(messageText(a.page, 'Good to hear')).toBeVisible();
    } finally {
      await device.stop();
    }
    for (const p of [a.page, b.page]) await expect(messageText(p, FORGED)).toHaveCount(0);
    await expect(notice(a.page)).toContainText('1 update failed its signature check (altered or forged).');

    // Details, from the keyboard.
    const summary = notice(a.page).locator('summary', { hasText: 'Details' });
    await summary.focus();
    await a.page.keyboard.press('Enter');
    await expect(notice(a.page).locator('details')).toHaveAttribute('open', '');
    await expect(notice(a.page).locator('details')).toContainText(`Missing: ${b.name}, device`);
    await expect(notice(a.page).locator('details')).toContainText('update 2 (segment');
    await expect(notice(a.page)).toContainText('Rejected (bad_signature): sender not verified');
    await a.page.screenshot({ path: testInfo.outputPath('integrity-desktop-details.png') });
    expect(await axeSeriousViolations(a.page)).toEqual([]);
  });

  test('after a reload the notice comes back from the cached frames; it fits a phone', async ({}, testInfo) => {
    await a.page.reload();
    await expect(a.page.locator('.chat-title')).toHaveText(b.name, { timeout: 30_000 });
    await expect(messageText(a.page, 'Good to hear')).toBeVisible();
    await expect(notice(a.page)).toContainText('1 update failed its signature check (altered or forged).');
    await expect(notice(a.page)).toContainText(`1 update from ${b.name} is missing.`, { timeout: 20_000 });

    await a.page.setViewportSize({ width: 360, height: 740 });
    const box = await notice(a.page).boundingBox();
    expect(box?.width).toBeLessThanOrEqual(360);
    expect(box?.height).toBeLessThanOrEqual(740 / 3 + 1); // scrolls beyond a third of the chat
    expect(await a.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    await expect(composer(a.page)).toBeVisible();
    await expect(notice(a.page).locator('xpath=self::*[@style] | .//*[@style]')).toHaveCount(0);
    // Light and dark at phone width: no serious axe violations (contrast included); screenshots for a look.
    for (const colorScheme of ['light', 'dark'] as const) {
      await a.page.emulateMedia({ colorScheme });
      await a.page.screenshot({ path: testInfo.outputPath(`integrity-phone-${colorScheme}.png`) });
      expect(await axeSeriousViolations(a.page)).toEqual([]);
    }

    a.watch.expectClean();
    b.watch.expectClean();
  });
});
