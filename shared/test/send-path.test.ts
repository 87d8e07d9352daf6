/**
 * The pure parts of the send path: async (native) inner signatures equal the sync ones byte for byte, message
 * counters reserved in blocks never repeat across crashes (frame counters stay gapless), and the client-side
 * flush budget. The send path against a real server is in sync-server/test/integration/outbox.test.ts; the
 * storage `list` contract (per-entry outbox records rely on it) in sync-server/test/client-storage.test.ts.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { generateSigningKeyPair, randomBytes, setNativeSignatures } from '../src/crypto/index.ts';
import { sealFrame, sealFrameAsync, signMessage, signMessageAsync, signOp, signOpAsync, type Attachment, type OpBody } from '../src/envelope/index.ts';
import { MemoryStorage, SealedStore, StoredCounters, deriveLocalKey, type ClientStorage } from '../src/client/index.ts';
import { FlushBudget } from '../src/client/flush-budget.ts';
import { CrashableStorage } from './helpers/crashable-storage.ts';

const CONV = '0b7c6c52-8a3e-4a4c-9f55-2f1d1c7f3a10';

function author() {
  const k = generateSigningKeyPair();
  return { userId: crypto.randomUUID(), deviceId: 'ab'.repeat(16), signingKey: k.secretKey };
}

const attachment: Attachment = {
  file: { v: 1, blobId: crypto.randomUUID(), key: 'k'.repeat(43), name: 'cat.png', type: 'image/png', size: 1234, sha256: 'A'.repeat(43) },
  width: 640,
  height: 480,
};

describe('async inner signatures', () => {
  afterAll(() => setNativeSignatures(undefined));

  for (const native of [true, false]) {
    it(`signMessageAsync / signOpAsync give the same entries as signMessage / signOp (${native ? 'WebCrypto' : 'noble fallback'})`, async () => {
      setNativeSignatures(native);
      const a = author();
      const messages = [
        { counter: 1, ts: 1_700_000_000_000, text: 'hello' },
        { counter: 2, ts: 1_700_000_000_001, text: '', replyTo: `${a.deviceId}:1` },
        { counter: 3, ts: 1_700_000_000_002, text: 'with a file ✓', attachments: [attachment] },
        { counter: 4, ts: 1_700_000_000_003, text: 'empty list signs like none', attachments: [] },
      ];
      for (const fields of messages) {
        const sync = signMessage(CONV, a, fields);
        expect(await signMessageAsync(CONV, a, fields)).toEqual(sync);
      }
      const ops: OpBody[] = [{ type: 'edit', text: 'fixed' }, { type: 'delete' }, { type: 'react', emoji: '👍', on: true }, { type: 'read' }];
      for (const [i, op] of ops.entries()) {
        const fields = { counter: 10 + i, ts: 1_700_000_000_100 + i, target: `${a.deviceId}:1`, op };
        expect(await signOpAsync(CONV, a, fields)).toEqual(signOp(CONV, a, fields));
      }
      // Different keys or conversations still give different signatures (the comparison above is not vacuous).
      const f = messages[0]!;
      expect((await signMessageAsync(CONV, author(), f)).sig).not.toBe(signMessage(CONV, a, f).sig);
      expect((await signMessageAsync(crypto.randomUUID(), a, f)).sig).not.toBe(signMessage(CONV, a, f).sig);
    });
  }

  for (const native of [true, false]) {
    it(`sealFrameAsync gives the same frame bytes as sealFrame (${native ? 'WebCrypto' : 'noble fallback'})`, async () => {
      setNativeSignatures(native);
      const a = author();
      const input = {
        scope: { convId: CONV, segmentId: 's'.repeat(20) },
        kind: 'update' as const,
        epoch: 3,
        epochKey: randomBytes(32),
        userId: a.userId,
        deviceId: a.deviceId,
        counter: 7,
        signingKey: a.signingKey,
        plaintext: randomBytes(300),
        nonce: randomBytes(24),
      };
      const sync = sealFrame(input);
      expect(await sealFrameAsync(input)).toEqual(sync);
      expect(await sealFrameAsync({ ...input, counter: 8 })).not.toEqual(sync);
    });
  }

  it('rejects invalid local input like the sync variant', async () => {
    const a = author();
    const fields = { counter: 1, ts: 1, text: 'x'.repeat(16_001) };
    expect(() => signMessage(CONV, a, fields)).toThrow(TypeError);
    await expect(signMessageAsync(CONV, a, fields)).rejects.toThrow(TypeError);
    await expect(signOpAsync(CONV, a, { counter: 1, ts: 1, target: 'not an id', op: { type: 'read' } })).rejects.toThrow(TypeError);
  });
});


describe('StoredCounters', () => {
  const user = crypto.randomUUID();
  const key = deriveLocalKey(randomBytes(32), user);

  it('message counters reserved in blocks never repeat across crashes, and write once per block', async () => {
    const disk = new MemoryStorage();
    const handed: number[] = [];
    let writes = 0;
    for (let round = 0; round < 12; round++) {
      const storage = new CrashableStorage(disk);
      const counting = { ...storage, get: (k: string) => storage.get(k), list: (p: string) => storage.list(p), delete: (k: string) => storage.delete(k), set: (k: string, v: Uint8Array) => (writes++, storage.set(k, v)) };
      const counters = new StoredCounters(new SealedStore(counting, key, user), 'mctr/', 64);
      const n = 1 + ((round * 37) % 150);
      // Some awaited one by one, some concurrently (a burst of sends that do not await each other).
      for (let i = 0; i < n / 2; i++) handed.push(await counters.next('msg/c', 1));
      handed.push(...(await Promise.all(Array.from({ length: Math.ceil(n / 2) }, () => counters.next('msg/c', 1)))));
      const pending = counters.next('msg/c', 1); // asked for, not yet answered when the process dies
      storage.crash();
      await pending;
    }
    expect(new Set(handed).size).toBe(handed.length);
    for (let i = 1; i < handed.length; i++) expect(handed[i]!).toBeGreaterThan(handed[i - 1]!);
    // One write per 64 counters (plus one per restart), not one per counter.
    expect(writes).toBeLessThan(handed.length / 8);
  });

  it('frame counters (no reserve) stay gapless across restarts: a gap would read as a withheld frame', async () => {
    const disk = new MemoryStorage();
    const handed: number[] = [];
    for (let round = 0; round < 5; round++) {
      const counters = new StoredCounters(new SealedStore(disk, key, user), 'ctr/');
      for (let i = 0; i < 7; i++) handed.push(await counters.next('seg', 1));
    }
    expect(handed).toEqual(Array.from({ length: 35 }, (_, i) => i + 1));
  });

  it('honours atLeast inside a reserved block and refuses a bad reserve', async () => {
    const counters = new StoredCounters(new SealedStore(new MemoryStorage(), key, user), 'mctr/', 64);
    expect(await counters.next('x', 1)).toBe(1);
    expect(await counters.next('x', 10)).toBe(10);
    expect(await counters.next('x', 1)).toBe(11);
    expect(await counters.next('x', 500)).toBe(500);
    expect(() => new StoredCounters(new SealedStore(new MemoryStorage(), key, user), 'm/', 0)).toThrow(RangeError);
  });
});

describe('FlushBudget', () => {
  it('lets a burst through, then spaces flushes at the refill rate; debt is paid back', () => {
    let t = 1000;
    const b = new FlushBudget(3, 10, () => t);
    for (let i = 0; i < 3; i++) {
      expect(b.delay()).toBe(0);
      b.take();
    }
    expect(b.delay()).toBe(100);
    t += 100;
    expect(b.delay()).toBe(0);
    b.take(4); // one flush that sealed four frames
    expect(b.delay()).toBe(400);
    t += 10_000;
    expect(b.tokens).toBe(3); // never above capacity
  });
});
