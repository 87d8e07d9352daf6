/**
 * [INNER-9], [COMPACT-4] A member cannot hide or delete another member's message through Yjs. Yjs settles two
 * items under one map key by deleting the loser locally, with no delete set to refuse, so [INNER-2] alone let a
 * member replace any message with an entry of their own; and a snapshot carries its compactor's delete set,
 * which nothing checked. Every variant here is a frame signed by a member with the key (real keys, real frames,
 * real bindings), and each one is refused while the original message stays. Honest traffic is untouched (the
 * property tests run the same bindings).
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { innerRoots, overwritesMessages, sealFrame, signMessage } from '../../src/envelope/index.ts';
import { EPOCH, makeUser, Peer, SCOPE, syncDocs, syncPeers, World } from './helpers.ts';

const [ursula, mallory, rita] = [makeUser(), makeUser(), makeUser()];
const world = new World([ursula, mallory, rita]);

/** Ursula's message, seen by Rita; Mallory's device, not yet synced, writing with the highest clientID. */
async function setup(): Promise<{ u: Peer; m: Peer; r: Peer; key: string }> {
  const u = new Peer(world, ursula);
  const r = new Peer(world, rita);
  const key = u.send('the real message', 1);
  await syncPeers(u, r);
  const m = new Peer(world, mallory);
  m.inner.clientID = 0xfffffff0; // wins every tie in Yjs's conflict order
  return { u, m, r, key };
}

/** Mallory's own, validly signed entry under `key` (the id is Ursula's). */
function squat(m: Peer, key: string): object {
  const [deviceId] = key.split(':');
  return signMessage(SCOPE.convId, { ...m.author, deviceId: deviceId! }, { counter: Number(key.split(':')[1]), ts: 2, text: 'replaced' });
}

/** Seals Mallory's pending local updates and delivers her envelope to Rita. */
async function deliver(m: Peer, r: Peer): Promise<void> {
  await m.settle();
  syncDocs(m.envelope, r.envelope);
  await r.binding.whenIdle();
}

async function expectRefused(r: Peer, key: string): Promise<void> {
  expect(r.binding.invalid.map((f) => [f.code, f.userId])).toContainEqual(['overwrite', mallory.userId]);
  expect(r.view().messages.map((x) => [x.id, x.author, x.text])).toEqual([[key, ursula.userId, 'the real message']]);
  expect(innerRoots(r.inner).messages.get(key)).toMatchObject({ author: ursula.userId });
}

/** `update` without its delete set: the structs alone (what a hand-made frame can carry). */
function withoutDeleteSet(update: Uint8Array): Uint8Array {
  const { ds } = Y.decodeUpdate(update);
  const enc = encoding.createEncoder();
  encoding.writeVarUint(enc, ds.clients.size);
  for (const [client, items] of ds.clients) {
    encoding.writeVarUint(enc, client);
    encoding.writeVarUint(enc, items.length);
    for (const it of items) {
      encoding.writeVarUint(enc, it.clock);
      encoding.writeVarUint(enc, it.len);
    }
  }
  const dsBytes = encoding.toUint8Array(enc);
  const tail = update.subarray(update.length - dsBytes.length);
  expect(tail).toEqual(dsBytes); // the delete set is the update's last part
  const out = new Uint8Array(update.length - dsBytes.length + 1);
  out.set(update.subarray(0, update.length - dsBytes.length));
  out[out.length - 1] = 0; // no clients in the delete set
  expect(decoding.readVarUint(decoding.createDecoder(out.subarray(out.length - 1)))).toBe(0);
  return out;
}

describe('[INNER-9] no frame may replace or hide an entry of messages', () => {
  it('a concurrent set under the same key (no delete set) is refused; without the check it would replace the message', async () => {
    const { m, r, key } = await setup();
    const entry = squat(m, key);
    innerRoots(m.inner).messages.set(key, entry);
    // What Yjs alone would do with it: the higher clientID wins and the original is deleted, no delete set needed.
    const plain = new Y.Doc();
    Y.applyUpdate(plain, Y.encodeStateAsUpdate(r.inner));
    Y.applyUpdate(plain, Y.encodeStateAsUpdate(m.inner));
    expect(innerRoots(plain).messages.get(key)).toMatchObject({ author: mallory.userId, text: 'replaced' });
    expect(Y.decodeUpdate(Y.encodeStateAsUpdate(m.inner)).ds.clients.size).toBe(0);
    await deliver(m, r);
    await expectRefused(r, key);
  });

  it('an item set and deleted in the same frame (which would leave the key empty) is refused', async () => {
    const { m, r, key } = await setup();
    m.inner.transact(() => {
      innerRoots(m.inner).messages.set(key, squat(m, key));
      innerRoots(m.inner).messages.delete(key);
    });
    await deliver(m, r);
    await expectRefused(r, key);
  });

  it('an overwrite placed after the original (origin set) with its delete set stripped is refused', async () => {
    const { u, m, r, key } = await setup();
    const replacer = new Y.Doc();
    replacer.clientID = m.inner.clientID;
    Y.applyUpdate(replacer, Y.encodeStateAsUpdate(u.inner));
    const sv = Y.encodeStateVector(replacer);
    innerRoots(replacer).messages.set(key, squat(m, key)); // origin: Ursula's item; deletes it (her clientID)
    const full = Y.encodeStateAsUpdate(replacer, sv);
    expect([...Y.decodeUpdate(full).ds.clients.keys()]).toEqual([u.inner.clientID]); // [INNER-2] would refuse this one
    const stripped = withoutDeleteSet(full);
    const [item] = Y.decodeUpdate(stripped).structs;
    expect(item).toBeInstanceOf(Y.Item);
    expect((item as Y.Item).origin).not.toBeNull();
    expect(overwritesMessages(Y.decodeUpdate(stripped).structs, r.inner)).toBe(true);
    // Sealed by hand: her binding would seal what her own doc made of it, delete set included.
    const frame = sealFrame({ scope: SCOPE, kind: 'update', epoch: EPOCH, epochKey: world.keys.get(EPOCH)!, ...m.author, counter: 1, plaintext: stripped });
    m.binding.log.push([frame]);
    await deliver(m, r);
    await expectRefused(r, key);
  });

  it('a snapshot carrying a new item under an existing key is refused', async () => {
    const { m, r, key } = await setup();
    innerRoots(m.inner).messages.set(key, squat(m, key));
    m.send('mallory also says hi', 3);
    await m.binding.flush();
    const c = await m.binding.compact({ minFrames: 1 });
    expect(c.ok && c.value).toBeGreaterThan(0);
    expect(m.binding.log.length).toBe(1); // only the snapshot travels
    syncDocs(m.envelope, r.envelope);
    await r.binding.whenIdle();
    await expectRefused(r, key);
  });

  it('[COMPACT-4] a snapshot whose delete set deletes another member\'s message is refused as foreign_client', async () => {
    const { u, r, key } = await setup();
    const m = new Peer(world, mallory);
    await syncPeers(u, r, m);
    innerRoots(m.inner).messages.delete(key); // her update frame would be refused ([INNER-2]); her snapshot carries it
    m.send('mallory compacts', 3);
    await m.binding.flush();
    expect((await m.binding.compact({ minFrames: 1 })).ok).toBe(true);
    expect([...Y.decodeUpdate(Y.encodeStateAsUpdate(m.inner)).ds.clients.keys()]).toContain(u.inner.clientID);
    syncDocs(m.envelope, r.envelope);
    await r.binding.whenIdle();
    expect(r.binding.invalid.map((f) => [f.code, f.userId])).toContainEqual(['foreign_client', mallory.userId]);
    expect(r.view().messages.map((x) => x.text)).toEqual(['the real message']);
  });

  it('[COMPACT-4] negative: a snapshot repeating a deletion the reader already holds passes', async () => {
    const { u, r } = await setup();
    const own = u.send('ursula takes this back', 4);
    await syncPeers(u, r);
    innerRoots(u.inner).messages.delete(own); // an owner may delete her own item ([INNER-2])
    await syncPeers(u, r);
    expect(r.view().messages.map((x) => x.text)).toEqual(['the real message']);
    const c = new Peer(world, mallory); // an honest member compacting everything, deletion included
    await syncPeers(u, r, c);
    expect((await c.binding.compact({ minFrames: 1 })).ok).toBe(true);
    await syncPeers(u, r, c);
    expect(r.binding.invalid).toEqual([]);
    expect(r.view().messages.map((x) => x.text)).toEqual(['the real message']);
  });

  it('negative: honest traffic passes, including a snapshot of entries the reader already has and new keys', async () => {
    const { u, r, key } = await setup();
    const c = new Peer(world, mallory); // an honest member this time
    await syncPeers(u, r, c);
    c.send('an honest reply', 5);
    u.op(key, { type: 'edit', text: 'the real message, edited' }, 6);
    await syncPeers(u, r, c);
    expect((await c.binding.compact({ minFrames: 1 })).ok).toBe(true);
    const fresh = new Peer(world, rita, { envelope: Y.encodeStateAsUpdate(c.envelope) });
    await syncPeers(u, r, c, fresh);
    for (const p of [r, fresh]) {
      expect(p.binding.invalid).toEqual([]);
      expect(p.view().messages.map((x) => x.text)).toEqual(['the real message, edited', 'an honest reply']);
    }
  });
});
