/**
 * Durability of synced documents (DESIGN §1.2 "nothing acknowledged is lost", §6 persistence): an
 * acknowledged update is in doc_updates; a restart restores the log; server-side compaction keeps every
 * live frame and frees deleted ones; the hot queries use indexes; a SIGKILLed server loses nothing it
 * acknowledged; a server that lost a document's rows is re-seeded by the next client (Yjs sync is
 * symmetric). Persistence runs against real PostgreSQL and embedded PGlite.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { compactDoc, DOC_UPDATE_SQL } from '../src/db/doc-updates.ts';
import { CONVERSATION_SQL } from '../src/db/conversations.ts';
import { PROFILE_SQL } from '../src/db/profiles.ts';
import { createTestDatabase, type TestDatabase } from './helpers/server.ts';
import {
  connectProvider,
  createConversation,
  frameFor,
  framesOf,
  openSegment,
  registerUsers,
  startSyncTestServer,
  storedUpdates,
  waitFor,
  type TestUser,
} from './sync/support.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

for (const backend of ['postgres', 'pglite'] as const) {
  describe(`persistence (${backend})`, () => {
    let srv: Awaited<ReturnType<typeof startSyncTestServer>>;
    let db: TestDatabase | null = null;
    let dataDir: string;
    const jwtSecret = randomBytes(32).toString('base64url');
    let alice: TestUser, bob: TestUser;
    const start = () =>
      startSyncTestServer({
        backend,
        dataDir,
        env: { JWT_SECRET: jwtSecret },
        syncLimits: { compactAfterRows: 5 },
        ...(db ? { databaseUrl: db.url } : {}),
      });

    beforeAll(async () => {
      dataDir = await mkdtemp(path.join(tmpdir(), 'parley-durability-'));
      if (backend === 'postgres') db = await createTestDatabase();
      srv = await start();
      [alice, bob] = await registerUsers(srv.url, ['alice', 'bob']);
    });
    afterAll(async () => {
      await srv?.close();
      await db?.drop();
      await rm(dataDir, { recursive: true, force: true });
    });

    it('an acknowledged update is in doc_updates; a restart on the same database restores the log', async () => {
      const { conversation, key } = await createConversation(srv.url, alice, [bob]);
      const seg = openSegment(conversation);
      const scope = { convId: conversation.id, segmentId: seg };
      const a = connectProvider(srv.url, alice.token, seg);
      await a.synced();
      const sent: Uint8Array[] = [];
      for (let i = 1; i <= 12; i++) {
        const f = frameFor(alice, scope, key, i, `message ${i}`);
        sent.push(f);
        a.log.push([f]);
        if (i % 4 === 0) {
          // The moment the provider sees the acknowledgement, the rows are already committed.
          await a.acked();
          expect(framesOf(await storedUpdates(srv, seg)).map(hex)).toEqual(sent.map(hex));
        }
      }
      a.destroy();
      await srv.close();

      srv = await start();
      const b = connectProvider(srv.url, bob.token, seg);
      await b.synced();
      expect(b.log.toArray().map(hex)).toEqual(sent.map(hex));
      b.destroy();
    });

    it('server-side compaction leaves one row with every live frame and frees the deleted frames’ bytes', async () => {
      const { conversation, key } = await createConversation(srv.url, alice, [bob]);
      const seg = openSegment(conversation);
      const scope = { convId: conversation.id, segmentId: seg };
      const a = connectProvider(srv.url, alice.token, seg);
      await a.synced();
      for (let i = 1; i <= 10; i++) {
        a.log.push([frameFor(alice, scope, key, i, randomBytes(1500).toString('base64'))]);
        await a.acked();
      }
      // A peer compaction: delete 8 frames, push one snapshot-sized frame, in one transaction.
      const snapshot = frameFor(alice, scope, key, 11, 'snapshot of 1..8');
      a.doc.transact(() => {
        a.log.delete(0, 8);
        a.log.push([snapshot]);
      });
      await a.acked();
      const live = a.log.toArray().map(hex);
      const rowsBefore = await storedUpdates(srv, seg);
      expect(rowsBefore.length).toBe(11);
      const bytesBefore = rowsBefore.reduce((n, r) => n + r.length, 0);
      const compactionsBefore = srv.server.metrics.compactions.get();

      // Last disconnect -> the pending store runs now -> structural compaction (rows >= compactAfterRows).
      a.destroy();
      await waitFor(async () => (await storedUpdates(srv, seg)).length === 1, 15_000, 'compaction');
      const [row] = await storedUpdates(srv, seg);
      expect(framesOf([row!]).map(hex)).toEqual(live);
      const liveBytes = live.reduce((n, f) => n + f.length / 2, 0);
      expect(row!.length).toBeLessThan(liveBytes + 400);
      expect(bytesBefore - row!.length).toBeGreaterThan(8 * 2000);
      expect(srv.server.metrics.compactions.get()).toBe(compactionsBefore + 1);

      // The compacted document still syncs, and appends after compaction land in new rows.
      const b = connectProvider(srv.url, bob.token, seg);
      await b.synced();
      expect(b.log.toArray().map(hex)).toEqual(live);
      b.log.push([frameFor(bob, scope, key, 1)]);
      await b.acked();
      expect(framesOf(await storedUpdates(srv, seg))).toHaveLength(live.length + 1);
      b.destroy();
    });

    it('compaction running concurrently with a stream of appends loses nothing', async () => {
      const { conversation, key } = await createConversation(srv.url, alice, [bob]);
      const seg = openSegment(conversation);
      const scope = { convId: conversation.id, segmentId: seg };
      const a = connectProvider(srv.url, alice.token, seg);
      await a.synced();
      const sent: Uint8Array[] = [];
      let compactions = 0;
      let streaming = true;
      const compactor = (async () => {
        while (streaming) {
          await compactDoc(srv.server.db, seg);
          compactions++;
          // PGlite runs in-process on microtasks only: yield, or this loop starves the event loop.
          await new Promise((r) => setTimeout(r, 2));
        }
      })();
      // At least 120 frames, and on until the compactor has run a few times alongside the stream (appends are
      // acknowledged quickly since relay and commit are decoupled, so a fixed count could end before it did).
      for (let i = 1; i <= 120 || (compactions < 3 && i <= 2_000); i++) {
        const f = frameFor(alice, scope, key, i);
        sent.push(f);
        a.log.push([f]);
        if (i % 10 === 0) await new Promise((r) => setTimeout(r, 5));
      }
      await a.acked(20_000);
      streaming = false;
      await compactor;
      expect(compactions).toBeGreaterThan(2);
      expect(new Set(framesOf(await storedUpdates(srv, seg)).map(hex))).toEqual(new Set(sent.map(hex)));
      await compactDoc(srv.server.db, seg);
      expect(await storedUpdates(srv, seg)).toHaveLength(1);
      expect(framesOf(await storedUpdates(srv, seg)).map(hex)).toEqual(a.log.toArray().map(hex));
      a.destroy();
    });

    it('a document whose rows were deleted on the server is re-seeded completely by the next client', async () => {
      const { conversation, key } = await createConversation(srv.url, alice, [bob]);
      const seg = openSegment(conversation);
      const scope = { convId: conversation.id, segmentId: seg };
      const a = connectProvider(srv.url, alice.token, seg);
      await a.synced();
      for (let i = 1; i <= 5; i++) a.log.push([frameFor(alice, scope, key, i)]);
      await a.acked();
      const aliceDoc = a.doc;
      const expected = a.log.toArray().map(hex);
      a.destroy();
      await waitFor(() => !srv.server.sync.hocuspocus.documents.has(seg), 10_000, 'document unloaded');

      // The server loses the document (e.g. restored from an old backup).
      await srv.query('DELETE FROM doc_updates WHERE doc = $1', [seg]);
      const empty = connectProvider(srv.url, bob.token, seg);
      await empty.synced();
      expect(empty.log.length).toBe(0);
      empty.destroy();
      await waitFor(() => !srv.server.sync.hocuspocus.documents.has(seg), 10_000, 'document unloaded');

      // Alice's device still has the envelope: reconnecting pushes what the server lacks.
      const again = connectProvider(srv.url, alice.token, seg, { doc: aliceDoc });
      await again.synced();
      await waitFor(async () => framesOf(await storedUpdates(srv, seg)).length === expected.length, 10_000, 're-seed');
      expect(framesOf(await storedUpdates(srv, seg)).map(hex)).toEqual(expected);
      again.destroy();
      const fresh = connectProvider(srv.url, bob.token, seg);
      await fresh.synced();
      expect(fresh.log.toArray().map(hex)).toEqual(expected);
      fresh.destroy();
    });

    it('GET /metrics shows the parley_sync_* counters moving after traffic', async () => {
      const read = async () => {
        const text = await (await fetch(`${srv.url}/metrics`)).text();
        const value = (name: string) => Number(new RegExp(`^${name.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? 'NaN');
        return {
          text,
          sync: value('parley_sync_messages_total{kind="sync"}'),
          stored: value('parley_sync_updates_stored_total'),
          bytes: value('parley_sync_stored_bytes_total'),
          latency: value('parley_sync_store_seconds_count'),
          connections: value('parley_sync_connections'),
        };
      };
      const before = await read();
      const { conversation, key } = await createConversation(srv.url, alice, [bob]);
      const seg = openSegment(conversation);
      const a = connectProvider(srv.url, alice.token, seg);
      await a.synced();
      a.log.push([frameFor(alice, { convId: conversation.id, segmentId: seg }, key, 1)]);
      await a.acked();
      const after = await read();
      expect(after.sync).toBeGreaterThan(Number.isNaN(before.sync) ? 0 : before.sync);
      expect(after.stored).toBeGreaterThan(before.stored);
      expect(after.bytes).toBeGreaterThan(before.bytes);
      expect(after.latency).toBeGreaterThan(before.latency);
      expect(after.connections).toBeGreaterThanOrEqual(1);
      expect(after.text).toContain('parley_sync_documents');
      // No ids, names or content in metrics.
      expect(after.text).not.toContain(seg);
      expect(after.text).not.toContain(alice.id);
      a.destroy();
    });
  });
}

describe('hot queries use indexes (PostgreSQL EXPLAIN, enable_seqscan = off)', () => {
  let db: TestDatabase;
  let srv: Awaited<ReturnType<typeof startSyncTestServer>>;
  let client: pg.Client;
  beforeAll(async () => {
    db = await createTestDatabase();
    srv = await startSyncTestServer({ backend: 'postgres', databaseUrl: db.url }); // runs the migrations
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
    // Realistic statistics: on empty tables every index costs the same and the planner's choice means
    // nothing. 2,000 users, 1,000 conversations of 5 (10% left), 2 segments each, wraps, 20,000 updates.
    await client.query(`
      INSERT INTO users (id, username, username_key, salt, kdf, auth_hash, recovery_hash, identity_key, sealing_key, sealing_sig, account_bundle, recovery_bundle)
        SELECT gen_random_uuid(), 'user' || i, 'user' || i, decode(repeat('00', 16), 'hex'), '{}', '$argon2id$x', '$argon2id$x',
               decode(repeat('01', 32), 'hex'), decode(repeat('02', 32), 'hex'), decode(repeat('03', 64), 'hex'), '\\x00', '\\x00'
        FROM generate_series(1, 2000) i;
      CREATE TEMP TABLE u AS SELECT id, row_number() OVER (ORDER BY id) AS n FROM users;
      INSERT INTO conversations (id, kind, created_by) SELECT gen_random_uuid(), 'group', (SELECT id FROM u WHERE n = 1) FROM generate_series(1, 1000);
      CREATE TEMP TABLE c AS SELECT id, row_number() OVER (ORDER BY id) AS n FROM conversations;
      INSERT INTO conversation_members (conv_id, user_id, role, joined_epoch, left_at)
        SELECT c.id, u.id, CASE WHEN k = 0 THEN 'admin' ELSE 'member' END, 0, CASE WHEN k = 4 AND c.n % 10 = 0 THEN now() END
        FROM c CROSS JOIN generate_series(0, 4) k JOIN u ON u.n = ((c.n * 7 + k * 401) % 2000) + 1;
      INSERT INTO segments (id, conv_id, idx, epoch, state)
        SELECT 's_' || md5(c.id::text || k), c.id, k, 0, CASE WHEN k = 0 THEN 'closed' ELSE 'open' END FROM c CROSS JOIN generate_series(0, 1) k;
      INSERT INTO epochs (conv_id, epoch, key_commitment, creator_id) SELECT c.id, 0, decode(repeat('04', 32), 'hex'), (SELECT id FROM u WHERE n = 1) FROM c;
      INSERT INTO key_wraps (conv_id, epoch, recipient_id, wrapper_id, wrap, sig)
        SELECT m.conv_id, 0, m.user_id, m.user_id, decode(repeat('05', 100), 'hex'), decode(repeat('06', 64), 'hex') FROM conversation_members m;
      INSERT INTO profile_key_wraps (owner_id, recipient_id, version, wrap, sig)
        SELECT a.id, b.id, 0, decode(repeat('05', 100), 'hex'), decode(repeat('06', 64), 'hex') FROM u a JOIN u b ON b.n = (a.n % 2000) + 1;
      INSERT INTO doc_updates (doc, update) SELECT 's_' || md5(c.id::text || (i % 2)), '\\x0000' FROM c CROSS JOIN generate_series(1, 20) i;
      ANALYZE;
    `);
    await client.query('SET enable_seqscan = off');
  });
  afterAll(async () => {
    await client?.end();
    await srv?.close();
    await db?.drop();
  });

  const uuid = '00000000-0000-4000-8000-000000000001';
  const seg = 's_' + '0'.repeat(32);
  // Every read and keyed write on a hot path, with representative parameters.
  const QUERIES: [string, string, unknown[]][] = [
    ['doc_updates.load', DOC_UPDATE_SQL.load, [seg]],
    ['doc_updates.count', DOC_UPDATE_SQL.count, [seg]],
    ['doc_updates.deleteRead', DOC_UPDATE_SQL.deleteRead, [seg, ['10', '11']]],
    ['doc_updates.deleteDoc', DOC_UPDATE_SQL.deleteDoc, [seg]],
    ['membership', CONVERSATION_SQL.membership, [uuid, uuid]],
    ['findDirect', CONVERSATION_SQL.findDirect, [`${uuid}:${uuid}`]],
    ['lockConversation', CONVERSATION_SQL.lockConversation, [uuid]],
    ['listIdsForUser', CONVERSATION_SQL.listIdsForUser, [uuid]],
    ['conversationsByIds', CONVERSATION_SQL.conversationsByIds, [[uuid]]],
    ['membersOf', CONVERSATION_SQL.membersOf, [[uuid]]],
    ['memberIds', CONVERSATION_SQL.memberIds, [uuid]],
    ['segmentsOf', CONVERSATION_SQL.segmentsOf, [[uuid]]],
    ['segmentById', CONVERSATION_SQL.segmentById, [seg]],
    ['openSegment', CONVERSATION_SQL.openSegment, [uuid]],
    ['closeSegment', CONVERSATION_SQL.closeSegment, [seg]],
    ['nextSegment', CONVERSATION_SQL.nextSegment, [uuid]],
    ['promoteSegment', CONVERSATION_SQL.promoteSegment, [uuid]],
    ['closeNextSegment', CONVERSATION_SQL.closeNextSegment, [uuid]],
    ['epochRow', CONVERSATION_SQL.epochRow, [uuid, 0]],
    ['setEpoch', CONVERSATION_SQL.setEpoch, [uuid, 1]],
    ['markRotationDue', CONVERSATION_SQL.markRotationDue, [uuid]],
    ['leave', CONVERSATION_SQL.leave, [uuid, uuid]],
    ['setRole', CONVERSATION_SQL.setRole, [uuid, uuid, 'admin']],
    ['countAdmins', CONVERSATION_SQL.countAdmins, [uuid]],
    ['wrapsForUser', CONVERSATION_SQL.wrapsForUser, [uuid, uuid]],
    ['missingWraps', CONVERSATION_SQL.missingWraps, [uuid]],
    ['touch', CONVERSATION_SQL.touch, [uuid]],
    ['contactsOf', CONVERSATION_SQL.contactsOf, [uuid]],
    ['shareConversation', CONVERSATION_SQL.shareConversation, [uuid, uuid]],
    ['profile wraps for a recipient', PROFILE_SQL.latestForRecipient, [uuid]],
    ['profileWrapsFor', CONVERSATION_SQL.profileWrapsFor, [uuid]],
  ];

  /** index name -> its leading column. */
  const leading = new Map<string, string>();
  beforeAll(async () => {
    const r = await client.query(`SELECT i.relname AS index, a.attname AS col FROM pg_index x
      JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[0]
      JOIN pg_namespace n ON n.oid = i.relnamespace WHERE n.nspname = 'public'`);
    for (const row of r.rows as { index: string; col: string }[]) leading.set(row.index, row.col);
  });

  function scans(plan: Record<string, unknown>, out: string[] = []): string[] {
    const type = String(plan['Node Type']);
    if (/Scan/.test(type)) {
      // An index scan is a lookup only when its condition constrains the index's LEADING column;
      // otherwise PostgreSQL walks the whole index, which is a scan in disguise.
      const index = plan['Index Name'] === undefined ? undefined : String(plan['Index Name']);
      const cond = String(plan['Index Cond'] ?? '');
      const col = index === undefined ? undefined : leading.get(index);
      const lookup = index !== undefined && (col === undefined || !new RegExp(`\\b${col} = `).test(cond)) ? ` WITHOUT a condition on ${col ?? '?'} (full index walk: ${cond})` : '';
      out.push(`${type}${plan['Relation Name'] ? ` on ${String(plan['Relation Name'])}` : ''}${plan['Index Name'] ? ` using ${String(plan['Index Name'])}` : ''}${lookup}`);
    }
    for (const child of (plan['Plans'] as Record<string, unknown>[] | undefined) ?? []) scans(child, out);
    return out;
  }

  it.each(QUERIES)('%s uses index scans only', async (_name, sql, params) => {
    await client.query('BEGIN');
    try {
      const r = await client.query(`EXPLAIN (FORMAT JSON) ${sql}`, params);
      const plan = (r.rows[0] as { 'QUERY PLAN': { Plan: Record<string, unknown> }[] })['QUERY PLAN'][0]!.Plan;
      const found = scans(plan);
      expect(found.length).toBeGreaterThan(0);
      if (process.env['PARLEY_PRINT_PLANS']) console.log(_name, found.join(', '));
      expect(found.filter((s) => s.startsWith('Seq Scan') || s.includes('WITHOUT a condition')), found.join(', ')).toEqual([]);
    } finally {
      await client.query('ROLLBACK');
    }
  });

  it('every query exported by the storage modules is either checked above or an INSERT', () => {
    const checked = new Set(QUERIES.map(([, sql]) => sql));
    const all = [...Object.values(DOC_UPDATE_SQL), ...Object.values(CONVERSATION_SQL), ...Object.values(PROFILE_SQL)];
    const unchecked = all.filter((sql) => !checked.has(sql) && !/^\s*INSERT/i.test(sql) && !/pg_advisory/.test(sql));
    expect(unchecked).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------------

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/**
 * `node --import tsx sync-server/src/main.ts` as a DIRECT child, ready when /readyz answers. Not
 * `node tsx/dist/cli.mjs …`: the tsx CLI runs the script in a grandchild and relays only catchable
 * signals, so SIGKILL would kill the CLI and leave the real server running (and persisting) as an orphan.
 */
async function spawnServer(env: Record<string, string>): Promise<{ url: string; child: ChildProcess; log: string[] }> {
  const port = await freePort();
  const log: string[] = [];
  const child = spawn(process.execPath, ['--import', 'tsx', 'sync-server/src/main.ts'], {
    cwd: repoRoot,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d: Buffer) => log.push(d.toString()));
  child.stderr?.on('data', (d: Buffer) => log.push(d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${log.join('')}`);
    try {
      if ((await fetch(`${url}/readyz`)).ok) return { url, child, log };
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`server not ready:\n${log.join('')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('crash safety', () => {
  let db: TestDatabase;
  let dataDir: string;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    db = await createTestDatabase();
    dataDir = await mkdtemp(path.join(tmpdir(), 'parley-crash-'));
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await db?.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('SIGKILL while a client keeps pushing: every acknowledged frame is in the database after restart', async () => {
    const env = { DATABASE_URL: db.url, JWT_SECRET: randomBytes(32).toString('base64url'), DATA_DIR: dataDir };
    const first = await spawnServer(env);
    children.push(first.child);
    const [alice, bob] = await registerUsers(first.url, ['alice', 'bob']);
    const { conversation, key } = await createConversation(first.url, alice, [bob]);
    const seg = openSegment(conversation);
    const scope = { convId: conversation.id, segmentId: seg };
    const a = connectProvider(first.url, alice.token, seg);
    await a.synced();

    // Pipelined pushes: the server handles a connection's messages in order, so when `unsyncedChanges`
    // is n after `pushed` sends, the first `pushed - n` frames are acknowledged.
    const sent: Uint8Array[] = [];
    let acked = 0;
    let tracking = true;
    a.provider.on('unsyncedChanges', ({ number }: { number: number }) => {
      // (startSync after a reconnect resets the count: only trust it while the first server is alive.)
      if (tracking) acked = Math.max(acked, sent.length - number);
    });
    let counter = 0;
    const pusher = setInterval(() => {
      const f = frameFor(alice, scope, key, ++counter, randomBytes(200).toString('base64'));
      sent.push(f);
      a.log.push([f]);
    }, 3);
    await waitFor(() => acked >= 150, 30_000, '150 acknowledged frames');
    tracking = false;
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
    clearInterval(pusher);
    const ackedFrames = sent.slice(0, acked);
    // Stop the client before the restart, so it cannot re-upload anything and hide a loss.
    a.destroy();

    const second = await spawnServer(env);
    children.push(second.child);
    const check = new pg.Client({ connectionString: db.url });
    await check.connect();
    try {
      const rows = await check.query('SELECT update FROM doc_updates WHERE doc = $1 ORDER BY seq', [seg]);
      const stored = new Set(framesOf(rows.rows.map((r: { update: Buffer }) => new Uint8Array(r.update))).map(hex));
      const missing = ackedFrames.filter((f) => !stored.has(hex(f)));
      expect(missing.length, `${missing.length} of ${ackedFrames.length} acknowledged frames lost (sent ${sent.length})`).toBe(0);
    } finally {
      await check.end();
    }
    // And the restarted server serves them to another member.
    const b = connectProvider(second.url, bob.token, seg, { doc: new Y.Doc() });
    await b.synced();
    const seen = new Set(b.log.toArray().map(hex));
    expect(ackedFrames.every((f) => seen.has(hex(f)))).toBe(true);
    b.destroy();
    second.child.kill('SIGTERM');
    await new Promise((r) => second.child.once('exit', r));
  });
});
