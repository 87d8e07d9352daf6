/**
 * One `pg.Pool` code path for both backends: real PostgreSQL (`DATABASE_URL`) or embedded PGlite through
 * its node-postgres adapter (`<dataDir>/pglite`), so results have identical shapes (int8 -> string,
 * bytea -> Buffer) and the same SQL and migrations run everywhere.
 *
 * Two PGlite rules shape this API:
 * - The adapter's pool has ONE connection. Code that holds a client must run every statement on it;
 *   `withTransaction` hands the client to the callback for that reason.
 * - `pool.query()` destroys its client after any SQL error (pg-pool `release(err)`), which permanently
 *   breaks the single PGlite connection. So queries always go through `connect()` + `release()`;
 *   a client that is really broken is still dropped by pg-pool, which checks `_queryable`.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { createPgConfig } from '@electric-sql/pglite/node-postgres';
import pg from 'pg';
import type { Config } from '../config.ts';

/** Anything that can run a parameterised query: the database itself or a client inside a transaction. */
export interface Queryable {
  query(sql: string, params?: readonly unknown[]): Promise<pg.QueryResult>;
}

/** The storage handle the rest of the server receives. */
export interface Database extends Queryable {
  readonly backend: 'postgres' | 'pglite';
  /**
   * Runs `fn` inside BEGIN/COMMIT on one checked-out client; rolls back and rethrows when `fn` throws.
   * Never call `db.query` from inside `fn` (with PGlite that waits for the client you hold).
   */
  withTransaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Runs `fn` with one checked-out client (session settings such as `SET` stay on that client). */
  withClient<T>(fn: (client: Queryable) => Promise<T>): Promise<T>;
  /** Ends the pool (and closes PGlite). Idempotent. */
  close(): Promise<void>;
}

/** How long to wait for a free connection before failing (turns a PGlite self-deadlock into an error). */
const CONNECT_TIMEOUT_MS = 10_000;

function clientQueryable(client: pg.PoolClient): Queryable {
  return { query: (sql, params) => client.query(sql, params === undefined ? undefined : [...params]) };
}

function wrapPool(pool: pg.Pool, backend: Database['backend'], onClose: () => Promise<void>): Database {
  let closing: Promise<void> | null = null;
  const withClient = async <T>(fn: (client: Queryable) => Promise<T>): Promise<T> => {
    const client = await pool.connect();
    try {
      return await fn(clientQueryable(client));
    } finally {
      client.release();
    }
  };
  return {
    backend,
    query: (sql, params) => withClient((c) => c.query(sql, params)),
    withClient,
    withTransaction: (fn) =>
      withClient(async (client) => {
        await client.query('BEGIN');
        try {
          const result = await fn(client);
          await client.query('COMMIT');
          return result;
        } catch (error) {
          try {
            await client.query('ROLLBACK');
          } catch (rollbackError) {
            throw new AggregateError([error, rollbackError], 'transaction failed and could not be rolled back');
          }
          throw error;
        }
      }),
    close: () => {
      closing ??= pool.end().then(onClose);
      return closing;
    },
  };
}

/**
 * Opens the database selected by `config`. For PGlite, creates `<dataDir>/pglite` when missing.
 * Throws when PostgreSQL is unreachable (the first connection is made eagerly so start-up fails fast).
 */
export async function openDatabase(config: Pick<Config, 'databaseUrl' | 'dataDir'>, onError?: (error: Error) => void): Promise<Database> {
  if (config.databaseUrl !== null) {
    const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 10, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
    // An idle client losing its connection must not crash the process; pg-pool drops that client.
    pool.on('error', (error) => onError?.(error));
    const db = wrapPool(pool, 'postgres', async () => {});
    try {
      await db.query('SELECT 1');
    } catch (error) {
      await db.close();
      throw error;
    }
    return db;
  }
  const dir = path.join(config.dataDir, 'pglite');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const lite = await PGlite.create(dir);
  const pool = new pg.Pool({ ...createPgConfig(lite), max: 1, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  pool.on('error', (error) => onError?.(error));
  return wrapPool(pool, 'pglite', () => lite.close());
}
