/**
 * EncryptedDoc's local persistence: appended pieces, rewritten as one full state once they outweigh it, read
 * back by `load` into the same envelope.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { equalBytes, randomBytes } from '../src/crypto/index.ts';
import { MemoryCounterStore, putMessage, signMessage } from '../src/envelope/index.ts';
import { EncryptedDoc, MemoryStorage, SealedStore, deriveLocalKey } from '../src/client/index.ts';
import { EPOCH, SCOPE, World, makeUser, newDeviceId } from './envelope/helpers.ts';

describe('EncryptedDoc persistence', () => {
  it('keeps the number of stored pieces bounded as the state grows, and a reload holds every frame', async () => {
    const user = makeUser();
    const world = new World([user]);
    const storage = new MemoryStorage();
    const store = new SealedStore(storage, deriveLocalKey(randomBytes(32), user.userId), user.userId);
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
      saveDelayMs: Number.POSITIVE_INFINITY,
    };
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
