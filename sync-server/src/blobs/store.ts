/**
 * Where sealed blob chunks live. `BlobStore` is the whole contract (test/blobs-store-contract.test.ts runs
 * the same suite against every implementation), so a filesystem or S3 store can replace the PostgreSQL one
 * without touching the routes or garbage collection. Stores hold opaque bytes; they never see keys, names
 * or plaintext, and they do no authorisation (the blob service does).
 */
import { z } from 'zod';
import type { Database } from '../db/database.ts';

/** One stored chunk: its index and sealed length. */
export interface StoredChunk {
  index: number;
  size: number;
}

/** Storage of sealed chunks, keyed by (blob id, chunk index). */
export interface BlobStore {
  /** Name for logs and metrics (`postgres`, `fs`, …). */
  readonly kind: string;
  /** Stores chunk `index` of `blobId`, replacing an earlier copy (uploads are retried: idempotent per index). */
  putChunk(blobId: string, index: number, data: Uint8Array): Promise<void>;
  /** The chunk's bytes, or null when it is not stored. */
  getChunk(blobId: string, index: number): Promise<Uint8Array | null>;
  /** The stored chunks of `blobId`, ascending by index (empty for an unknown blob). */
  listChunks(blobId: string): Promise<StoredChunk[]>;
  /** Removes every chunk of `blobId`. Idempotent (deleting an unknown blob is not an error). */
  delete(blobId: string): Promise<void>;
}

/** The SQL of the PostgreSQL store, exported so the EXPLAIN test can check the real statements. */
export const BLOB_STORE_SQL = {
  put: `INSERT INTO blob_chunks (blob_id, idx, data) VALUES ($1, $2, $3)
        ON CONFLICT (blob_id, idx) DO UPDATE SET data = EXCLUDED.data`,
  get: 'SELECT data FROM blob_chunks WHERE blob_id = $1 AND idx = $2',
  list: 'SELECT idx, octet_length(data) AS size FROM blob_chunks WHERE blob_id = $1 ORDER BY idx',
  delete: 'DELETE FROM blob_chunks WHERE blob_id = $1',
} as const;

const DataRow = z.object({ data: z.instanceof(Buffer) }).strict();
const ListRow = z.object({ idx: z.number().int().min(0), size: z.number().int().min(0) }).strict();

/** Chunks as `bytea` rows of `blob_chunks` (migration 020), on the server's one database pool. */
export class PostgresBlobStore implements BlobStore {
  readonly kind = 'postgres';
  constructor(private readonly db: Database) {}

  async putChunk(blobId: string, index: number, data: Uint8Array): Promise<void> {
    await this.db.query(BLOB_STORE_SQL.put, [blobId, index, Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
  }

  async getChunk(blobId: string, index: number): Promise<Uint8Array | null> {
    const row = (await this.db.query(BLOB_STORE_SQL.get, [blobId, index])).rows[0];
    return row === undefined ? null : DataRow.parse(row).data;
  }

  async listChunks(blobId: string): Promise<StoredChunk[]> {
    const rows = (await this.db.query(BLOB_STORE_SQL.list, [blobId])).rows;
    return rows.map((r) => {
      const row = ListRow.parse(r);
      return { index: row.idx, size: row.size };
    });
  }

  async delete(blobId: string): Promise<void> {
    await this.db.query(BLOB_STORE_SQL.delete, [blobId]);
  }
}
