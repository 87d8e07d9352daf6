/**
 * The append-only update log of synced documents (`doc_updates`). The server stores envelope updates as
 * opaque Yjs updates of ciphertext frames; it can merge and garbage-collect them structurally without keys.
 */
import * as Y from 'yjs';
import { z } from 'zod';
import type { Database, Queryable } from './database.ts';

/** The SQL this module runs, exported so the EXPLAIN test checks the real statements. */
export const DOC_UPDATE_SQL = {
  // Group commit (UpdateAppender): one statement for a batch of rows of any documents. The seq default
  // (nextval) is evaluated above the ordered SELECT (EXPLAIN VERBOSE), so seqs follow the array order.
  appendBatch:
    'INSERT INTO doc_updates (doc, update) SELECT d, u FROM unnest($1::text[], $2::bytea[]) WITH ORDINALITY AS t(d, u, o) ORDER BY o',
  load: 'SELECT seq, update FROM doc_updates WHERE doc = $1 ORDER BY seq',
  count: 'SELECT count(*)::int AS n, coalesce(sum(octet_length(update)), 0)::bigint AS bytes FROM doc_updates WHERE doc = $1',
  lock: 'SELECT pg_advisory_xact_lock(hashtext($1))',
  // Exactly the rows the compaction read: with appends in flight, a row whose seq was taken earlier can
  // commit after the read, and a range delete (seq <= max) would remove it unmerged.
  deleteRead: 'DELETE FROM doc_updates WHERE doc = $1 AND seq = ANY($2::bigint[])',
  insertAt: 'INSERT INTO doc_updates (doc, seq, update) VALUES ($1, $2, $3)',
  deleteDoc: 'DELETE FROM doc_updates WHERE doc = $1',
} as const;

const Row = z.object({ seq: z.string(), update: z.instanceof(Buffer) }).strict();

/** Bounds of one group-commit statement (`UpdateAppender`). */
export interface AppendBatchLimits {
  /** Most rows in one statement. */
  readonly maxRows: number;
  /** Most update bytes in one statement (a single larger update still goes, alone). */
  readonly maxBytes: number;
}

/**
 * 500 rows / 8 MiB: one statement stays bounded in memory (the bytea[] parameter travels as hex text, about
 * twice the update bytes) and in time, while a burst far above the server's rate still needs few statements.
 */
export const DEFAULT_APPEND_BATCH_LIMITS: AppendBatchLimits = Object.freeze({ maxRows: 500, maxBytes: 8 * 1024 * 1024 });

interface PendingAppend {
  readonly doc: string;
  readonly update: Uint8Array;
  readonly resolve: (rows: number) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Group commit of `doc_updates` appends. At most one append statement of this appender is in flight; appends
 * (of any document) called meanwhile queue, and when it finishes everything queued goes in ONE statement
 * (`DOC_UPDATE_SQL.appendBatch`, up to `limits` per statement). There is no timer: an append made while
 * nothing is in flight starts at once, so a lone update waits no longer than before; under load, many updates
 * share one round trip, one write and one commit (one WAL flush) instead of one each.
 *
 * Guarantees:
 * - `append` resolves only after the statement holding its row has committed (an autocommitted INSERT): the
 *   caller may then acknowledge the update ("nothing acknowledged is lost");
 * - when that statement fails, every `append` of it rejects with the statement's error (nothing of the batch
 *   is stored: one statement is atomic), and the next queued appends go in a new statement;
 * - rows get seq values in call order, within a batch (`WITH ORDINALITY ... ORDER BY o`) and across batches
 *   (the next statement starts after the previous one committed), so loads `ORDER BY seq` merge a document's
 *   updates in the order they were appended.
 *
 * Use one appender per `Database` (the sync server creates one): two appenders would each keep their own
 * statement in flight.
 */
export class UpdateAppender {
  readonly #db: Queryable;
  readonly #limits: AppendBatchLimits;
  #queue: PendingAppend[] = [];
  #running = false;

  constructor(db: Queryable, limits: AppendBatchLimits = DEFAULT_APPEND_BATCH_LIMITS) {
    if (!(limits.maxRows >= 1 && limits.maxBytes >= 1)) throw new RangeError('append batch limits must be at least 1');
    this.#db = db;
    this.#limits = limits;
  }

  /**
   * Appends one update to `doc`'s rows. Resolves, with the number of rows its statement inserted, once the
   * row is committed; rejects with the database error when its statement fails.
   */
  append(doc: string, update: Uint8Array): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      this.#queue.push({ doc, update, resolve, reject });
      if (!this.#running) void this.#drain();
    });
  }

  /** Runs statements until the queue is empty; each one takes what queued while the previous one ran. */
  async #drain(): Promise<void> {
    this.#running = true;
    try {
      while (this.#queue.length > 0) {
        const batch = this.#takeBatch();
        try {
          await this.#db.query(DOC_UPDATE_SQL.appendBatch, [
            batch.map((p) => p.doc),
            batch.map((p) => Buffer.from(p.update.buffer, p.update.byteOffset, p.update.byteLength)),
          ]);
        } catch (error) {
          for (const p of batch) p.reject(error);
          continue;
        }
        for (const p of batch) p.resolve(batch.length);
      }
    } finally {
      this.#running = false;
    }
  }

  /** The oldest queued appends that fit the limits (always at least one). */
  #takeBatch(): PendingAppend[] {
    let rows = 0;
    let bytes = 0;
    for (const p of this.#queue) {
      if (rows > 0 && (rows === this.#limits.maxRows || bytes + p.update.byteLength > this.#limits.maxBytes)) break;
      rows++;
      bytes += p.update.byteLength;
    }
    return this.#queue.splice(0, rows);
  }
}

/** Loads a document's updates merged into one (null when the document has no rows). */
export async function loadMerged(db: Queryable, doc: string): Promise<{ update: Uint8Array; rows: number; maxSeq: string } | null> {
  const rows = (await db.query(DOC_UPDATE_SQL.load, [doc])).rows.map((r) => Row.parse(r));
  if (rows.length === 0) return null;
  const updates = rows.map((r) => new Uint8Array(r.update.buffer, r.update.byteOffset, r.update.byteLength));
  return { update: updates.length === 1 ? updates[0]! : Y.mergeUpdates(updates), rows: rows.length, maxSeq: rows[rows.length - 1]!.seq };
}

/** Row count and stored bytes of a document. */
export async function docStats(db: Queryable, doc: string): Promise<{ rows: number; bytes: number }> {
  const r = z.object({ n: z.number(), bytes: z.string() }).parse((await db.query(DOC_UPDATE_SQL.count, [doc])).rows[0]);
  return { rows: r.n, bytes: Number(r.bytes) };
}

/**
 * Server-side structural compaction: under a per-document advisory lock, loads the rows into a GC-enabled
 * Y.Doc (which frees the content of frames that peers deleted at compaction), and replaces them with one
 * row at the highest seq read. Only the rows read are deleted: an append committed meanwhile stays (whatever its
 * seq), and merging is idempotent.
 * Computed from the rows, never from an instance's in-memory document. Returns the rows replaced.
 */
export async function compactDoc(db: Database, doc: string): Promise<{ before: number; bytesBefore: number; bytesAfter: number }> {
  return db.withTransaction(async (tx) => {
    await tx.query(DOC_UPDATE_SQL.lock, [doc]);
    const rows = (await tx.query(DOC_UPDATE_SQL.load, [doc])).rows.map((r) => Row.parse(r));
    if (rows.length <= 1) {
      const bytes = rows[0]?.update.length ?? 0;
      return { before: rows.length, bytesBefore: bytes, bytesAfter: bytes };
    }
    const ydoc = new Y.Doc({ gc: true });
    let bytesBefore = 0;
    Y.transact(ydoc, () => {
      for (const r of rows) {
        bytesBefore += r.update.length;
        Y.applyUpdate(ydoc, new Uint8Array(r.update.buffer, r.update.byteOffset, r.update.byteLength));
      }
    });
    const merged = Y.encodeStateAsUpdate(ydoc);
    ydoc.destroy();
    const maxSeq = rows[rows.length - 1]!.seq;
    await tx.query(DOC_UPDATE_SQL.deleteRead, [doc, rows.map((r) => r.seq)]);
    await tx.query(DOC_UPDATE_SQL.insertAt, [doc, maxSeq, Buffer.from(merged)]);
    return { before: rows.length, bytesBefore, bytesAfter: merged.length };
  });
}

/** Deletes every stored update of a document (operator tooling and the re-seed test). */
export async function deleteDoc(db: Queryable, doc: string): Promise<number> {
  return (await db.query(DOC_UPDATE_SQL.deleteDoc, [doc])).rowCount ?? 0;
}
