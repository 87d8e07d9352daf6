/**
 * Group commit of the sync server's appends (`UpdateAppender`, docs/protocol.md [SYNC-5]) against real
 * PostgreSQL and embedded PGlite. Statements are counted through a thin wrapper around the real database's
 * `query` (every statement still runs); failures and slow commits are real (a CHECK constraint of the
 * migration, a table lock held by another PostgreSQL session). Covered:
 * - concurrent appends to several documents all land, each document's rows in call order (seq);
 * - appends made while a statement is in flight go together in the next one; an idle appender starts at once;
 * - a batch respects its row and byte limits (a single larger update still goes, alone);
 * - a failing statement rejects every caller of its batch, and later appends still work;
 * - no caller resolves before the statement holding its row has returned (committed), and on PostgreSQL the
 *   row is visible from another session the moment its promise resolves.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Database, Queryable } from '../src/db/database.ts';
import { DOC_UPDATE_SQL, UpdateAppender, type AppendBatchLimits } from '../src/db/doc-updates.ts';
import { backendDatabase } from './helpers/database.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const newDoc = () => 's_' + randomBytes(16).toString('hex');

/** One append statement seen by `counting`: its rows, and whether the real query has returned yet. */
interface Statement {
  docs: string[];
  updates: Buffer[];
  returned: boolean;
}

/** The real database, with every append statement recorded (and still run). */
function counting(db: Queryable): { db: Queryable; statements: Statement[] } {
  const statements: Statement[] = [];
  return {
    statements,
    db: {
      query(sql, params) {
        const result = db.query(sql, params);
        if (sql !== DOC_UPDATE_SQL.appendBatch) return result;
        const s: Statement = { docs: params?.[0] as string[], updates: params?.[1] as Buffer[], returned: false };
        statements.push(s);
        const mark = () => {
          s.returned = true;
        };
        result.then(mark, mark);
        return result;
      },
    },
  };
}

/** An update of `size` bytes whose first 4 bytes are `n` (the bytes are opaque to the appender). */
function updateOf(n: number, size = 16): Uint8Array {
  const u = randomBytes(Math.max(size, 4));
  u.writeUInt32BE(n, 0);
  return new Uint8Array(u.buffer, u.byteOffset, u.byteLength);
}

/** Deterministic generator for the document each call goes to. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe.each(['postgres', 'pglite'] as const)('group commit on %s', (backend) => {
  const database = backendDatabase(backend, 'group-commit');
  let db: Database;
  beforeEach(() => {
    db = database.db;
  });

  const rowsOf = async (doc: string): Promise<string[]> =>
    (await db.query('SELECT update FROM doc_updates WHERE doc = $1 ORDER BY seq', [doc])).rows.map((r) => hex(r.update as Buffer));

  it('concurrent appends to several documents all land, each document’s rows in call order', async () => {
    const { db: wrapped, statements } = counting(db);
    const appender = new UpdateAppender(wrapped);
    const docs = Array.from({ length: 5 }, newDoc);
    const expected = new Map<string, string[]>(docs.map((d) => [d, []]));
    const random = lcg(0x5eed);
    const calls: Promise<number>[] = [];
    for (let i = 0; i < 400; i++) {
      const doc = docs[Math.floor(random() * docs.length)]!;
      const update = updateOf(i, 4 + Math.floor(random() * 300));
      expected.get(doc)!.push(hex(update));
      calls.push(appender.append(doc, update));
      // Let statements start and finish in the middle of the stream, not only at its ends.
      if (i % 37 === 36) await new Promise((r) => setImmediate(r));
    }
    await Promise.all(calls);
    for (const doc of docs) expect(await rowsOf(doc)).toEqual(expected.get(doc));
    expect(statements.reduce((n, s) => n + s.docs.length, 0)).toBe(400);
    expect(statements.length).toBeLessThan(400 / 4);
  });

  it('appends made while a statement is in flight go together in the next one; an idle appender starts at once', async () => {
    const { db: wrapped, statements } = counting(db);
    const appender = new UpdateAppender(wrapped);
    const docs = [newDoc(), newDoc(), newDoc()];
    const lone = updateOf(0);
    const first = appender.append(docs[0]!, lone);
    // No timer, no added delay: the lone append's statement was sent before append() returned.
    expect(statements).toHaveLength(1);
    const queued: Promise<number>[] = [];
    const expected = new Map<string, string[]>(docs.map((d) => [d, []]));
    for (let i = 1; i <= 60; i++) {
      const doc = docs[i % 3]!;
      const update = updateOf(i);
      expected.get(doc)!.push(hex(update));
      queued.push(appender.append(doc, update));
    }
    expect(statements).toHaveLength(1); // all 60 wait for the first statement
    expect(await first).toBe(1);
    expect(await Promise.all(queued)).toEqual(queued.map(() => 60));
    expect(statements.map((s) => s.docs.length)).toEqual([1, 60]);
    expected.get(docs[0]!)!.unshift(hex(lone));
    for (const doc of docs) expect(await rowsOf(doc)).toEqual(expected.get(doc));

    // Idle again: the next lone append goes at once, in a statement of its own.
    const later = appender.append(docs[1]!, updateOf(99));
    expect(statements).toHaveLength(3);
    expect(await later).toBe(1);
  });

  it('a batch stays within its row and byte limits; an update larger than the byte limit goes alone', async () => {
    const { db: wrapped, statements } = counting(db);
    const limits: AppendBatchLimits = { maxRows: 7, maxBytes: 2_000 };
    const appender = new UpdateAppender(wrapped, limits);
    const doc = newDoc();
    const sizes = [10, ...Array.from({ length: 40 }, (_, i) => (i === 17 ? 5_000 : 100 + ((i * 97) % 400)))];
    const updates = sizes.map((size, i) => updateOf(i, size));
    await Promise.all(updates.map((u) => appender.append(doc, u)));
    expect(await rowsOf(doc)).toEqual(updates.map(hex));
    for (const s of statements) {
      expect(s.docs.length).toBeLessThanOrEqual(limits.maxRows);
      const bytes = s.updates.reduce((n, u) => n + u.length, 0);
      if (s.docs.length > 1) expect(bytes).toBeLessThanOrEqual(limits.maxBytes);
    }
    expect(statements.find((s) => s.updates.some((u) => u.length === 5_000))?.docs).toHaveLength(1);
    // Greedy: a batch closes only when the next queued update would not fit.
    const queuedSizes = sizes.slice(1);
    let at = 0;
    for (const s of statements.slice(1)) {
      at += s.docs.length;
      const next = queuedSizes[at];
      if (next === undefined) break;
      const bytes = s.updates.reduce((n, u) => n + u.length, 0);
      expect(s.docs.length === limits.maxRows || bytes + next > limits.maxBytes).toBe(true);
    }
  });

  it('a failing statement rejects every caller of its batch, stores none of it, and later appends still work', async () => {
    const { db: wrapped, statements } = counting(db);
    const appender = new UpdateAppender(wrapped);
    const [ok, a, b] = [newDoc(), newDoc(), newDoc()];
    const tooLong = 's_' + 'f'.repeat(39); // 41 characters: the migration's CHECK (char_length(doc) <= 40)
    const first = appender.append(ok, updateOf(1));
    const batch = [appender.append(a, updateOf(2)), appender.append(tooLong, updateOf(3)), appender.append(b, updateOf(4))];
    await expect(first).resolves.toBe(1);
    const settled = await Promise.allSettled(batch);
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected', 'rejected']);
    const reasons = settled.map((s) => (s.status === 'rejected' ? (s.reason as { code?: string }) : null));
    for (const reason of reasons) expect(reason).toMatchObject({ code: '23514' }); // check_violation
    expect(new Set(reasons).size).toBe(1); // the statement's one error, given to every caller
    expect(statements.map((s) => s.docs.length)).toEqual([1, 3]);
    expect(await rowsOf(ok)).toHaveLength(1);
    expect(await rowsOf(a)).toEqual([]);
    expect(await rowsOf(b)).toEqual([]);

    const again = updateOf(5);
    await expect(appender.append(a, again)).resolves.toBe(1);
    expect(await rowsOf(a)).toEqual([hex(again)]);
  });

  it('no caller resolves before the statement holding its row has returned', async () => {
    const { db: wrapped, statements } = counting(db);
    const appender = new UpdateAppender(wrapped);
    const doc = newDoc();
    const early: number[] = [];
    const calls = Array.from({ length: 30 }, (_, i) =>
      appender.append(doc, updateOf(i)).then(() => {
        const mine = statements.find((s) => s.updates.some((u) => u.readUInt32BE(0) === i));
        if (!mine?.returned) early.push(i);
      }),
    );
    await Promise.all(calls);
    expect(early).toEqual([]);
    expect(await rowsOf(doc)).toHaveLength(30);
  });

  it.runIf(backend === 'postgres')('postgres: while the statement waits on a lock nobody resolves; each row is visible to another session when its promise resolves', async () => {
    const appender = new UpdateAppender(db);
    const doc = newDoc();
    const locker = new pg.Client({ connectionString: database.url! });
    const reader = new pg.Pool({ connectionString: database.url!, max: 4 }); // checks run concurrently, as promises resolve
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE doc_updates IN SHARE MODE'); // blocks every INSERT, not reads
      const resolved: number[] = [];
      const visible: boolean[] = [];
      const calls: Promise<void>[] = [];
      const start = (i: number) => {
        const update = updateOf(i);
        calls.push(
          appender.append(doc, update).then(async () => {
            resolved.push(i);
            const r = await reader.query('SELECT count(*)::int AS n FROM doc_updates WHERE doc = $1 AND update = $2', [doc, Buffer.from(update)]);
            visible[i] = r.rows[0].n === 1;
          }),
        );
      };
      start(0); // in flight, blocked by the lock
      for (let i = 1; i < 20; i++) start(i); // queued behind it
      for (let i = 0; ; i++) {
        const waiting = await reader.query(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO doc_updates%'",
        );
        if (waiting.rows[0].n >= 1) break;
        if (i > 250) throw new Error('the append statement never waited on the lock');
        await sleep(20);
      }
      await sleep(200);
      expect(resolved).toEqual([]);
      expect((await reader.query('SELECT count(*)::int AS n FROM doc_updates WHERE doc = $1', [doc])).rows[0].n).toBe(0);
      await locker.query('COMMIT');
      await Promise.all(calls);
      expect(resolved.sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i));
      expect(visible).toEqual(Array.from({ length: 20 }, () => true));
    } finally {
      await locker.query('ROLLBACK').catch(() => undefined);
      await Promise.all([locker.end(), reader.end()]);
    }
  });
});
