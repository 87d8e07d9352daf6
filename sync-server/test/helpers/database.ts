/**
 * A fresh migrated database (real PostgreSQL or embedded PGlite) for the tests of one `describe` block.
 * Kept apart from ./server.ts, which scripts outside vitest import too.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { openDatabase, type Database } from '../../src/db/database.ts';
import { migrate } from '../../src/db/migrate.ts';
import { createTestDatabase, type TestDatabase } from './server.ts';

/** A migrated database for the tests of one `describe` block; read `db` (and `url`, PostgreSQL only) in tests. */
export interface BackendDatabase {
  readonly db: Database;
  /** The PostgreSQL database's URL (undefined for PGlite), e.g. for a second session. */
  readonly url: string | undefined;
}

/**
 * Registers beforeAll/afterAll that open a fresh migrated database of `backend` (a new PostgreSQL database on
 * the test cluster, or PGlite in a temporary directory named after `prefix`) and remove it afterwards.
 */
export function backendDatabase(backend: 'postgres' | 'pglite', prefix: string): BackendDatabase {
  let db: Database | undefined;
  let pgdb: TestDatabase | null = null;
  let dataDir: string | undefined;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), `parley-${prefix}-`));
    pgdb = backend === 'postgres' ? await createTestDatabase() : null;
    db = await openDatabase({ databaseUrl: pgdb?.url ?? null, dataDir });
    await migrate(db);
  });
  afterAll(async () => {
    await db?.close();
    await pgdb?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });
  return {
    get db() {
      if (!db) throw new Error('backendDatabase: used outside a test');
      return db;
    },
    get url() {
      return pgdb?.url;
    },
  };
}

