/**
 * The `BlobStore` contract: every implementation must pass this suite unchanged (STYLE.md: one contract
 * suite for every interface). It runs against the PostgreSQL store on both database backends (real
 * PostgreSQL and embedded PGlite); a filesystem or S3 store is added by adding one line to IMPLEMENTATIONS.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BLOB_CHUNK_BYTES } from '@parley/shared/protocol';
import { openDatabase, type Database } from '../src/db/database.ts';
import { migrate } from '../src/db/migrate.ts';
import { PostgresBlobStore, type BlobStore } from '../src/blobs/store.ts';
import { createTestDatabase } from './helpers/server.ts';

interface Harness {
  store: BlobStore;
  close(): Promise<void>;
}

async function migrated(db: Database): Promise<Database> {
  await migrate(db);
  return db;
}

const IMPLEMENTATIONS: Array<[string, () => Promise<Harness>]> = [
  [
    'PostgresBlobStore on PostgreSQL',
    async () => {
      const tdb = await createTestDatabase();
      const db = await migrated(await openDatabase({ databaseUrl: tdb.url, dataDir: '/nonexistent' }));
      return { store: new PostgresBlobStore(db), close: async () => (await db.close(), await tdb.drop()) };
    },
  ],
  [
    'PostgresBlobStore on PGlite',
    async () => {
      const dir = await mkdtemp(path.join(tmpdir(), 'parley-blobstore-'));
      const db = await migrated(await openDatabase({ databaseUrl: null, dataDir: dir }));
      return { store: new PostgresBlobStore(db), close: async () => (await db.close(), await rm(dir, { recursive: true, force: true })) };
    },
  ],
];

/** The suite every BlobStore implementation must pass. */
function blobStoreContract(name: string, make: () => Promise<Harness>): void {
  describe(`BlobStore contract: ${name}`, () => {
    let h: Harness;
    beforeAll(async () => {
      h = await make();
    });
    afterAll(async () => {
      await h?.close();
    });

    it('returns exactly the bytes stored, up to a full sealed chunk; null for what is not stored', async () => {
      const id = randomUUID();
      const full = randomBytes(BLOB_CHUNK_BYTES);
      const small = randomBytes(40);
      await h.store.putChunk(id, 0, full);
      await h.store.putChunk(id, 1, small);
      expect(Buffer.from((await h.store.getChunk(id, 0))!)).toEqual(full);
      expect(Buffer.from((await h.store.getChunk(id, 1))!)).toEqual(small);
      expect(await h.store.getChunk(id, 2)).toBeNull();
      expect(await h.store.getChunk(randomUUID(), 0)).toBeNull();
    });

    it('accepts a subarray view (stores the view, not its whole buffer)', async () => {
      const id = randomUUID();
      const backing = randomBytes(1000);
      const view = new Uint8Array(backing.buffer, backing.byteOffset + 100, 200);
      await h.store.putChunk(id, 0, view);
      expect(Buffer.from((await h.store.getChunk(id, 0))!)).toEqual(Buffer.from(view));
    });

    it('is idempotent per index: a second put replaces the first', async () => {
      const id = randomUUID();
      await h.store.putChunk(id, 0, Uint8Array.of(1, 2, 3));
      await h.store.putChunk(id, 0, Uint8Array.of(4, 5));
      expect(await h.store.listChunks(id)).toEqual([{ index: 0, size: 2 }]);
      expect(Buffer.from((await h.store.getChunk(id, 0))!)).toEqual(Buffer.from([4, 5]));
    });

    it('lists chunks ascending with their sizes, per blob only', async () => {
      const id = randomUUID();
      const other = randomUUID();
      await Promise.all([5, 0, 3, 1].map((i) => h.store.putChunk(id, i, new Uint8Array(10 + i))));
      await h.store.putChunk(other, 2, new Uint8Array(7));
      expect(await h.store.listChunks(id)).toEqual([
        { index: 0, size: 10 },
        { index: 1, size: 11 },
        { index: 3, size: 13 },
        { index: 5, size: 15 },
      ]);
      expect(await h.store.listChunks(randomUUID())).toEqual([]);
    });

    it('deletes every chunk of one blob, leaves others, and deleting again is not an error', async () => {
      const id = randomUUID();
      const keep = randomUUID();
      await h.store.putChunk(id, 0, new Uint8Array(5));
      await h.store.putChunk(id, 1, new Uint8Array(5));
      await h.store.putChunk(keep, 0, new Uint8Array(5));
      await h.store.delete(id);
      expect(await h.store.listChunks(id)).toEqual([]);
      expect(await h.store.getChunk(id, 0)).toBeNull();
      expect(await h.store.listChunks(keep)).toEqual([{ index: 0, size: 5 }]);
      await h.store.delete(id);
      await h.store.delete(randomUUID());
    });
  });
}

for (const [name, make] of IMPLEMENTATIONS) blobStoreContract(name, make);
