/**
 * [COMPACT-3] [INNER-8] Snapshot payload version 2: the compactor vouches for the entries naming itself that it
 * knows are authentic, and excludes the rest. What a fresh reader may skip, what it must still verify, and
 * that nobody but the compactor can make (or widen) the assertion. Real keys, real frames, real bindings; the
 * reader counts its own signature checks (the `verified` counter of `Reader`, as in vouched.test.ts).
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import fixtureJson from '../fixtures/snapshot-v1.json' with { type: 'json' };
import {
  decodeSnapshotPayload,
  encodeSnapshotPayload,
  EnvelopeBinding,
  innerRoots,
  MemoryCounterStore,
  sealFrame,
  verifyAndOpenFrame,
  type SnapshotPayload,
} from '../../src/envelope/index.ts';
import { parseFrame, toHex, utf8 } from '../../src/protocol/index.ts';
import { EPOCH, forged, frameFixture, frames, launderedSnapshot, makeUser, Peer, Reader, SCOPE, syncPeers, World, type TestUser } from './helpers.ts';

/** A fresh device of `user` whose envelope holds exactly `log` (e.g. only a snapshot). */
function readerOf(world: World, user: TestUser, log: Uint8Array[]): Reader {
  const doc = new Y.Doc();
  doc.getArray<Uint8Array>('log').push(log);
  return new Reader(new Peer(world, user, { envelope: Y.encodeStateAsUpdate(doc) }), world);
}

/** The last frame of a peer's log (the snapshot right after a compaction). */
const lastFrame = (p: Peer) => frames(p).at(-1)!;

async function openSnapshot(frame: Uint8Array, world: World): Promise<SnapshotPayload> {
  const r = await verifyAndOpenFrame(frame, SCOPE, world.resolvers());
  if (!r.ok || !r.value.snapshot) throw new Error(`expected a snapshot, got ${JSON.stringify(r)}`);
  return r.value.snapshot;
}

describe('[COMPACT-3] [INNER-8] version-2 snapshots vouch for the compactor\'s own entries', () => {
  const [alice, bob, carol] = [makeUser(), makeUser(), makeUser()];
  const world = new World([alice, bob, carol]);

  it('[COMPACT-3] [INNER-8] a v2 snapshot by U vouches for U\'s genuine entries: a fresh reader checks no entry signature', async () => {
    const a = new Peer(world, alice);
    a.send('one', 1);
    const m2 = a.send('two', 2);
    a.op(m2, { type: 'edit', text: 'two!' }, 3);
    await a.settle();
    a.send('three', 4);
    await a.settle();
    expect((await a.binding.compact({ minFrames: 1 })).ok).toBe(true);
    const snapshot = lastFrame(a);
    const payload = await openSnapshot(snapshot, world);
    expect(payload.vouch?.excluded.size).toBe(0);
    const r = readerOf(world, carol, [snapshot]);
    expect(await r.texts()).toEqual(['one', 'two!', 'three']);
    expect(r.verified).toBe(0);
    expect(r.vouched.size).toBe(0); // every statement was used
  });

  it('[COMPACT-3] a v2 snapshot vouches only for its signer: another member\'s entries in it are verified one by one', async () => {
    const a = new Peer(world, alice);
    const b = new Peer(world, bob);
    a.send('from alice', 1);
    b.send('from bob', 2);
    await syncPeers(a, b);
    expect((await b.binding.compact({ minFrames: 1 })).ok).toBe(true);
    const r = readerOf(world, carol, [lastFrame(b)]);
    expect(await r.texts()).toEqual(['from alice', 'from bob']);
    expect(r.verified).toBe(1); // alice's message; bob's is vouched by bob's snapshot
  });

  it('[COMPACT-3] [INNER-8] negative: V\'s forgery naming U, laundered through U\'s v2 snapshot, is excluded and dropped', async () => {
    // bob plants a forged "alice" message in his own update frame; alice's device applies it like any content
    const { a, fake } = await launderedSnapshot(world, alice, bob, 70, 'laundered through alice');
    const snapshot = lastFrame(a);
    expect([...(await openSnapshot(snapshot, world)).vouch!.excluded]).toEqual([fake.sig]);
    const r = readerOf(world, carol, [snapshot]);
    expect(await r.texts()).toEqual(['real']);
    expect(r.ids()).not.toContain(fake.id);
    expect(r.verified).toBe(1); // only the excluded forgery was checked (and failed); alice's own entry was vouched
  });

  it('[COMPACT-3] negative: a forgery naming U that reached U only inside V\'s snapshot is excluded too', async () => {
    const a = new Peer(world, alice);
    const b = new Peer(world, bob);
    a.send('real', 1);
    await syncPeers(a, b);
    const fake = forged(alice, a.deviceId, 80, 'via bob\'s snapshot', bob.secretKey);
    innerRoots(b.inner).messages.set(fake.id, fake);
    await b.settle();
    expect((await b.binding.compact({ minFrames: 1 })).ok).toBe(true); // bob's frame with the forgery is gone
    await syncPeers(a, b);
    expect(innerRoots(a.inner).messages.has(fake.id)).toBe(true);
    a.send('later', 2);
    await a.settle();
    expect((await a.binding.compact({ minFrames: 1 })).ok).toBe(true);
    const snapshot = lastFrame(a);
    expect([...(await openSnapshot(snapshot, world)).vouch!.excluded]).toEqual([fake.sig]);
    const r = readerOf(world, carol, [snapshot]);
    expect(await r.texts()).toEqual(['real', 'later']);
    expect(r.ids()).not.toContain(fake.id);
  });

  it('[COMPACT-3] U\'s genuine entries that reached U only through V\'s snapshot are verified once by U\'s compactor, then vouched', async () => {
    const a = new Peer(world, alice);
    const b = new Peer(world, bob);
    a.send('old', 1);
    await syncPeers(a, b);
    expect((await b.binding.compact({ minFrames: 1 })).ok).toBe(true);
    // a second device of alice starts from bob's snapshot only: alice's message reaches it without alice's frame
    const a2 = new Peer(world, alice, { envelope: Y.encodeStateAsUpdate((() => {
      const d = new Y.Doc();
      d.getArray<Uint8Array>('log').push([lastFrame(b)]);
      return d;
    })()) });
    await a2.binding.whenIdle();
    a2.send('new', 2);
    await a2.settle();
    expect((await a2.binding.compact({ minFrames: 1 })).ok).toBe(true);
    expect((await openSnapshot(lastFrame(a2), world)).vouch?.excluded.size).toBe(0);
    const r = readerOf(world, carol, [lastFrame(a2)]);
    expect(await r.texts()).toEqual(['old', 'new']);
    expect(r.verified).toBe(0);
  });

  it('[COMPACT-3] [INNER-8] a v1 snapshot (no assertion) never vouches: every entry is verified on its own', async () => {
    const a = new Peer(world, alice);
    a.send('one', 1);
    a.send('two', 2);
    await a.settle();
    expect((await a.binding.compact({ minFrames: 1 })).ok).toBe(true);
    const v2 = await openSnapshot(lastFrame(a), world);
    // the same content, sealed by alice herself as payload version 1 (what older clients write)
    const v1 = sealFrame({
      scope: SCOPE,
      kind: 'snapshot',
      epoch: EPOCH,
      epochKey: world.keys.get(EPOCH)!,
      userId: alice.userId,
      deviceId: a.deviceId,
      counter: 99,
      signingKey: alice.secretKey,
      plaintext: encodeSnapshotPayload({ update: v2.update, coverage: v2.coverage, owners: v2.owners }),
    });
    expect((await openSnapshot(v1, world)).vouch).toBeUndefined();
    const events: string[] = [];
    const r = readerOf(world, carol, [v1]);
    r.peer.binding.on((e) => events.push(e.type));
    expect(await r.texts()).toEqual(['one', 'two']);
    expect(r.verified).toBe(2);
    expect(events).not.toContain('vouched');
  });

  it('[COMPACT-3] negative: nobody but U can assert for U: a tampered or re-sealed payload fails the signature or vouches for nothing of U\'s', async () => {
    const { a, fake } = await launderedSnapshot(world, alice, bob, 90, 'bob wants this vouched');
    const snapshot = lastFrame(a);
    const payload = await openSnapshot(snapshot, world);
    expect(payload.vouch!.excluded.has(fake.sig)).toBe(true);
    const header = parseFrame(snapshot);
    if (!header.ok) throw new Error('unparsable');
    const h = header.value.header;
    // bob (a member: he holds the key) drops the exclusion and re-seals alice's payload...
    const widened = encodeSnapshotPayload({ ...payload, vouch: { excluded: new Set() } });
    const base = { scope: SCOPE, kind: 'snapshot' as const, epoch: h.epoch, epochKey: world.keys.get(EPOCH)!, deviceId: h.deviceId, counter: h.counter, plaintext: widened };
    // ...under alice's name with his own key: the frame signature fails
    const asAlice = sealFrame({ ...base, userId: alice.userId, signingKey: bob.secretKey });
    expect(await verifyAndOpenFrame(asAlice, SCOPE, world.resolvers())).toEqual({ ok: false, code: 'bad_signature' });
    // ...under his own name: valid, but it vouches only for entries naming bob, so the forgery is still checked
    const asBob = sealFrame({ ...base, userId: bob.userId, signingKey: bob.secretKey });
    const r = readerOf(world, carol, [asBob]);
    expect(await r.texts()).toEqual(['real']);
    expect(r.ids()).not.toContain(fake.id);
    expect(r.verified).toBe(2);
    // a v1 payload of alice's cannot become v2 either: changing any ciphertext byte (the version byte included)
    // breaks alice's signature, and the server holds no key to re-encrypt
    for (const at of [70, 71, snapshot.length - 80]) {
      const t = snapshot.slice();
      t[at]! ^= 1;
      expect(await verifyAndOpenFrame(t, SCOPE, world.resolvers())).toEqual({ ok: false, code: 'bad_signature' });
    }
  });

  it('[COMPACT-3] payload version 2 decodes strictly: round trip, sorted unique non-empty UTF-8 exclusions, truncation', () => {
    const doc = new Y.Doc();
    doc.getMap('m').set('k', 1);
    const update = Y.encodeStateAsUpdate(doc);
    const coverage = new Map([[`${alice.userId}:${'ab'.repeat(16)}`, 3]]);
    const owners = new Map([[doc.clientID, alice.userId]]);
    const vouch = { excluded: new Set(['zz', 'a', 'ééé']) };
    const bytes = encodeSnapshotPayload({ update, coverage, owners, vouch });
    expect(bytes[0]).toBe(2);
    const back = decodeSnapshotPayload(bytes)!;
    expect(back.update).toEqual(update);
    expect([...back.vouch!.excluded].sort()).toEqual(['a', 'zz', 'ééé'].sort());
    expect(encodeSnapshotPayload({ update, coverage, owners })[0]).toBe(1);
    expect(decodeSnapshotPayload(encodeSnapshotPayload({ update, coverage, owners }))!.vouch).toBeUndefined();
    // where the exclusion table starts: after version, coverage and owner tables
    const at = 1 + 4 + 40 + 4 + 20;
    const table = (entries: Uint8Array[]) => {
      const head = new Uint8Array(4 + entries.reduce((n, e) => n + 1 + e.length, 0));
      new DataView(head.buffer).setUint32(0, entries.length, false);
      let o = 4;
      for (const e of entries) {
        head[o] = e.length;
        head.set(e, o + 1);
        o += 1 + e.length;
      }
      const out = new Uint8Array(at + head.length + update.length);
      out.set(bytes.subarray(0, at));
      out.set(head, at);
      out.set(update, at + head.length);
      return out;
    };
    expect(decodeSnapshotPayload(table([utf8('a'), utf8('b')]))?.vouch?.excluded.size).toBe(2);
    expect(decodeSnapshotPayload(table([utf8('b'), utf8('a')]))).toBeUndefined(); // unsorted
    expect(decodeSnapshotPayload(table([utf8('a'), utf8('a')]))).toBeUndefined(); // duplicate
    expect(decodeSnapshotPayload(table([new Uint8Array(0)]))).toBeUndefined(); // empty
    expect(decodeSnapshotPayload(table([new Uint8Array([0xff, 0xfe])]))).toBeUndefined(); // not UTF-8
    expect(decodeSnapshotPayload(bytes.subarray(0, at + 2))).toBeUndefined(); // truncated count
    const unknown = bytes.slice();
    unknown[0] = 3;
    expect(decodeSnapshotPayload(unknown)).toBeUndefined();
    // exclusions a reader could not receive intact are refused at encoding (the compactor then writes v1)
    expect(() => encodeSnapshotPayload({ update, coverage, owners, vouch: { excluded: new Set(['x'.repeat(256)]) } })).toThrow(TypeError);
    expect(() => encodeSnapshotPayload({ update, coverage, owners, vouch: { excluded: new Set(['\ud800']) } })).toThrow(TypeError);
  });
});

const fx = frameFixture('snapshot').parse(fixtureJson);

describe('frozen fixture snapshot-v1.json', () => {
  it('[FRAME-9] [COMPACT-3] a v1 snapshot frame still opens, decodes without an assertion and re-seals to the same bytes', async () => {
    const scope = { convId: fx.convId, segmentId: fx.segmentId };
    const r = await verifyAndOpenFrame(fx.frame, scope, {
      signerKey: (u) => (u === fx.userId ? fx.signingPublicKey : undefined),
      isMember: (u, e) => u === fx.userId && e === fx.epoch,
      epochKey: (e) => (e === fx.epoch ? fx.epochKey : undefined),
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const snap = r.value.snapshot!;
    expect(snap.vouch).toBeUndefined();
    expect(snap.coverage.get(`${fx.userId}:${fx.deviceId}`)).toBe(41);
    expect(toHex(encodeSnapshotPayload(snap))).toBe(toHex(fx.plaintext));
    const doc = new Y.Doc();
    Y.applyUpdate(doc, snap.update);
    expect((innerRoots(doc).messages.toJSON() as Record<string, { text: string }>)[`${fx.deviceId}:1`]?.text).toBe('frozen v1 snapshot');
    const again = sealFrame({ scope, kind: 'snapshot', epoch: fx.epoch, epochKey: fx.epochKey, userId: fx.userId, deviceId: fx.deviceId, counter: fx.counter, signingKey: fx.signingSeed, nonce: fx.nonce, plaintext: fx.plaintext });
    expect(toHex(again)).toBe(toHex(fx.frame));
  });

  it('[INNER-8] [COMPACT-3] a binding reading the v1 fixture emits no vouch: its entry is verified on its own', async () => {
    const user = { userId: fx.userId, publicKey: fx.signingPublicKey, secretKey: fx.signingSeed };
    const reader = makeUser();
    const w = new World([user, reader], fx.epoch, fx.epochKey);
    const envelope = new Y.Doc();
    envelope.getArray<Uint8Array>('log').push([fx.frame]);
    const inner = new Y.Doc();
    const binding = new EnvelopeBinding({
      envelope,
      inner,
      scope: { convId: fx.convId, segmentId: fx.segmentId },
      self: { userId: reader.userId, deviceId: 'cd'.repeat(16), signingKey: reader.secretKey },
      epoch: fx.epoch,
      resolvers: w.resolvers(),
      counters: new MemoryCounterStore(),
      coalesceMs: Infinity,
    });
    const events: string[] = [];
    binding.on((e) => events.push(e.type));
    await binding.whenIdle();
    expect(events).toContain('applied');
    expect(events).not.toContain('vouched');
    expect(binding.invalid).toEqual([]);
    expect(innerRoots(inner).messages.size).toBe(1);
  });
});
