/**
 * Relay on receipt, acknowledge on commit ([SYNC-5], [SYNC-8], [SYNC-9]) against real PostgreSQL and Redis.
 * Commits are made slow or failing for real — a table lock held by another PostgreSQL session, triggers that
 * sleep or raise — never by mocking. Covered:
 * - members receive a frame while its commit is still blocked; the sender's acknowledgement only leaves once
 *   the row is committed;
 * - a failed append is never acknowledged, closes the document's connections, and once the database accepts
 *   writes again the client's re-sync stores the content before it is acknowledged;
 * - content that reached an instance over Redis is not assumed durable: a client failing over to that
 *   instance is acknowledged only after that instance stored it (its origin instance never commits it), and
 *   the origin's failed append closes the document on the other instance too.
 * Plus the id-range bookkeeping (`ClockRanges`, `DurableState`) on real Yjs updates.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import * as Y from 'yjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClockRanges, DurableState, rangesOf } from '../../src/sync/durable-acks.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/server.ts';
import {
  connectProvider,
  createConversation,
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

const REDIS_URL = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function storedFrames(srv: Parameters<typeof storedUpdates>[0], doc: string): Promise<Set<string>> {
  return new Set(framesOf(await storedUpdates(srv, doc)).map(hex));
}

describe('durable id ranges', () => {
  it('ClockRanges merges touching and overlapping ranges and answers coverage and the durable prefix', () => {
    const r = new ClockRanges();
    r.add(7, 5, 3); // [5,8)
    expect(r.covers(7, 5, 3)).toBe(true);
    expect(r.covers(7, 4, 2)).toBe(false);
    expect(r.prefix(7)).toBe(0);
    r.add(7, 0, 2); // [0,2) [5,8)
    expect(r.prefix(7)).toBe(2);
    expect(r.covers(7, 1, 5)).toBe(false);
    r.add(7, 2, 3); // touches both: [0,8)
    expect(r.covers(7, 0, 8)).toBe(true);
    expect(r.prefix(7)).toBe(8);
    r.add(7, 20, 1);
    r.add(7, 10, 2);
    r.add(7, 9, 12); // swallows [10,12) and [20,21): [0,8) [9,21)
    expect(r.covers(7, 9, 12)).toBe(true);
    expect(r.covers(7, 7, 3)).toBe(false);
    expect(r.covers(8, 0, 1)).toBe(false);
    expect(r.covers(8, 0, 0)).toBe(true);
  });

  it('ClockRanges agrees with a brute-force set on random adds (seeded)', () => {
    let seed = 20261125;
    const next = (n: number) => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return (seed >>> 8) % n;
    };
    const failures: string[] = [];
    for (let round = 0; round < 200; round++) {
      const r = new ClockRanges();
      const set = new Set<number>();
      for (let i = 0; i < 24; i++) {
        const clock = next(120);
        const len = 1 + next(4);
        r.add(1, clock, len);
        for (let k = clock; k < clock + len; k++) set.add(k);
        for (let q = 0; q < 20; q++) {
          const c = next(130);
          const l = 1 + next(10);
          let all = true;
          for (let k = c; k < c + l; k++) all &&= set.has(k);
          if (r.covers(1, c, l) !== all) failures.push(`round ${round} of seed 20261125: covers [${c}, ${c + l})`);
        }
        let prefix = 0;
        while (set.has(prefix)) prefix++;
        if (r.prefix(1) !== prefix) failures.push(`round ${round} of seed 20261125: prefix`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('DurableState: an update is covered once recorded; a later update of the same client, or a deletion, is not', () => {
    const doc = new Y.Doc();
    const log = doc.getArray<Uint8Array>('log');
    const updates: Uint8Array[] = [];
    doc.on('update', (u: Uint8Array) => updates.push(u));
    log.push([new Uint8Array([1])]);
    log.push([new Uint8Array([2]), new Uint8Array([3])]);
    const state = new DurableState();
    const first = rangesOf(updates[0]!);
    expect(state.covers(first)).toBe(false);
    state.record(first);
    expect(state.covers(first)).toBe(true);
    expect(state.covers(rangesOf(updates[1]!))).toBe(false);
    const sv = Y.decodeStateVector(Y.encodeStateVector(doc));
    expect(state.coversStateVector(sv)).toBe(false);
    state.record(rangesOf(updates[1]!));
    expect(state.coversStateVector(sv)).toBe(true);
    // The whole state again (a SyncStep2 after reconnect) adds nothing.
    expect(state.covers(rangesOf(Y.encodeStateAsUpdate(doc)))).toBe(true);
    log.delete(0, 1);
    expect(state.covers(rangesOf(updates[2]!))).toBe(false); // a deletion is content too
    expect(state.prefixVector(Y.decodeStateVector(Y.encodeStateVector(doc)))).toEqual(new Map([[doc.clientID, 3]]));
  });
});

describe('one instance, real PostgreSQL', () => {
  let srv: Awaited<ReturnType<typeof startSyncTestServer>>;
  let alice: TestUser, bob: TestUser;
  let admin: pg.Client;
  const providers: TestProvider[] = [];
  beforeAll(async () => {
    srv = await startSyncTestServer({ backend: 'postgres' });
    [alice, bob] = await registerUsers(srv.url, ['alice', 'bob']);
    admin = new pg.Client({ connectionString: srv.databaseUrl! });
    await admin.connect();
  });
  afterAll(async () => {
    for (const p of providers) p.destroy();
    await admin?.end();
    await srv?.close();
  });

  it('a member receives the frame while the commit is blocked; the sender’s acknowledgement waits for the row', async () => {
    const { conversation, key } = await createConversation(srv.url, alice, [bob]);
    const seg = openSegment(conversation);
    const b = connectProvider(srv.url, bob.token, seg);
    providers.push(b);
    await b.synced();
    const r = await RawClient.open(srv.url);
    expect(await r.authenticate(seg, alice.token)).toEqual({ ok: true, text: 'read-write' });
    r.syncStep1(seg);
    await r.next((m) => m.doc === seg && m.type === MSG.Sync && m.sub === 1);

    // Another real session holds a lock that blocks every INSERT into doc_updates (reads still work).
    const locker = new pg.Client({ connectionString: srv.databaseUrl! });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE doc_updates IN SHARE MODE');
    const frame = frameFor(alice, { convId: conversation.id, segmentId: seg }, key, 1, 'relayed before commit');
    const update = pushUpdate([frame]);
    const from = r.messages.length;
    r.update(seg, update);
    try {
      await waitFor(() => b.log.toArray().some((f) => hex(f) === hex(frame)), 5_000, 'relay to bob while the insert is blocked');
      await sleep(300);
      expect(r.messages.slice(from).filter((m) => m.type === MSG.SyncStatus)).toEqual([]);
      expect((await storedFrames(srv, seg)).has(hex(frame))).toBe(false);
      const blocked = await admin.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO doc_updates%'");
      expect(blocked.rows[0].n).toBeGreaterThanOrEqual(1);
    } finally {
      await locker.query('COMMIT');
      await locker.end();
    }
    const ack = await r.next((m) => m.doc === seg && m.type === MSG.SyncStatus, from);
    expect(ack.status).toBe(1);
    expect((await storedFrames(srv, seg)).has(hex(frame))).toBe(true);
    // The same update again is covered by what is durable: acknowledged at once, not stored twice.
    const rowsBefore = (await storedUpdates(srv, seg)).length;
    const again = r.messages.length;
    r.update(seg, update);
    expect((await r.next((m) => m.doc === seg && m.type === MSG.SyncStatus, again)).status).toBe(1);
    expect(await storedUpdates(srv, seg)).toHaveLength(rowsBefore);
    r.close();
  });

  it('a failed append is not acknowledged and closes the document; after recovery the re-synced client stores it', async () => {
    const { conversation, key } = await createConversation(srv.url, alice, [bob]);
    const seg = openSegment(conversation);
    const a = connectProvider(srv.url, alice.token, seg);
    const b = connectProvider(srv.url, bob.token, seg);
    providers.push(a, b);
    await Promise.all([a.synced(), b.synced()]);
    await a.acked();

    await admin.query(`CREATE OR REPLACE FUNCTION parley_test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'doc_updates refused by the test'; END $$`);
    await admin.query('CREATE TRIGGER parley_test_refuse BEFORE INSERT ON doc_updates FOR EACH ROW EXECUTE FUNCTION parley_test_refuse()');
    const frame = frameFor(alice, { convId: conversation.id, segmentId: seg }, key, 1, 'not durable yet');
    try {
      a.log.push([frame]);
      await waitFor(() => b.log.toArray().some((f) => hex(f) === hex(frame)), 5_000, 'relay despite the failing store');
      await waitFor(() => a.closes.includes('unavailable') && b.closes.includes('unavailable'), 5_000, 'the document’s connections closed');
      expect(a.provider.unsyncedChanges).toBe(1); // never acknowledged
      expect((await storedFrames(srv, seg)).has(hex(frame))).toBe(false);
      expect(srv.logs.some((l) => l.includes('"sync.store_failed"'))).toBe(true);
      expect(srv.logs.some((l) => l.includes('not durable yet'))).toBe(false);
    } finally {
      await admin.query('DROP TRIGGER parley_test_refuse ON doc_updates');
    }
    // The client re-syncs (a new attachment of the same envelope, as the client watchdog does after
    // "unavailable"): whether the server reloaded the document or still holds the frame in memory, the frame is
    // stored before the handshake is acknowledged.
    const again = connectProvider(srv.url, alice.token, seg, { doc: a.doc });
    providers.push(again);
    await again.synced();
    await again.acked();
    expect((await storedFrames(srv, seg)).has(hex(frame))).toBe(true);
  });
});

describe('two instances linked by Redis', () => {
  let db: TestDatabase;
  let one: Awaited<ReturnType<typeof startSyncTestServer>>;
  let two: Awaited<ReturnType<typeof startSyncTestServer>>;
  let admin: pg.Client;
  const providers: TestProvider[] = [];
  beforeAll(async () => {
    db = await createTestDatabase();
    const env = { JWT_SECRET: randomBytes(32).toString('base64url'), REDIS_URL };
    // Instance one's sessions carry an application_name, so a trigger can single out its writes.
    const url = new URL(db.url);
    url.searchParams.set('application_name', 'parley_one');
    one = await startSyncTestServer({ backend: 'postgres', databaseUrl: url.toString(), env });
    two = await startSyncTestServer({ backend: 'postgres', databaseUrl: db.url, env });
    admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
  });
  afterAll(async () => {
    for (const p of providers) p.destroy();
    await admin?.query('DROP TRIGGER IF EXISTS parley_test_stall ON doc_updates').catch(() => undefined);
    await admin?.end();
    await one?.close();
    await two?.close();
    await db?.drop();
  });

  it('content relayed over Redis but never committed by its origin is stored by the instance that acknowledges it', async () => {
    const [alice, bob] = await registerUsers(one.url, ['alice', 'bob']);
    const { conversation, key } = await createConversation(one.url, alice, [bob]);
    const seg = openSegment(conversation);
    const a = connectProvider(one.url, alice.token, seg);
    const b = connectProvider(two.url, bob.token, seg);
    providers.push(a, b);
    await Promise.all([a.synced(), b.synced()]);

    // Instance one "dies" between relay and commit: its insert stalls, then fails; it never commits.
    await admin.query(`CREATE OR REPLACE FUNCTION parley_test_stall() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF current_setting('application_name') = 'parley_one' THEN
          PERFORM pg_sleep(6);
          RAISE EXCEPTION 'instance one never commits';
        END IF;
        RETURN NEW;
      END $$`);
    await admin.query('CREATE TRIGGER parley_test_stall BEFORE INSERT ON doc_updates FOR EACH ROW EXECUTE FUNCTION parley_test_stall()');
    const frame = frameFor(alice, { convId: conversation.id, segmentId: seg }, key, 1, 'only in memory');
    const started = Date.now();
    a.log.push([frame]);
    await waitFor(() => b.log.toArray().some((f) => hex(f) === hex(frame)), 5_000, 'relay to instance two');
    expect(a.provider.unsyncedChanges).toBe(1);

    // Alice's device fails over to instance two, which holds the frame in memory (from Redis): its state
    // vector says so, so her SyncStep2 leaves the frame out. The acknowledgement must wait until instance two
    // has stored the frame itself.
    const aliceDoc = a.doc;
    a.destroy();
    const a2 = connectProvider(two.url, alice.token, seg, { doc: aliceDoc });
    providers.push(a2);
    await a2.synced();
    await a2.acked();
    expect(Date.now() - started).toBeLessThan(6_000); // before instance one's insert even gave up
    expect((await storedFrames(two, seg)).has(hex(frame))).toBe(true);

    // When instance one's insert finally fails, it closes the document on every instance ([SYNC-9]).
    await waitFor(() => b.closes.includes('unavailable') && a2.closes.includes('unavailable'), 15_000, 'instance two closes the document');
    expect(one.logs.some((l) => l.includes('"sync.store_failed"'))).toBe(true);
  });
});
