/**
 * Two instances on one PostgreSQL database linked by Redis (DESIGN §6 scale-out): members on different
 * instances see each other's frames, every update is stored once (by the instance that received it: an
 * instance stores a peer's content itself only before acknowledging a SyncStep2 that relied on it, [SYNC-8],
 * which does not happen here), refused input never crosses instances, and membership effects close sockets on
 * the other instance.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../helpers/accounts.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/server.ts';
import {
  connectProvider,
  createConversation,
  epochUpload,
  frameFor,
  framesOf,
  openSegment,
  pushUpdate,
  RawClient,
  registerUsers,
  startSyncTestServer,
  storedUpdates,
  waitFor,
  type TestProvider,
} from './support.ts';
import { randomBytes } from 'node:crypto';
import * as Y from 'yjs';

const REDIS_URL = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';

describe('two instances linked by Redis', () => {
  let db: TestDatabase;
  let one: Awaited<ReturnType<typeof startSyncTestServer>>;
  let two: Awaited<ReturnType<typeof startSyncTestServer>>;
  const providers: TestProvider[] = [];
  beforeAll(async () => {
    db = await createTestDatabase();
    const env = { JWT_SECRET: randomBytes(32).toString('base64url'), REDIS_URL };
    one = await startSyncTestServer({ backend: 'postgres', databaseUrl: db.url, env });
    two = await startSyncTestServer({ backend: 'postgres', databaseUrl: db.url, env });
  });
  afterAll(async () => {
    for (const p of providers) p.destroy();
    await one?.close();
    await two?.close();
    await db?.drop();
  });

  it('frames cross instances, each update is stored once, and a refused update reaches nobody', async () => {
    const [alice, bob] = await registerUsers(one.url, ['alice', 'bob']);
    const { conversation, key } = await createConversation(one.url, alice, [bob]);
    const seg = openSegment(conversation);
    const scope = { convId: conversation.id, segmentId: seg };
    const a = connectProvider(one.url, alice.token, seg);
    const b = connectProvider(two.url, bob.token, seg);
    providers.push(a, b);
    await Promise.all([a.synced(), b.synced()]);
    for (let i = 1; i <= 5; i++) {
      a.log.push([frameFor(alice, scope, key, i)]);
      b.log.push([frameFor(bob, scope, key, i)]);
    }
    await waitFor(() => a.log.length === 10 && b.log.length === 10, 15_000, 'cross-instance frames');
    await Promise.all([a.acked(), b.acked()]);
    const rows = await storedUpdates(one, seg);
    expect(framesOf(rows)).toHaveLength(10);
    expect(rows.length).toBe(10); // one row per update: the Redis copy on the other instance is not stored again

    // A malicious update on instance one: refused there, never relayed to instance two.
    const r = await RawClient.open(one.url);
    expect(await r.authenticate(seg, alice.token)).toEqual({ ok: true, text: 'read-write' });
    const from = r.messages.length;
    r.update(seg, (() => { const d = new Y.Doc(); d.getMap('x').set('plain', 'text'); return Y.encodeStateAsUpdate(d); })());
    expect(await r.docClosed(seg, from)).toBe('invalid-update');
    r.update(seg, pushUpdate([new Uint8Array(1)])); // after the close: ignored
    await new Promise((res) => setTimeout(res, 300));
    expect(b.doc.share.has('x')).toBe(false);
    expect(b.log.length).toBe(10);
    expect(await storedUpdates(one, seg)).toHaveLength(10);
    r.close();
  });

  it('a removal on one instance closes the removed member’s socket on the other', async () => {
    const [alice, bob, carol] = await registerUsers(one.url, ['alice', 'bob', 'carol']);
    const { conversation } = await createConversation(one.url, alice, [bob, carol]);
    const seg = openSegment(conversation);
    const c = connectProvider(two.url, carol.token, seg);
    const b = connectProvider(two.url, bob.token, seg);
    providers.push(c, b);
    await Promise.all([c.synced(), b.synced()]);
    const res = await call(one.url, 'POST', `/api/conversations/${conversation.id}/members/${carol.id}/remove`, {
      token: alice.token,
      json: { epoch: epochUpload(conversation.id, 1, alice, [alice, bob]).body },
    });
    expect(res.status).toBe(200);
    await waitFor(() => c.closes.length > 0 && b.closes.length > 0, 10_000, 'closes on instance two');
    expect(c.closes[0]).toBe('removed');
    expect(b.closes[0]).toBe('segment-closed');
  });
});
