/**
 * Hostile input on the sync endpoint ([SYNC-3] envelope updates, [SYNC-4] awareness, [SYNC-5] limits and
 * Origin). Each attack must be refused with its named close reason, change nothing in doc_updates, and
 * leave the server and other users' conversations working: a "canary" pair keeps exchanging frames
 * through the whole file and is checked after every attack.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import * as encoding from 'lib0/encoding';
import WebSocket from 'ws';
import {
  awarenessUpdate,
  connectProvider,
  createConversation,
  frameFor,
  framesOf,
  MSG,
  openSegment,
  presence,
  pushUpdate,
  RawClient,
  registerUsers,
  startSyncTestServer,
  storedUpdates,
  waitFor,
  type TestProvider,
  type TestUser,
} from './support.ts';

const LIMITS = { maxPayloadBytes: 1024 * 1024, frameMaxBytes: 64 * 1024, messagesBurst: 60, messagesPerSecond: 20, compactAfterRows: 1000 };

let srv: Awaited<ReturnType<typeof startSyncTestServer>>;
let alice: TestUser, bob: TestUser, eve: TestUser, dave: TestUser;
/** The canary conversation (alice + bob), untouched by attackers. */
let canary: { seg: string; convId: string; key: Uint8Array; a: TestProvider; b: TestProvider; counter: number };
/** The attacked conversation (eve + dave): eve is a malicious MEMBER. */
let target: { seg: string; convId: string; key: Uint8Array };
const raws: RawClient[] = [];
const providers: TestProvider[] = [];

beforeAll(async () => {
  srv = await startSyncTestServer({ backend: 'postgres', syncLimits: LIMITS });
  [alice, bob, eve, dave] = await registerUsers(srv.url, ['alice', 'bob', 'eve', 'dave']);
  const c = await createConversation(srv.url, alice, [bob]);
  const seg = openSegment(c.conversation);
  const a = connectProvider(srv.url, alice.token, seg);
  const b = connectProvider(srv.url, bob.token, seg);
  await Promise.all([a.synced(), b.synced()]);
  canary = { seg, convId: c.conversation.id, key: c.key, a, b, counter: 0 };
  const t = await createConversation(srv.url, eve, [dave]);
  target = { seg: openSegment(t.conversation), convId: t.conversation.id, key: t.key };
  // dave has one honest frame in the target segment.
  const d = connectProvider(srv.url, dave.token, target.seg);
  await d.synced();
  d.log.push([frameFor(dave, { convId: target.convId, segmentId: target.seg }, target.key, 1)]);
  await d.acked();
  d.destroy();
});
afterAll(async () => {
  for (const r of raws) r.close();
  for (const p of providers) p.destroy();
  canary?.a.destroy();
  canary?.b.destroy();
  await srv?.close();
});

async function raw(headers?: Record<string, string>): Promise<RawClient> {
  const r = await RawClient.open(srv.url, headers);
  raws.push(r);
  return r;
}
/** A raw socket already authenticated on the target segment as eve. */
async function eveOnTarget(): Promise<RawClient> {
  const r = await raw();
  expect(await r.authenticate(target.seg, eve.token)).toEqual({ ok: true, text: 'read-write' });
  r.syncStep1(target.seg);
  await r.next((m) => m.doc === target.seg && m.type === MSG.Sync && m.sub === 1);
  return r;
}
/** The canary pair still works: a new frame from alice reaches bob and is stored. */
async function canaryAlive(): Promise<void> {
  const n = canary.b.log.length;
  canary.a.log.push([frameFor(alice, { convId: canary.convId, segmentId: canary.seg }, canary.key, ++canary.counter)]);
  await waitFor(() => canary.b.log.length === n + 1, 10_000, 'canary frame');
  await canary.a.acked();
  expect(framesOf(await storedUpdates(srv, canary.seg))).toHaveLength(canary.counter);
  expect((await fetch(`${srv.url}/healthz`)).status).toBe(200);
}
/** The target segment's stored rows are exactly what they were, and still load into a fresh provider. */
async function targetIntact(rowsBefore: Uint8Array[]): Promise<void> {
  expect(await storedUpdates(srv, target.seg)).toEqual(rowsBefore);
  const p = connectProvider(srv.url, dave.token, target.seg);
  providers.push(p);
  await p.synced();
  expect(p.log.toArray().map((f) => f.length)).toEqual(framesOf(rowsBefore).map((f) => f.length));
  p.destroy();
}

function updateOf(fn: (d: Y.Doc) => void): Uint8Array {
  const d = new Y.Doc();
  fn(d);
  return Y.encodeStateAsUpdate(d);
}

describe('[SYNC-3] envelope updates from a malicious member', () => {
  const OUTSIDE_LOG: Record<string, () => Uint8Array> = {
    'a Y.Map root': () => updateOf((d) => d.getMap('meta').set('name', 'plaintext group name')),
    'a Y.Map named log': () => updateOf((d) => d.getMap('log').set('k', new Uint8Array(4))),
    'another array root': () => updateOf((d) => d.getArray<Uint8Array>('other').push([new Uint8Array(4)])),
    'a string in log': () => updateOf((d) => d.getArray('log').push(['hello in plaintext'])),
    'JSON in log': () => updateOf((d) => d.getArray('log').push([{ text: 'plaintext' }])),
    'a nested type in log': () => updateOf((d) => d.getArray('log').push([new Y.Map()])),
    'Y.Text named log': () => updateOf((d) => d.getText('log').insert(0, 'plaintext')),
    'a binary frame plus a map write in one update': () =>
      updateOf((d) => d.transact(() => { d.getArray<Uint8Array>('log').push([new Uint8Array(8)]); d.getMap('x').set('k', 1); })),
  };

  for (const [name, make] of Object.entries(OUTSIDE_LOG)) {
    it(`refuses ${name} (update and SyncStep2) with "invalid-update"`, async () => {
      const before = await storedUpdates(srv, target.seg);
      for (const send of ['update', 'syncStep2'] as const) {
        const r = await eveOnTarget();
        const from = r.messages.length;
        r[send](target.seg, make());
        expect(await r.docClosed(target.seg, from)).toBe('invalid-update');
        // The socket itself stays open (only that document connection is closed).
        expect(r.closeEvent).toBeNull();
      }
      await targetIntact(before);
    });
  }

  it('refuses a frame over the frame cap with "too-large" (and one at the cap is stored)', async () => {
    const before = await storedUpdates(srv, target.seg);
    const r = await eveOnTarget();
    const from = r.messages.length;
    r.update(target.seg, pushUpdate([new Uint8Array(LIMITS.frameMaxBytes + 1)]));
    expect(await r.docClosed(target.seg, from)).toBe('too-large');
    await targetIntact(before);
    // Exactly at the cap is fine, and stored before the acknowledgement.
    const ok = await eveOnTarget();
    const at = ok.messages.length;
    const frame = new Uint8Array(LIMITS.frameMaxBytes).fill(7);
    ok.update(target.seg, pushUpdate([frame]));
    expect((await ok.next((m) => m.doc === target.seg && m.type === MSG.SyncStatus, at)).status).toBe(1);
    expect(framesOf(await storedUpdates(srv, target.seg)).some((f) => f.length === frame.length)).toBe(true);
    await canaryAlive();
  });

  it('refuses Yjs malformed-update vectors, truncations and poisoning updates with "invalid-update"; the segment still loads', async () => {
    const before = await storedUpdates(srv, target.seg);
    const honest = pushUpdate([new Uint8Array(30), new Uint8Array(5)], 4242);
    const truncations = [1, 3, 7, honest.length - 1].map((n) => honest.slice(0, n));
    const vectors = [
      new Uint8Array([200, 1, 2, 3, 4, 5, 6]),
      new Uint8Array([0]),
      new Uint8Array([1, 1, 255, 255, 255, 255, 15]),
      ...truncations,
      Buffer.from('0101630083d2090105000000000001d209010000', 'hex'), // zero-length delete range
      Buffer.from('0102d209000101036c6f670183d209c328000000000000000000000000000000000000000000000000000000000000000000000000', 'hex'),
    ];
    for (const v of vectors) {
      const r = await eveOnTarget();
      const from = r.messages.length;
      r.update(target.seg, v);
      const reason = await r.docClosed(target.seg, from);
      expect(reason, Buffer.from(v).toString('hex')).toBe('invalid-update');
    }
    await targetIntact(before);
    await canaryAlive();
  });

  it('garbage on an authenticated document closes that document only; the socket and its other documents keep working', async () => {
    const r = await eveOnTarget();
    const { conversation, key } = await createConversation(srv.url, eve, [alice]);
    const other = openSegment(conversation);
    expect(await r.authenticate(other, eve.token)).toEqual({ ok: true, text: 'read-write' });
    const from = r.messages.length;
    const e = encoding.createEncoder();
    encoding.writeVarString(e, target.seg);
    encoding.writeVarUint(e, MSG.Sync);
    encoding.writeVarUint(e, 99); // unknown sync subtype
    encoding.writeVarUint8Array(e, new Uint8Array([1, 2, 3]));
    r.send(encoding.toUint8Array(e));
    expect(await r.docClosed(target.seg, from)).not.toBe('');
    // The other document on the same socket still accepts and stores a frame.
    const f = frameFor(eve, { convId: conversation.id, segmentId: other }, key, 1);
    const at = r.messages.length;
    r.update(other, pushUpdate([f]));
    const ack = await r.next((m) => m.doc === other && m.type === MSG.SyncStatus, at);
    expect(ack.status).toBe(1);
    expect(framesOf(await storedUpdates(srv, other))).toEqual([f]);
  });

  it('a malformed SyncStep1 state vector is refused or ignored without harm', async () => {
    const before = await storedUpdates(srv, target.seg);
    for (const sv of [new Uint8Array([200, 1, 2, 3, 4, 5, 6]), new Uint8Array([5, 255, 255, 255, 255, 255, 255, 255, 255, 255, 1]), new Uint8Array([1, 1, 255, 255, 255, 255, 255, 255, 255, 127])]) {
      const r = await raw();
      expect(await r.authenticate(target.seg, eve.token)).toEqual({ ok: true, text: 'read-write' });
      const e = encoding.createEncoder();
      encoding.writeVarString(e, target.seg);
      encoding.writeVarUint(e, MSG.Sync);
      encoding.writeVarUint(e, 0);
      encoding.writeVarUint8Array(e, sv);
      r.send(encoding.toUint8Array(e));
      await Promise.race([r.docClosed(target.seg).catch(() => ''), new Promise((res) => setTimeout(res, 300))]);
    }
    await targetIntact(before);
    await canaryAlive();
  });

  it('an update addressed to a document the socket never authenticated is never applied or stored', async () => {
    const { conversation } = await createConversation(srv.url, dave, [alice]);
    const stranger = openSegment(conversation);
    const r = await eveOnTarget();
    r.update(stranger, pushUpdate([new Uint8Array(16)]));
    r.auth(stranger, eve.token); // refused: eve is not a member
    await r.next((m) => m.doc === stranger && m.type === MSG.Auth && m.sub === 1);
    expect(await storedUpdates(srv, stranger)).toEqual([]);
  });

  it('socket-level garbage (binary junk, text frames) closes only that socket; the server stays up', async () => {
    for (const junk of [new Uint8Array([255, 255, 255, 255, 255, 255, 255, 255, 255, 255]), new Uint8Array(0), 'hello', new Uint8Array([5])]) {
      const r = await raw();
      r.ws.send(junk);
      // Either the server closes the socket or ignores the junk; it must not crash or answer with data.
      await Promise.race([r.closed, new Promise((res) => setTimeout(res, 300))]);
      r.close();
    }
    await canaryAlive();
  });
});

describe('[SYNC-3] replays', () => {
  it('replaying one update is acknowledged every time but stored once', async () => {
    const r = await eveOnTarget();
    const before = await storedUpdates(srv, target.seg);
    const u = pushUpdate([frameFor(eve, { convId: target.convId, segmentId: target.seg }, target.key, 1)]);
    for (let i = 0; i < 20; i++) {
      const from = r.messages.length;
      if (i % 2 === 0) r.update(target.seg, u);
      else r.syncStep2(target.seg, u);
      await r.next((m) => m.doc === target.seg && m.type === MSG.SyncStatus, from);
    }
    const after = await storedUpdates(srv, target.seg);
    expect(after.length).toBe(before.length + 1);
    expect(r.closeEvent).toBeNull();
  });
});

describe('[SYNC-4] awareness', () => {
  it('refuses plaintext presence and an awareness state claiming another connection’s client id', async () => {
    const victim = await eveOnTarget(); // a connection that owns client id 777 with a valid state
    const valid = presence();
    victim.awareness(target.seg, awarenessUpdate([{ clientId: 777, clock: 1, state: valid }]));
    const doc = () => srv.server.sync.hocuspocus.documents.get(target.seg);
    await waitFor(() => doc()?.awareness.getStates().get(777) !== undefined, 5000, 'victim presence');

    const plain = await eveOnTarget();
    let from = plain.messages.length;
    plain.awareness(target.seg, awarenessUpdate([{ clientId: 888, clock: 1, state: { user: { name: 'Eve', typing: 'secret draft' } } }]));
    expect(await plain.docClosed(target.seg, from)).toBe('invalid-awareness');

    const hijack = await eveOnTarget();
    from = hijack.messages.length;
    hijack.awareness(target.seg, awarenessUpdate([{ clientId: 777, clock: 99, state: presence() }]));
    expect(await hijack.docClosed(target.seg, from)).toBe('invalid-awareness');

    const clear = await eveOnTarget();
    from = clear.messages.length;
    clear.awareness(target.seg, awarenessUpdate([{ clientId: 777, clock: 100, state: null }]));
    expect(await clear.docClosed(target.seg, from)).toBe('invalid-awareness');

    // The victim's state is untouched.
    expect(doc()?.awareness.getStates().get(777)).toEqual(valid);
    expect(victim.closeEvent).toBeNull();
    await canaryAlive();
  });

  it('refuses more than 4 client ids per connection and oversized/garbage awareness', async () => {
    const many = await eveOnTarget();
    let from = many.messages.length;
    many.awareness(target.seg, awarenessUpdate([1, 2, 3, 4, 5].map((id) => ({ clientId: 5000 + id, clock: 1, state: presence() }))));
    expect(await many.docClosed(target.seg, from)).toBe('invalid-awareness');
    const big = await eveOnTarget();
    from = big.messages.length;
    big.awareness(target.seg, awarenessUpdate([{ clientId: 6001, clock: 1, state: { v: 1, epoch: 0, ciphertext: 'A'.repeat(100_000) } }]));
    expect(await big.docClosed(target.seg, from)).toBe('invalid-awareness');
    const junk = await eveOnTarget();
    from = junk.messages.length;
    junk.awareness(target.seg, new Uint8Array([3, 1, 2]));
    expect(await junk.docClosed(target.seg, from)).toBe('invalid-awareness');
  });
});

describe('[SYNC-5] limits and the upgrade', () => {
  it('a flood from one connection is closed with "rate-limited"; others are unaffected', async () => {
    const r = await eveOnTarget();
    const before = await storedUpdates(srv, target.seg);
    const from = r.messages.length;
    const sv = new Y.Doc();
    for (let i = 0; i < 500; i++) r.syncStep1(target.seg, sv);
    expect(await r.docClosed(target.seg, from)).toBe('rate-limited');
    expect(await storedUpdates(srv, target.seg)).toEqual(before);
    await canaryAlive();
    const text = await (await fetch(`${srv.url}/metrics`)).text();
    expect(text).toMatch(/parley_sync_rejections_total\{reason="rate-limited"\} [1-9]/);
  });

  it('messages queued before authentication are bounded: a pre-auth flood terminates that socket only', async () => {
    const r = await raw();
    for (let i = 0; i < 400; i++) r.update(target.seg, pushUpdate([new Uint8Array(8)]));
    const closed = await Promise.race([r.closed, new Promise<null>((res) => setTimeout(() => res(null), 5000))]);
    expect(closed).not.toBeNull();
    expect(r.messages.filter((m) => m.type === MSG.SyncStatus)).toEqual([]);
    await canaryAlive();
  });

  it('a WebSocket message over maxPayload closes THAT socket with 1009; other sockets are fine', async () => {
    const r = await eveOnTarget();
    const bystander = await eveOnTarget();
    r.update(target.seg, new Uint8Array(LIMITS.maxPayloadBytes + 10));
    expect((await r.closed).code).toBe(1009);
    expect(bystander.closeEvent).toBeNull();
    const from = bystander.messages.length;
    bystander.syncStep1(target.seg);
    await bystander.next((m) => m.doc === target.seg && m.type === MSG.Sync && m.sub === 1, from);
    await canaryAlive();
  });

  it('checks Origin on upgrade: foreign or opaque origins get 403; none, same-origin and allowed ones connect', async () => {
    await expect(RawClient.open(srv.url, { Origin: 'https://evil.example' })).rejects.toThrow('HTTP 403');
    await expect(RawClient.open(srv.url, { Origin: 'null' })).rejects.toThrow('HTTP 403');
    await expect(RawClient.open(srv.url, { Origin: `http://127.0.0.1.evil.example:${new URL(srv.url).port}` })).rejects.toThrow('HTTP 403');
    const none = await raw();
    const same = await raw({ Origin: srv.url });
    expect(await same.authenticate(target.seg, eve.token)).toEqual({ ok: true, text: 'read-write' });
    expect(none.closeEvent).toBeNull();
    // Upgrades elsewhere than /sync are refused.
    const ws = new WebSocket(`${srv.url.replace('http', 'ws')}/syncx`);
    const status = await new Promise<number>((resolve) => {
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('open', () => resolve(101));
      ws.once('error', () => resolve(-1));
    });
    ws.terminate();
    expect(status).toBe(404);
  });
});
