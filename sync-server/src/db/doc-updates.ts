/**
 * The append-only update log of synced documents (`doc_updates`). The server stores envelope updates as
 * opaque Yjs updates of ciphertext frames; it can merge and garbage-collect them structurally without keys.
 */
import * as Y from 'yjs';
import { z } from 'zod';
import type { Database, Queryable } from './database.ts';

/** The SQL this module runs, exported so the EXPLAIN test checks the real statements. */
export const DOC_UPDATE_SQL = {
  append: 'INSERT INTO doc_updates (doc, update) VALUES ($1, $2) RETURNING seq',
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

/** Appends one update; resolves once it is committed (the caller may then acknowledge it). */
export async function appendUpdate(db: Queryable, doc: string, update: Uint8Array): Promise<void> {
  await db.query(DOC_UPDATE_SQL.append, [doc, Buffer.from(update.buffer, update.byteOffset, update.byteLength)]);
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
