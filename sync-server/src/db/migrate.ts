/**
 * SQL migrations: `sync-server/migrations/NNN_name.sql`, applied in order at start-up. Every run takes a
 * transaction-scoped advisory lock first, so several instances starting together apply each migration
 * exactly once; each applied file is recorded in `schema_migrations` with its SHA-256, and a recorded
 * migration whose file has since changed stops the start (edit by adding a new migration instead).
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { Database } from './database.ts';

/** Directory holding the migration files. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));

/** Arbitrary constant identifying Parley's migration lock among other advisory locks. */
const MIGRATION_LOCK_ID = 0x7061726c; // "parl"

const FILE_NAME = /^(\d{3})_([a-z0-9_]+)\.sql$/;

/** One migration file. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
  readonly checksum: string;
}

/** Reads and orders the migration files. Throws on a badly named file or a duplicated version number. */
export async function readMigrations(dir: string = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  const out: Migration[] = [];
  for (const file of files) {
    const match = FILE_NAME.exec(file);
    if (!match?.[1] || !match[2]) throw new Error(`migration file name must look like 001_name.sql: ${file}`);
    const version = Number(match[1]);
    if (out.some((m) => m.version === version)) throw new Error(`duplicate migration version ${version}`);
    const sql = await readFile(`${dir}/${file}`, 'utf8');
    out.push({ version, name: match[2], sql, checksum: createHash('sha256').update(sql).digest('hex') });
  }
  return out;
}

const AppliedRow = z.object({ version: z.number().int(), checksum: z.string() }).strict();

/**
 * Applies every pending migration in one transaction under the advisory lock and returns the versions it
 * applied (empty when up to date). Throws, applying nothing, when any statement fails or a recorded
 * migration's checksum no longer matches its file.
 */
export async function migrate(db: Database, migrations?: readonly Migration[]): Promise<number[]> {
  const all = migrations ?? (await readMigrations());
  return db.withTransaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_ID]);
    await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const applied = new Map<number, string>();
    for (const row of (await tx.query('SELECT version, checksum FROM schema_migrations')).rows) {
      const r = AppliedRow.parse(row);
      applied.set(r.version, r.checksum);
    }
    const done: number[] = [];
    for (const m of all) {
      const recorded = applied.get(m.version);
      if (recorded !== undefined) {
        if (recorded !== m.checksum) {
          throw new Error(`migration ${m.version}_${m.name} changed after it was applied; add a new migration instead`);
        }
        continue;
      }
      // No parameters: the simple-query protocol runs a file with several statements.
      await tx.query(m.sql);
      await tx.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [m.version, m.name, m.checksum]);
      done.push(m.version);
    }
    return done;
  });
}
