/**
 * Test helpers: a throwaway PostgreSQL database per test file, and a real server on port 0 backed by
 * either real PostgreSQL or embedded PGlite, with captured log lines and direct SQL access.
 *
 * PostgreSQL is expected at postgres://postgres@127.0.0.1:5432/postgres (override with TEST_POSTGRES_URL).
 * PGlite starts in 3-6 s: start one server per test file (beforeAll), not per test.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { loadConfig } from '../../src/config.ts';
import type { RateLimits } from '../../src/auth/rate-limit.ts';
import { startServer, type RunningServer } from '../../src/server.ts';

/** Admin URL of the PostgreSQL cluster used by tests. */
export const TEST_POSTGRES_URL = process.env['TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A uniquely named database; `drop()` removes it (forcing out leftover connections). */
export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/** Creates `parley_test_<random>` on the test cluster. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `parley_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(TEST_POSTGRES_URL);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    url: url.toString(),
    async drop() {
      if (dropped) return;
      dropped = true;
      const c = new pg.Client({ connectionString: TEST_POSTGRES_URL });
      await c.connect();
      try {
        // pg-pool's end() resolves before its connections' backends have exited; forcing the drop at once then
        // terminates them mid-close, which pg reports as an uncaught "terminating connection due to
        // administrator command". Wait for them first (briefly); force only what is still there after that.
        for (let i = 0; i < 40; i++) {
          try {
            await c.query(`DROP DATABASE IF EXISTS ${name}`);
            return;
          } catch (e) {
            if ((e as { code?: string }).code !== '55006') throw e; // object_in_use: sessions still connected
            await new Promise((r) => setTimeout(r, 25));
          }
        }
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** Rate limits generous enough that functional tests never trip them. */
export const RELAXED_RATE_LIMITS: RateLimits = {
  auth: { capacity: 100_000, refillPerSecond: 100_000 },
  register: { capacity: 100_000, refillPerSecond: 100_000 },
  recovery: { capacity: 100_000, refillPerSecond: 100_000 },
  loginFailures: { capacity: 100_000, refillPerSecond: 100_000 },
  recoveryFailures: { capacity: 100_000, refillPerSecond: 100_000 },
  trustedPairSeconds: 3600,
};

/** Options for `startTestServer`. */
export interface TestServerOptions {
  backend: 'postgres' | 'pglite';
  /** Extra environment variables (PORT, HOST, JWT_SECRET, DATA_DIR and DATABASE_URL have test defaults). */
  env?: Record<string, string>;
  /** Defaults to `RELAXED_RATE_LIMITS`; pass `DEFAULT_RATE_LIMITS` to test the real budgets. */
  rateLimits?: RateLimits;
  /** Directory of a built app to serve (defaults to a path that does not exist: placeholder page). */
  appDistDir?: string;
  /** Use this PostgreSQL database (not dropped on close) instead of a new one: several instances on one database. */
  databaseUrl?: string;
  /** Namespace of the rate limiter's Redis keys (with REDIS_URL; see `uniqueRedisPrefix`). */
  rateLimitKeyPrefix?: string;
}

/** A running test server plus its database and captured logs. */
export interface TestServer {
  server: RunningServer;
  url: string;
  /** Captured JSON log lines. */
  logs: string[];
  /** Runs SQL on the server's own database (through its pool, so it also works with PGlite). */
  query(sql: string, params?: unknown[]): Promise<pg.QueryResult>;
  /** The JWT secret the server uses. */
  jwtSecret: string;
  /** Stops the server and removes its database / data directory. */
  close(): Promise<void>;
}

/** Starts a real server on 127.0.0.1:0. */
export async function startTestServer(options: TestServerOptions): Promise<TestServer> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'parley-test-'));
  const database = options.backend === 'postgres' && options.databaseUrl === undefined ? await createTestDatabase() : null;
  const databaseUrl = options.databaseUrl ?? database?.url;
  const jwtSecret = randomBytes(32).toString('base64url');
  const logs: string[] = [];
  try {
    const config = loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      JWT_SECRET: jwtSecret,
      LOG_LEVEL: 'debug',
      ...(databaseUrl !== undefined ? { DATABASE_URL: databaseUrl } : {}),
      ...options.env,
    });
    const server = await startServer(config, {
      logSink: (line) => logs.push(line),
      rateLimits: options.rateLimits ?? RELAXED_RATE_LIMITS,
      appDistDir: options.appDistDir ?? path.join(dataDir, 'no-app'),
      ...(options.rateLimitKeyPrefix !== undefined ? { rateLimitKeyPrefix: options.rateLimitKeyPrefix } : {}),
    });
    return {
      server,
      url: server.url,
      logs,
      jwtSecret,
      query: (sql, params) => server.db.query(sql, params),
      async close() {
        await server.close();
        await database?.drop();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await database?.drop();
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}
