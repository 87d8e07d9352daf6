/**
 * [SYNC-1] document access and [SYNC-2] read-only segments, through real providers and a raw socket
 * against a real server on port 0 with real PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import jwt from 'jsonwebtoken';
import * as Y from 'yjs';
import { docNameFor } from '@parley/shared/protocol';
import { call } from '../helpers/accounts.ts';
import {
  connectProvider,
  createConversation,
  epochUpload,
  frameFor,
  framesOf,
  MSG,
  openSegment,
  pushUpdate,
  RawClient,
  registerUsers,
  startSyncTestServer,
  storedUpdates,
  waitFor,
  type TestProvider,
  type TestUser,
} from './support.ts';

let srv: Awaited<ReturnType<typeof startSyncTestServer>>;
let alice: TestUser, bob: TestUser, carol: TestUser, mallory: TestUser;
const open: TestProvider[] = [];
const raws: RawClient[] = [];

beforeAll(async () => {
  srv = await startSyncTestServer({ backend: 'postgres' });
  [alice, bob, carol, mallory] = await registerUsers(srv.url, ['alice', 'bob', 'carol', 'mallory']);
});
afterAll(async () => {
  for (const p of open) p.destroy();
  for (const r of raws) r.close();
  await srv?.close();
});

function track(p: TestProvider): TestProvider {
  open.push(p);
  return p;
}
async function raw(): Promise<RawClient> {
  const r = await RawClient.open(srv.url);
  raws.push(r);
  return r;
}

describe('[SYNC-1] membership decides document access', () => {
  it('two members on one segment see each other’s frames, and both are persisted', async () => {
    const { conversation, key } = await createConversation(srv.url, alice, [bob]);
    const seg = openSegment(conversation);
    const scope = { convId: conversation.id, segmentId: seg };
    const a = track(connectProvider(srv.url, alice.token, seg));
    const b = track(connectProvider(srv.url, bob.token, seg));
    await Promise.all([a.synced(), b.synced()]);
    expect(a.authenticated).toEqual(['read-write']);
    const fa = frameFor(alice, scope, key, 1, 'hello bob');
    const fb = frameFor(bob, scope, key, 1, 'hello alice');
    a.log.push([fa]);
    b.log.push([fb]);
    await waitFor(() => a.log.length === 2 && b.log.length === 2, 10_000, 'both frames on both sides');
    await Promise.all([a.acked(), b.acked()]);
    const stored = framesOf(await storedUpdates(srv, seg));
    expect(stored.map((f) => Buffer.from(f).toString('hex')).sort()).toEqual([fa, fb].map((f) => Buffer.from(f).toString('hex')).sort());
  });

  it('a non-member is refused with "forbidden" while another document on the SAME socket keeps working', async () => {
    const { conversation: secret } = await createConversation(srv.url, alice, [bob]);
    const { conversation: own, key } = await createConversation(srv.url, mallory, [carol]);
    const mine = track(connectProvider(srv.url, mallory.token, openSegment(own)));
    await mine.synced();
    const denied = track(connectProvider(srv.url, mallory.token, openSegment(secret), { socket: mine.socket }));
    await waitFor(() => denied.authFailures.length > 0, 10_000, 'authenticationFailed');
    expect(denied.authFailures).toEqual(['forbidden']);
    expect(denied.doc.getArray('log').length).toBe(0);

    // The socket and the other document are fine: a frame still round-trips to carol.
    const c = track(connectProvider(srv.url, carol.token, openSegment(own)));
    await c.synced();
    mine.log.push([frameFor(mallory, { convId: own.id, segmentId: openSegment(own) }, key, 1)]);
    await waitFor(() => c.log.length === 1, 10_000, 'frame relayed after a refusal on the same socket');
    await mine.acked();
    expect(await storedUpdates(srv, openSegment(secret))).toEqual([]);
  });

  it('refusals never reveal whether a document exists (meta, profile, inbox, unknown segment, junk names)', async () => {
    const { conversation } = await createConversation(srv.url, alice, [bob]);
    const r = await raw();
    const names = [
      docNameFor('m', conversation.id), // someone else's conversation metadata
      docNameFor('p', alice.id), // profile of a user mallory shares nothing with
      docNameFor('i', alice.id), // someone else's inbox
      's_' + '0'.repeat(32), // a segment that does not exist
      'log',
      "s_'; DROP TABLE doc_updates; --",
      'x'.repeat(5000),
    ];
    for (const name of names) expect(await r.authenticate(name, mallory.token), name).toEqual({ ok: false, text: 'forbidden' });
    // Own inbox is readable (read-only), own profile writable.
    expect(await r.authenticate(docNameFor('i', mallory.id), mallory.token)).toEqual({ ok: true, text: 'readonly' });
    expect(await r.authenticate(docNameFor('p', mallory.id), mallory.token)).toEqual({ ok: true, text: 'read-write' });
    // A member's meta doc and a contact's profile (read-only).
    expect(await r.authenticate(docNameFor('m', conversation.id), bob.token)).toEqual({ ok: true, text: 'read-write' });
    expect(await r.authenticate(docNameFor('p', alice.id), bob.token)).toEqual({ ok: true, text: 'readonly' });
    expect(r.closeEvent).toBeNull();
  });

  it('an invalid, foreign-signed, expired or wrong-audience token is refused with "unauthorized"', async () => {
    const { conversation } = await createConversation(srv.url, alice, [bob]);
    const seg = openSegment(conversation);
    const claims = jwt.decode(alice.token) as Record<string, unknown>;
    const { exp: _exp, iat: _iat, ...rest } = claims;
    const tokens = [
      'not-a-jwt',
      '',
      jwt.sign(rest, 'another-secret-another-secret-another', { algorithm: 'HS256', expiresIn: 60 }),
      jwt.sign({ ...rest, exp: Math.floor(Date.now() / 1000) - 10 }, srv.jwtSecret, { algorithm: 'HS256' }),
      jwt.sign({ ...rest, aud: 'someone-else' }, srv.jwtSecret, { algorithm: 'HS256', expiresIn: 60 }),
      alice.token.split('.').slice(0, 2).join('.') + '.',
    ];
    const r = await raw();
    for (const t of tokens) expect(await r.authenticate(seg, t), t).toEqual({ ok: false, text: 'unauthorized' });
    // The provider surfaces the same reason.
    const p = track(connectProvider(srv.url, 'garbage', seg));
    await waitFor(() => p.authFailures.length > 0);
    expect(p.authFailures).toEqual(['unauthorized']);
    // ...and the same socket then authenticates properly.
    expect(await r.authenticate(seg, alice.token)).toEqual({ ok: true, text: 'read-write' });
  });

  it('the inbox is read-only: an update is not applied or stored', async () => {
    const inbox = docNameFor('i', carol.id);
    const r = await raw();
    expect(await r.authenticate(inbox, carol.token)).toEqual({ ok: true, text: 'readonly' });
    const from = r.messages.length;
    r.update(inbox, pushUpdate([new Uint8Array(100)]));
    await r.next((m) => m.doc === inbox && m.type === MSG.SyncStatus, from);
    expect(await storedUpdates(srv, inbox)).toEqual([]);
  });
});

describe('[SYNC-2] closed segments are read-only', () => {
  it('after a removal: live connections get "segment-closed"/"removed", the old segment is read-only and nothing new is stored', async () => {
    const { conversation, key } = await createConversation(srv.url, alice, [bob, carol]);
    const seg = openSegment(conversation);
    const scope = { convId: conversation.id, segmentId: seg };
    const a = track(connectProvider(srv.url, alice.token, seg));
    const c = track(connectProvider(srv.url, carol.token, seg));
    await Promise.all([a.synced(), c.synced()]);
    a.log.push([frameFor(alice, scope, key, 1)]);
    await a.acked();

    const up = epochUpload(conversation.id, 1, alice, [alice, bob]);
    const res = await call(srv.url, 'POST', `/api/conversations/${conversation.id}/members/${carol.id}/remove`, { token: alice.token, json: { epoch: up.body } });
    expect(res.status).toBe(200);
    await waitFor(() => a.closes.includes('segment-closed') && c.closes.length > 0, 10_000, 'server-side closes');
    expect(c.closes[0]).toBe('removed');

    // Carol (removed) cannot re-open it; Alice re-opens it read-only.
    const r = await raw();
    expect(await r.authenticate(seg, carol.token)).toEqual({ ok: false, text: 'forbidden' });
    expect(await r.authenticate(seg, alice.token)).toEqual({ ok: true, text: 'readonly' });
    const before = await storedUpdates(srv, seg);
    expect(framesOf(before)).toHaveLength(1);

    // A raw update and a SyncStep2 with new content: acknowledged as NOT saved, not applied, not stored.
    const from = r.messages.length;
    r.update(seg, pushUpdate([frameFor(alice, scope, key, 2)]));
    const status = await r.next((m) => m.doc === seg && m.type === MSG.SyncStatus, from);
    expect(status.status).toBe(0);
    r.syncStep2(seg, pushUpdate([frameFor(alice, scope, key, 3)]));

    // A provider on the closed segment: it syncs the history but its pushes go nowhere.
    const bobView = track(connectProvider(srv.url, bob.token, seg));
    await bobView.synced();
    expect(bobView.authenticated).toEqual(['readonly']);
    expect(bobView.log.length).toBe(1);
    const alice2 = track(connectProvider(srv.url, alice.token, seg, { doc: new Y.Doc() }));
    await alice2.synced();
    alice2.log.push([frameFor(alice, scope, key, 4)]);
    await new Promise((r2) => setTimeout(r2, 500));
    expect(bobView.log.length).toBe(1);
    expect(await storedUpdates(srv, seg)).toEqual(before);
    expect(r.closeEvent).toBeNull();

    // The new segment is open for the remaining members.
    const next = (await call(srv.url, 'GET', `/api/conversations/${conversation.id}`, { token: alice.token })).body as { conversation: { segments: { id: string; state: string }[] } };
    const newSeg = next.conversation.segments.find((s) => s.state === 'open')!.id;
    expect(newSeg).not.toBe(seg);
    expect(await r.authenticate(newSeg, alice.token)).toEqual({ ok: true, text: 'read-write' });
  });
});
