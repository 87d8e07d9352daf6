/**
 * Blob lifecycle and authorisation (docs/api.md "Blobs"): reserve under the size limit and the owner's
 * quota, receive chunks of exactly the layout's lengths, complete, attach/detach references, stream to
 * current members, and garbage-collect. All SQL for the `blobs` and `blob_refs` tables lives here
 * (chunk bytes go through the `BlobStore`); rows are parsed with zod before use.
 *
 * Visibility rule: a blob id the caller may not see is `not_found`, exactly like an unknown id, so ids
 * cannot be probed. Only current members of the blob's conversation see a complete blob; only the owner
 * sees (and writes) an upload in progress.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { AppError, BLOB_CHUNK_BYTES, BLOB_CHUNK_OVERHEAD, blobChunkSize, type BlobStatus, type ByteRange, type CreateBlobRequest } from '@parley/shared/protocol';
import type { Database, Queryable } from '../db/database.ts';
import { getMembership } from '../db/conversations.ts';
import type { Logger } from '../log.ts';
import type { Counter, Metrics } from '../metrics.ts';
import type { BlobStore } from './store.ts';
import { runPeriodically } from '../periodic.ts';

/** Limits from the configuration. */
export interface BlobLimits {
  /** Largest file (plaintext bytes, derived exactly from the sealed layout) one blob may hold. */
  maxBytes: number;
  /** Most sealed bytes one user may have stored (uploads in progress included). */
  quotaBytes: number;
  /** Seconds an unattached or incomplete blob is kept before garbage collection. */
  graceSeconds: number;
}

/** The SQL this module runs, exported so the EXPLAIN test checks the real statements. */
export const BLOB_SQL = {
  quotaLock: 'SELECT pg_advisory_xact_lock($1, hashtext($2))',
  usedBytes: 'SELECT coalesce(sum(size), 0)::bigint AS used FROM blobs WHERE owner_id = $1',
  insert: 'INSERT INTO blobs (id, owner_id, conv_id, size, chunk_count) VALUES ($1, $2, $3, $4, $5)',
  byId: 'SELECT id, owner_id, conv_id, size, chunk_count, state FROM blobs WHERE id = $1',
  /** The caller's open upload, and whether its grace clock was last restarted over $3 seconds ago. */
  openUpload: `SELECT size, chunk_count, updated_at < now() - make_interval(secs => $3) AS stale
               FROM blobs WHERE id = $1 AND owner_id = $2 AND state = 'uploading'`,
  /** Restarts the grace period of an upload in progress (not on every chunk: each write costs a commit). */
  touchUpload: `UPDATE blobs SET updated_at = now() WHERE id = $1 AND state = 'uploading'`,
  complete: `UPDATE blobs SET state = 'complete', updated_at = now() WHERE id = $1 AND state = 'uploading'`,
  lockForRef: 'SELECT id, owner_id, conv_id, size, chunk_count, state FROM blobs WHERE id = $1 FOR UPDATE',
  insertRef: 'INSERT INTO blob_refs (blob_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING',
  markAttached: 'UPDATE blobs SET attached_at = coalesce(attached_at, now()), detached_at = NULL WHERE id = $1',
  deleteRef: 'DELETE FROM blob_refs WHERE blob_id = $1 AND user_id = $2 RETURNING user_id',
  hasRef: 'SELECT 1 FROM blob_refs WHERE blob_id = $1 AND user_id = $2',
  countRefs: 'SELECT count(*)::int AS n FROM blob_refs WHERE blob_id = $1',
  markDetached: 'UPDATE blobs SET detached_at = now() WHERE id = $1',
  /** GC candidates: stale uploads, never-attached blobs past the grace, detached blobs, interrupted deletions. */
  gcCandidates: `SELECT id FROM blobs b
                 WHERE ((b.state = 'uploading' AND b.updated_at < now() - make_interval(secs => $1))
                     OR (b.state = 'complete' AND b.attached_at IS NULL AND b.updated_at < now() - make_interval(secs => $1))
                     OR (b.state = 'complete' AND b.detached_at IS NOT NULL)
                     OR b.state = 'deleting')
                   AND NOT EXISTS (SELECT 1 FROM blob_refs r WHERE r.blob_id = b.id)
                 ORDER BY b.updated_at LIMIT $2 FOR UPDATE OF b SKIP LOCKED`,
  /** Re-checked in a new statement (fresh snapshot) after the locks are held: a reference committed meanwhile wins. */
  claim: `UPDATE blobs b SET state = 'deleting' WHERE b.id = ANY($1::uuid[])
            AND NOT EXISTS (SELECT 1 FROM blob_refs r WHERE r.blob_id = b.id) RETURNING b.id`,
  remove: `DELETE FROM blobs WHERE id = $1 AND state = 'deleting'`,
  /** The owner discards an upload nobody references yet (in progress, or complete but never attached). */
  markDiscarded: `UPDATE blobs b SET state = 'deleting' WHERE b.id = $1 AND b.attached_at IS NULL
                    AND NOT EXISTS (SELECT 1 FROM blob_refs r WHERE r.blob_id = b.id) RETURNING b.id`,
} as const;

/** Namespace of the per-user quota advisory lock ("blob"). */
const QUOTA_LOCK_CLASS = 0x626c6f62;

const BlobRow = z
  .object({
    id: z.uuid(),
    owner_id: z.uuid(),
    conv_id: z.uuid(),
    size: z.string().regex(/^\d+$/).transform(Number),
    chunk_count: z.number().int().min(1),
    state: z.enum(['uploading', 'complete', 'deleting']),
  })
  .strict();
type BlobRow = z.output<typeof BlobRow>;

const UsedRow = z.object({ used: z.string().regex(/^\d+$/).transform(Number) }).strict();
const OpenUploadRow = z.object({ size: z.string().regex(/^\d+$/).transform(Number), chunk_count: z.number().int(), stale: z.boolean() }).strict();
const IdRow = z.object({ id: z.uuid() }).strict();
const CountRow = z.object({ n: z.number().int() }).strict();

/**
 * How stale an upload's grace clock may get before a chunk restarts it: a quarter of the grace period,
 * between 0.1 s and 60 s. An upload that keeps sending chunks is then never older than 1/4 grace + the gap
 * between its chunks, so the collector (which needs a full grace period of silence) never takes it.
 */
function touchEverySeconds(graceSeconds: number): number {
  return Math.min(60, Math.max(0.1, graceSeconds / 4));
}

/** A sealed byte count: the layout's plaintext size (`size - chunks * 40`). */
function plaintextBytes(size: number, chunks: number): number {
  return size - chunks * BLOB_CHUNK_OVERHEAD;
}

function notFound(): AppError {
  return new AppError('not_found', 'No such blob');
}

/** Counts of one garbage-collection pass. */
export interface GcResult {
  deleted: number;
}

/** Everything the blob service needs. */
export interface BlobServiceOptions {
  db: Database;
  store: BlobStore;
  limits: BlobLimits;
  log: Logger;
  metrics?: Metrics;
}

/** Blob operations for the routes and the GC timer. Stateless apart from its dependencies. */
export class BlobService {
  readonly store: BlobStore;
  readonly limits: BlobLimits;
  readonly #db: Database;
  readonly #log: Logger;
  readonly #uploaded: Counter | null;
  readonly #downloaded: Counter | null;
  readonly #collected: Counter | null;
  readonly #discarded: Counter | null;

  constructor(options: BlobServiceOptions) {
    this.#db = options.db;
    this.store = options.store;
    this.limits = options.limits;
    this.#log = options.log;
    const m = options.metrics;
    this.#uploaded = m?.counter('parley_blob_uploaded_bytes_total', 'Sealed blob bytes received (chunk uploads)') ?? null;
    this.#downloaded = m?.counter('parley_blob_downloaded_bytes_total', 'Sealed blob bytes sent to members') ?? null;
    this.#collected = m?.counter('parley_blob_gc_deleted_total', 'Blobs deleted by garbage collection') ?? null;
    this.#discarded = m?.counter('parley_blob_discarded_total', 'Unsent uploads deleted at once by their owner (DELETE)') ?? null;
  }

  /**
   * Reserves a blob in `convId` for `userId`. Throws `not_found` when the caller is not a current member,
   * `payload_too_large` over `maxBytes`, `quota_exceeded` when the caller's stored plus reserved bytes would
   * pass `quotaBytes`. Nothing is stored when it throws.
   */
  async create(userId: string, request: CreateBlobRequest): Promise<string> {
    const fileBytes = plaintextBytes(request.size, request.chunks);
    if (fileBytes > this.limits.maxBytes)
      throw new AppError('payload_too_large', `File is ${fileBytes} bytes; this server accepts files up to ${this.limits.maxBytes} bytes`);
    const id = randomUUID();
    await this.#db.withTransaction(async (tx) => {
      if ((await getMembership(tx, request.convId, userId)) === null) throw new AppError('not_found', 'No such conversation');
      // Serialise creations per user so two concurrent uploads cannot both fit under the quota.
      await tx.query(BLOB_SQL.quotaLock, [QUOTA_LOCK_CLASS, userId]);
      const used = UsedRow.parse((await tx.query(BLOB_SQL.usedBytes, [userId])).rows[0]).used;
      if (used + request.size > this.limits.quotaBytes)
        throw new AppError(
          'quota_exceeded',
          `Storage quota exceeded: ${used} of ${this.limits.quotaBytes} bytes in use, this upload needs ${request.size}; delete files to free space`,
        );
      await tx.query(BLOB_SQL.insert, [id, userId, request.convId, request.size, request.chunks]);
    });
    return id;
  }

  async #find(q: Queryable, blobId: string): Promise<BlobRow | null> {
    const row = (await q.query(BLOB_SQL.byId, [blobId])).rows[0];
    return row === undefined ? null : BlobRow.parse(row);
  }

  /** The blob when `userId` may read it (a current member and complete, or its owner), else `not_found`. */
  async #visible(blobId: string, userId: string): Promise<BlobRow> {
    const blob = await this.#find(this.#db, blobId);
    if (blob === null || blob.state === 'deleting') throw notFound();
    if (blob.state === 'uploading') {
      if (blob.owner_id === userId) return blob;
      throw notFound();
    }
    if ((await getMembership(this.#db, blob.conv_id, userId)) === null) throw notFound();
    return blob;
  }

  /**
   * The sealed length chunk `index` must have, after checking the upload is the caller's and still open
   * (and restarting its grace period, so an upload in progress is never collected). Throws `not_found` (not the owner's open upload: unknown,
   * someone else's, complete or being deleted) or `invalid_request` (index out of range).
   */
  async expectChunk(blobId: string, userId: string, index: number): Promise<number> {
    const row = (await this.#db.query(BLOB_SQL.openUpload, [blobId, userId, touchEverySeconds(this.limits.graceSeconds)])).rows[0];
    if (row === undefined) {
      const blob = await this.#find(this.#db, blobId);
      if (blob !== null && blob.owner_id === userId && blob.state === 'complete') throw new AppError('conflict', 'The upload is already complete');
      throw notFound();
    }
    const { size, chunk_count, stale } = OpenUploadRow.parse(row);
    if (stale) await this.#db.query(BLOB_SQL.touchUpload, [blobId]);
    const expected = blobChunkSize(size, chunk_count, index);
    if (expected === null) throw new AppError('invalid_request', `Chunk index must be 0..${chunk_count - 1}`);
    return expected;
  }

  /** Stores a chunk checked by `expectChunk`. If garbage collection removed the upload meanwhile, undoes it. */
  async putChunk(blobId: string, index: number, data: Uint8Array): Promise<void> {
    await this.store.putChunk(blobId, index, data);
    this.#uploaded?.inc({}, data.length);
    const blob = await this.#find(this.#db, blobId);
    if (blob === null || blob.state === 'deleting') {
      await this.store.delete(blobId);
      throw notFound();
    }
  }

  /** Upload state for the owner (any time) or a current member (once complete). */
  async status(blobId: string, userId: string): Promise<BlobStatus> {
    const blob = await this.#visible(blobId, userId);
    const chunks = await this.store.listChunks(blobId);
    return {
      blobId,
      convId: blob.conv_id,
      size: blob.size,
      chunks: blob.chunk_count,
      state: blob.state === 'complete' ? 'complete' : 'uploading',
      received: chunks.filter((c) => c.index < blob.chunk_count).map((c) => c.index),
    };
  }

  /**
   * Marks the owner's upload complete once every chunk is stored with its layout length (so the total is
   * the declared size). Idempotent. Throws `not_found` for anyone but the owner, `conflict` listing how
   * many chunks are missing or wrong.
   */
  async complete(blobId: string, userId: string): Promise<void> {
    const blob = await this.#find(this.#db, blobId);
    if (blob === null || blob.owner_id !== userId || blob.state === 'deleting') throw notFound();
    if (blob.state === 'complete') return;
    const stored = new Map((await this.store.listChunks(blobId)).map((c) => [c.index, c.size]));
    let bad = 0;
    for (let i = 0; i < blob.chunk_count; i++) if (stored.get(i) !== blobChunkSize(blob.size, blob.chunk_count, i)) bad += 1;
    if (bad > 0) throw new AppError('conflict', `${bad} of ${blob.chunk_count} chunks are missing; query the status and upload them`);
    const done = await this.#db.query(BLOB_SQL.complete, [blobId]);
    if (done.rowCount !== 1) throw notFound();
  }

  /**
   * Records that `userId` (a current member) references the complete blob: garbage collection keeps a blob
   * while any reference exists. Idempotent. `not_found` / `conflict` (upload incomplete).
   */
  async attach(blobId: string, userId: string): Promise<void> {
    await this.#db.withTransaction(async (tx) => {
      const row = (await tx.query(BLOB_SQL.lockForRef, [blobId])).rows[0];
      const blob = row === undefined ? null : BlobRow.parse(row);
      if (blob === null || blob.state === 'deleting') throw notFound();
      if ((await getMembership(tx, blob.conv_id, userId)) === null) throw notFound();
      if (blob.state !== 'complete') throw new AppError('conflict', 'The upload is not complete');
      await tx.query(BLOB_SQL.insertRef, [blobId, userId]);
      await tx.query(BLOB_SQL.markAttached, [blobId]);
    });
  }

  /**
   * Withdraws `userId`'s reference (members, and former members who still hold one). When none remains,
   * the blob is due for deletion at the next GC pass. Idempotent for members; `not_found` otherwise.
   */
  async detach(blobId: string, userId: string): Promise<void> {
    await this.#db.withTransaction(async (tx) => {
      const row = (await tx.query(BLOB_SQL.lockForRef, [blobId])).rows[0];
      const blob = row === undefined ? null : BlobRow.parse(row);
      if (blob === null || blob.state === 'deleting') throw notFound();
      const removed = (await tx.query(BLOB_SQL.deleteRef, [blobId, userId])).rowCount ?? 0;
      if (removed === 0) {
        if ((await getMembership(tx, blob.conv_id, userId)) === null) throw notFound();
        return;
      }
      const left = CountRow.parse((await tx.query(BLOB_SQL.countRefs, [blobId])).rows[0]).n;
      if (left === 0) await tx.query(BLOB_SQL.markDetached, [blobId]);
    });
  }

  /**
   * The owner gives up an upload that was never sent: in progress (cancelled) or complete but never
   * attached (the file was removed from the composer). Its chunks and quota are freed now instead of
   * after the grace period. Throws `not_found` for anyone but the owner (and unknown ids), `conflict` once
   * the blob was attached (a sent message carries it: withdraw with `detach`). A chunk upload racing the
   * discard is undone by `putChunk`; an attach racing it loses (it locks the row and sees `deleting`).
   */
  async discard(blobId: string, userId: string): Promise<void> {
    await this.#db.withTransaction(async (tx) => {
      const row = (await tx.query(BLOB_SQL.lockForRef, [blobId])).rows[0];
      const blob = row === undefined ? null : BlobRow.parse(row);
      if (blob === null || blob.owner_id !== userId || blob.state === 'deleting') throw notFound();
      const marked = (await tx.query(BLOB_SQL.markDiscarded, [blobId])).rowCount === 1;
      if (!marked) throw new AppError('conflict', 'The file was sent in a message; withdraw it with detach');
    });
    // Marked `deleting` first: if this process dies here, the next GC pass finishes the deletion.
    await this.store.delete(blobId);
    await this.#db.query(BLOB_SQL.remove, [blobId]);
    this.#discarded?.inc();
  }

  /**
   * Opens a complete blob for a current member of its conversation: its size and chunk layout, and an
   * iterator over the chunks in order. `not_found` for anyone else (and for unknown ids), `conflict` while
   * the upload is incomplete. The iterator reads one chunk ahead and throws if a chunk vanished or has the
   * wrong length (the route then cuts the connection: the client sees a broken transfer, never bad data).
   */
  async openForDownload(blobId: string, userId: string): Promise<{ size: number; chunks: number; read: (range?: ByteRange) => AsyncGenerator<Uint8Array> }> {
    const blob = await this.#find(this.#db, blobId);
    if (blob === null || blob.state === 'deleting') throw notFound();
    if ((await getMembership(this.#db, blob.conv_id, userId)) === null) throw notFound();
    if (blob.state !== 'complete') throw new AppError('conflict', 'The upload is not complete');
    const { size, chunk_count: count } = blob;
    const store = this.store;
    const downloaded = this.#downloaded;
    /** The sealed bytes of `range` (default: all), chunk by chunk; the next chunk is read while this one goes out. */
    async function* read(range: ByteRange = { start: 0, end: size - 1 }): AsyncGenerator<Uint8Array> {
      // Every chunk but the last is BLOB_CHUNK_BYTES long ([FILE-2]), so a byte's chunk is a division.
      const first = Math.floor(range.start / BLOB_CHUNK_BYTES);
      const last = Math.min(count - 1, Math.floor(range.end / BLOB_CHUNK_BYTES));
      let next: Promise<Uint8Array | null> = store.getChunk(blobId, first);
      for (let i = first; i <= last; i++) {
        const data = await next;
        if (i < last) {
          next = store.getChunk(blobId, i + 1);
          next.catch(() => undefined); // observed on the next turn; do not crash if we stop early
        }
        if (data === null || data.length !== blobChunkSize(size, count, i)) throw new Error(`blob chunk ${i} is missing or has the wrong length`);
        const at = i * BLOB_CHUNK_BYTES;
        const piece = data.subarray(Math.max(0, range.start - at), Math.min(data.length, range.end + 1 - at));
        downloaded?.inc({}, piece.length);
        yield piece;
      }
    }
    return { size, chunks: count, read };
  }

  /**
   * One garbage-collection pass: deletes uploads idle for the grace period, complete blobs never attached
   * within the grace period, blobs whose every reference was withdrawn, and deletions a crash interrupted.
   * Claims rows under `FOR UPDATE SKIP LOCKED`, so several instances can run it at once.
   */
  async collectGarbage(batch = 100): Promise<GcResult> {
    let deleted = 0;
    for (;;) {
      const claimed = await this.#db.withTransaction(async (tx) => {
        const ids = (await tx.query(BLOB_SQL.gcCandidates, [this.limits.graceSeconds, batch])).rows.map((r) => IdRow.parse(r).id);
        if (ids.length === 0) return { ids: [] as string[], more: false };
        const got = (await tx.query(BLOB_SQL.claim, [ids])).rows.map((r) => IdRow.parse(r).id);
        return { ids: got, more: ids.length === batch };
      });
      for (const id of claimed.ids) {
        await this.store.delete(id);
        await this.#db.query(BLOB_SQL.remove, [id]);
        deleted += 1;
      }
      if (!claimed.more) break;
    }
    if (deleted > 0) {
      this.#collected?.inc({}, deleted);
      this.#log.info('blob gc', { deleted });
    }
    return { deleted };
  }
}

/** Runs `collectGarbage` every `intervalMs` in the background (see `runPeriodically`); returns its stop function. */
export function startBlobGc(service: BlobService, log: Logger, intervalMs: number): () => Promise<void> {
  return runPeriodically('blob gc', intervalMs, log, () => service.collectGarbage());
}

/** GC interval for a grace period: half of it, between 1 s and 10 min. */
export function gcIntervalMs(graceSeconds: number): number {
  return Math.min(600_000, Math.max(1000, (graceSeconds * 1000) / 2));
}
