/**
 * [INNER-8] Entries vouched for by their author's frame signature: what counts without its own signature
 * check, and (negative) what still has to verify on its own. Real keys, real frames, real bindings.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import {
  VouchedEntries,
  authoredValues,
  innerRoots,
  parseMessageEntry,
  parseOpEntry,
  signMessage,
} from '../../src/envelope/index.ts';
import { forged, launderedSnapshot, makeUser, newDeviceId, Peer, Reader, SCOPE, syncPeers, World } from './helpers.ts';

/** A fresh device of `user` reading everything in `from`'s envelope. */
function freshReader(world: World, user: ReturnType<typeof makeUser>, from: Peer): Reader {
  const peer = new Peer(world, user, { envelope: Y.encodeStateAsUpdate(from.envelope) });
  return new Reader(peer, world); // listener attached before the queued initial frames run
}

describe('[INNER-8] frame-vouched entries', () => {
  const [alice, bob, carol] = [makeUser(), makeUser(), makeUser()];
  const world = new World([alice, bob, carol]);

  it('[INNER-8] entries in an update frame signed by their author count without a signature check of their own', async () => {
    const a = new Peer(world, alice);
    a.send('one', 1);
    const m2 = a.send('two', 2);
    a.op(m2, { type: 'edit', text: 'two!' }, 3);
    a.op(m2, { type: 'react', emoji: '👍', on: true }, 4);
    await a.settle();
    const r = freshReader(world, carol, a);
    expect(await r.texts()).toEqual(['one', 'two!']);
    expect(r.projection.update().messages[1]!.reactions).toEqual([{ emoji: '👍', users: [alice.userId] }]);
    expect(r.verified).toBe(0);
    expect(r.vouched.size).toBe(0); // every statement was used
  });

  it('[INNER-8] equivalence: the frame signature is the author speaking, so their frame vouches even for a broken entry signature', async () => {
    const a = new Peer(world, alice);
    // Only alice's own key signs this frame; what it says about alice is alice's word, exactly like a valid
    // entry signature would be (she could sign any content anyway).
    innerRoots(a.inner).messages.set(`${a.deviceId}:1`, { ...signMessage(SCOPE.convId, a.author, { counter: 1, ts: 1, text: 'mine' }), sig: 'A'.repeat(86) });
    await a.settle();
    const r = freshReader(world, carol, a);
    expect(await r.texts()).toEqual(['mine']);
    expect(r.verified).toBe(0);
  });

  it('[INNER-8] negative: a message claiming author U inside a frame signed by V is verified on its own and dropped when its signature is bad', async () => {
    // Alice on a legacy device: under a tagged one [INNER-11] refuses bob's frame outright (device-keys.test.ts),
    // and this test is about the layer below, which must hold on its own.
    const a = new Peer(world, alice, { deviceId: newDeviceId() });
    const b = new Peer(world, bob);
    const genuine = a.send('from alice', 1);
    await syncPeers(a, b);
    // bob writes, into his own frame, one forged "alice" message and one exact copy of a genuine one
    const fake = forged(alice, a.deviceId, 50, 'bob as alice', bob.secretKey);
    innerRoots(b.inner).messages.set(fake.id, fake);
    const copy = parseMessageEntry(innerRoots(b.inner).messages.get(genuine))!;
    innerRoots(b.inner).messages.set(`${a.deviceId}:51`, { ...copy, id: `${a.deviceId}:51` }); // re-keyed copy: its signature no longer covers the id
    b.send('from bob', 2);
    await b.settle();
    // the frame carries them, but they name alice while bob signed the frame: no vouch for them
    const bobsFrameValues: string[] = [];
    const probe = new Peer(world, carol);
    probe.binding.on((e) => {
      if (e.type === 'vouched') for (const v of e.values) bobsFrameValues.push(`${e.userId}:${(v as { text: string }).text}`);
    });
    Y.applyUpdate(probe.envelope, Y.encodeStateAsUpdate(b.envelope));
    await probe.binding.whenIdle();
    expect(bobsFrameValues.sort()).toEqual([`${alice.userId}:from alice`, `${bob.userId}:from bob`].sort());

    const r = freshReader(world, carol, b);
    expect(await r.texts()).toEqual(['from alice', 'from bob']);
    expect(r.verified).toBe(2); // the forged one and the re-keyed copy; both fail
    const ids = r.projection.update().messages.map((m) => m.id);
    expect(ids).not.toContain(fake.id);
    expect(ids).not.toContain(`${a.deviceId}:51`);
  });

  it('[INNER-8] [COMPACT-3] negative: a snapshot by V carrying U\'s messages with a forged U signature drops them; U\'s genuine ones verify one by one', async () => {
    const a = new Peer(world, alice);
    const b = new Peer(world, bob);
    a.send('genuine 1', 1);
    a.send('genuine 2', 2);
    await syncPeers(a, b);
    const fake = forged(alice, a.deviceId, 60, 'snapshot forgery', bob.secretKey);
    b.inner.transact(() => innerRoots(b.inner).messages.set(fake.id, fake));
    await b.settle();
    expect((await b.binding.compact({ minFrames: 1 })).ok).toBe(true);
    const onlySnapshot = b.binding.log.toArray();
    expect(onlySnapshot.length).toBe(1);
    const r = freshReader(world, carol, b);
    expect(await r.texts()).toEqual(['genuine 1', 'genuine 2']);
    expect(r.verified).toBe(3); // bob's snapshot vouches only for entries naming bob: alice's two and the forgery are verified
    expect(r.projection.update().messages.map((m) => m.id)).not.toContain(fake.id);
  });

  it('[INNER-8] [COMPACT-3] negative: the author\'s OWN snapshot does not vouch for what another member injected under the author\'s name', async () => {
    // bob injects a forged "alice" message; alice's device applies it, then compacts: alice signs the snapshot
    const { a, fake } = await launderedSnapshot(world, alice, bob, 70, 'laundered through alice');
    // keep only alice's snapshot (what a fresh device gets once bob's frame was compacted away)
    const snapshot = a.binding.log.toArray().filter((f): f is Uint8Array => f instanceof Uint8Array);
    const lone = new Y.Doc();
    lone.getArray<Uint8Array>('log').push(snapshot.slice(-1));
    const peer = new Peer(world, carol, { envelope: Y.encodeStateAsUpdate(lone) });
    const r = new Reader(peer, world);
    expect(await r.texts()).toEqual(['real']);
    expect(r.projection.update().messages.map((m) => m.id)).not.toContain(fake.id);
    expect(r.verified).toBe(1); // the forgery (excluded by alice's v2 snapshot); alice's own entry is vouched
  });

  it('[INNER-8] a vouch covers exact content only: changed text, a different sig or a second copy are not vouched', () => {
    const a = new Peer(world, alice);
    const m = signMessage(SCOPE.convId, a.author, { counter: 1, ts: 1, text: 'exact' });
    const doc = new Y.Doc();
    innerRoots(doc).messages.set(m.id, m);
    const values = authoredValues(Y.decodeUpdate(Y.encodeStateAsUpdate(doc)).structs, alice.userId);
    expect(values.length).toBe(1);
    expect(authoredValues(Y.decodeUpdate(Y.encodeStateAsUpdate(doc)).structs, bob.userId)).toEqual([]);
    const v = new VouchedEntries();
    v.add(values);
    expect(v.take({ ...m, text: 'other' })).toBe(false);
    expect(v.take({ ...m, sig: 'B'.repeat(86) })).toBe(false);
    expect(v.take({ ...m, extra: 1 })).toBe(false);
    expect(v.take({ ...m, author: bob.userId })).toBe(false); // same signature string, another author
    expect(v.includes({ ...m, author: bob.userId })).toBe(false);
    expect(v.take('not an object')).toBe(false);
    expect(v.take({ ...m })).toBe(true);
    expect(v.take({ ...m })).toBe(false); // consumed: a second copy is verified on its own
    expect(parseOpEntry(values[0])).toBeUndefined();
  });
});
