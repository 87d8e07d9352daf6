/**
 * EncryptedDoc's local persistence: appended pieces, rewritten as one full state once they outweigh it, read
 * back by `load` into the same envelope.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { equalBytes, randomBytes } from '../src/crypto/index.ts';
import { MemoryCounterStore, putMessage, signMessage } from '../src/envelope/index.ts';
import { EncryptedDoc, MemoryStorage, REMOTE_SAVE_DEFER_BYTES, REMOTE_SAVE_DELAY_MS, SealedStore, deriveLocalKey } from '../src/client/index.ts';
import { EPOCH, SCOPE, World, makeUser, newDeviceId } from './envelope/helpers.ts';

/** Load options of one device of `user` with its own sealed store (frames sealed only on `flush()`). */
function deviceOptions(world: World, user: ReturnType<typeof makeUser>, saveDelayMs: number) {
  const store = new SealedStore(new MemoryStorage(), deriveLocalKey(randomBytes(32), user.userId), user.userId);
  const self = { userId: user.userId, deviceId: newDeviceId(), signingKey: user.secretKey };
  const options = {
    name: SCOPE.segmentId,
    convId: SCOPE.convId,
    self,
    epoch: () => EPOCH,
    resolvers: world.resolvers(),
    counters: new MemoryCounterStore(),
    store,
    coalesceMs: Number.POSITIVE_INFINITY,
    saveDelayMs,
  };
  return { options, store, self };
}

describe('EncryptedDoc persistence', () => {
  it('keeps the number of stored pieces bounded as the state grows, and a reload holds every frame', async () => {
    const user = makeUser();
    const world = new World([user]);
    const { options, store, self } = deviceOptions(world, user, Number.POSITIVE_INFINITY);
    const doc = await EncryptedDoc.load(options);
    const pieces = async () => (await store.list(`envlog/${SCOPE.segmentId}/`)).length;
    let maxPieces = 0;
    let fullWrites = 0;
    let fullBefore: Uint8Array | undefined;
    // ~600 KiB of frames (one per save, as a busy conversation saving every 50 ms), past the 256 KiB rule.
    const text = 'x'.repeat(900);
    for (let i = 1; i <= 700; i++) {
      putMessage(doc.inner, signMessage(SCOPE.convId, self, { counter: i, ts: 1_700_000_000_000 + i, text: `${i} ${text}` }));
      expect((await doc.binding.flush()).ok).toBe(true);
      await doc.save();
      maxPieces = Math.max(maxPieces, await pieces());
      const full = await store.get(`env/${SCOPE.segmentId}`);
      if (full && (!fullBefore || !equalBytes(full, fullBefore))) {
        fullWrites++;
        fullBefore = full;
      }
    }
    expect(maxPieces).toBeLessThanOrEqual(256);
    // Rewrites scale with the state: far fewer than one per 64 saves (which was 10 here).
    expect(fullWrites).toBeGreaterThan(0);
    expect(fullWrites).toBeLessThan(8);
    const frames = doc.binding.log.toArray();
    doc.destroy();
    const again = await EncryptedDoc.load({ ...options, counters: new MemoryCounterStore() });
    expect(again.binding.log.length).toBe(frames.length);
    expect(Y.encodeStateVector(again.envelope)).toEqual(Y.encodeStateVector(doc.envelope));
    again.destroy();
  });
});

describe('EncryptedDoc automatic saves', () => {
  it("saves this device's frames and small changes from the server after saveDelayMs, a large change from the server after REMOTE_SAVE_DELAY_MS", async () => {
    const [alice, bob] = [makeUser(), makeUser()];
    const world = new World([alice, bob]);
    const open = async (user: typeof alice) => {
      const { options, store, self } = deviceOptions(world, user, 20);
      return { doc: await EncryptedDoc.load(options), store, self };
    };
    const a = await open(alice);
    const b = await open(bob);
    const saves = async () => (await a.store.list(`envlog/${SCOPE.segmentId}/`)).length + ((await a.store.get(`env/${SCOPE.segmentId}`)) ? 1 : 0);
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    let bobCounter = 0;
    /** Bob writes `texts`; his new frames reach Alice's envelope as a provider applies them (any origin but the binding's). */
    const fromBob = async (texts: string[]) => {
      const before = Y.encodeStateVector(a.doc.envelope);
      for (const text of texts) {
        putMessage(b.doc.inner, signMessage(SCOPE.convId, b.self, { counter: ++bobCounter, ts: bobCounter, text }));
        await b.doc.binding.flush();
      }
      const update = Y.encodeStateAsUpdate(b.doc.envelope, before);
      Y.applyUpdate(a.doc.envelope, update, 'provider');
      await a.doc.binding.whenIdle();
      return update.length;
    };

    // A catch-up of ~100 KiB (one update) waits.
    expect(await fromBob(Array.from({ length: 10 }, (_, i) => `${i} ${'x'.repeat(10_000)}`))).toBeGreaterThanOrEqual(REMOTE_SAVE_DEFER_BYTES);
    await sleep(400);
    expect(await saves()).toBe(0);
    expect(a.doc.unsaved).toBe(true);

    // Alice's own frame saves soon, with the pending catch-up.
    putMessage(a.doc.inner, signMessage(SCOPE.convId, a.self, { counter: 1, ts: 100, text: 'from alice' }));
    await a.doc.binding.flush();
    await sleep(300);
    expect(await saves()).toBe(1);
    expect(a.doc.unsaved).toBe(false);

    // A message arriving live saves soon as well.
    expect(await fromBob(['live'])).toBeLessThan(REMOTE_SAVE_DEFER_BYTES);
    await sleep(300);
    expect(await saves()).toBe(2);

    // Another catch-up is saved once REMOTE_SAVE_DELAY_MS has passed.
    await fromBob(Array.from({ length: 10 }, (_, i) => `again ${i} ${'y'.repeat(10_000)}`));
    await sleep(400);
    expect(a.doc.unsaved).toBe(true);
    await sleep(REMOTE_SAVE_DELAY_MS);
    expect(a.doc.unsaved).toBe(false);
    expect(await saves()).toBe(3);

    const reloaded = await EncryptedDoc.load({ ...a.doc.options, counters: new MemoryCounterStore() });
    expect(reloaded.binding.log.length).toBe(22);
    for (const d of [a.doc, b.doc, reloaded]) await d.destroy();
  });
});
