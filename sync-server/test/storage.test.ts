/**
 * Storage contract suite, run against real PostgreSQL and embedded PGlite through the same pg.Pool
 * code path: migrations (001_accounts), the users/sessions repositories, and index usage of hot queries.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../src/db/database.ts';
import { migrate, readMigrations } from '../src/db/migrate.ts';
import {
  dropUnusedRefreshTokens,
  findRefreshToken,
  findSession,
  insertRefreshToken,
  insertSession,
  listActiveSessions,
  markRefreshTokenUsed,
  revokeOtherSessions,
  revokeOwnedSession,
  SESSION_SQL,
} from '../src/db/sessions.ts';
import { findUserByKey, insertUser, updatePasswordMaterial, USER_SQL, type NewUser } from '../src/db/users.ts';
import { createTestDatabase, type TestDatabase } from './helpers/server.ts';

const FAKE_HASH = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g';

function newUser(key: string): NewUser {
  return {
    id: randomUUID(),
    username: key,
    usernameKey: key,
    salt: randomBytes(16),
    kdf: { alg: 'argon2id', v: 19, m: 19456, t: 2, p: 1 },
    authHash: FAKE_HASH,
    recoveryHash: FAKE_HASH,
    identityKey: randomBytes(32),
    sealingKey: randomBytes(32),
    sealingSig: randomBytes(64),
    accountBundle: randomBytes(100),
    recoveryBundle: randomBytes(100),
  };
}

describe.each(['postgres', 'pglite'] as const)('storage on %s', (backend) => {
  let db: Database;
  let pgdb: TestDatabase | null = null;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'parley-storage-'));
    pgdb = backend === 'postgres' ? await createTestDatabase() : null;
    db = await openDatabase({ databaseUrl: pgdb?.url ?? null, dataDir });
  });
  afterAll(async () => {
    await db?.close();
    await pgdb?.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  describe('migration 001_accounts', () => {
    it('applies once, records its checksum, and is a no-op the second time', async () => {
      const all = await readMigrations();
      const first = all.filter((m) => m.version === 1);
      expect(await migrate(db, first)).toEqual([1]);
      expect(await migrate(db, first)).toEqual([]);
      const rows = (await db.query('SELECT version, name, checksum FROM schema_migrations ORDER BY version')).rows;
      expect(rows).toEqual([{ version: 1, name: 'accounts', checksum: first[0]?.checksum }]);
      // The remaining migrations (owned by other features) apply on top.
      await migrate(db);
    });

    it('creates the tables, unique key and indexes', async () => {
      const tables = (await db.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`)).rows.map(
        (r) => r.table_name,
      );
      expect(tables).toEqual(expect.arrayContaining(['users', 'sessions', 'refresh_tokens', 'schema_migrations']));
      const indexes = (await db.query(`SELECT indexname FROM pg_indexes WHERE schemaname = 'public'`)).rows.map((r) => r.indexname);
      expect(indexes).toEqual(
        expect.arrayContaining(['users_username_key_idx', 'sessions_user_active_idx', 'sessions_user_idx', 'refresh_tokens_session_idx']),
      );
    });

    it('refuses rows that break its constraints', async () => {
      const bad = { ...newUser(`c${randomBytes(4).toString('hex')}`), salt: randomBytes(15) };
      await expect(insertUser(db, bad)).rejects.toMatchObject({ code: '23514' });
      const plainHash = { ...newUser(`c${randomBytes(4).toString('hex')}`), authHash: 'plaintext' };
      await expect(insertUser(db, plainHash)).rejects.toMatchObject({ code: '23514' });
      // The pool still works after errors (PGlite's single connection must survive them).
      expect((await db.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    });

    it('refuses to start when an applied migration file was edited', async () => {
      const [first] = await readMigrations();
      if (!first) throw new Error('no migrations');
      await expect(migrate(db, [{ ...first, checksum: 'edited' }])).rejects.toThrow(/changed after it was applied/);
    });

    it('rolls back a failing migration completely', async () => {
      const broken = { version: 999, name: 'broken', sql: 'CREATE TABLE t999 (x int); SELECT nope;', checksum: 'x' };
      await expect(migrate(db, [broken])).rejects.toThrow();
      const exists = (await db.query(`SELECT to_regclass('public.t999') AS t`)).rows[0];
      expect(exists).toEqual({ t: null });
      expect((await db.query('SELECT count(*) AS n FROM schema_migrations WHERE version = 999')).rows).toEqual([{ n: '0' }]);
    });

    it.runIf(backend === 'postgres')('is safe when several instances migrate at once (advisory lock)', async () => {
      const fresh = await createTestDatabase();
      const pools = await Promise.all([1, 2, 3].map(() => openDatabase({ databaseUrl: fresh.url, dataDir })));
      try {
        const results = await Promise.all(pools.map((p) => migrate(p)));
        const applied = results.flat();
        const all = await readMigrations();
        expect(applied.sort()).toEqual(all.map((m) => m.version).sort());
      } finally {
        await Promise.all(pools.map((p) => p.close()));
        await fresh.drop();
      }
    });
  });

  describe('repositories', () => {
    it('inserts users and refuses a duplicate username key without throwing', async () => {
      const u = newUser(`r${randomBytes(4).toString('hex')}`);
      const row = await insertUser(db, u);
      expect(row?.id).toBe(u.id);
      expect(row?.salt).toEqual(Buffer.from(u.salt));
      expect(row?.kdf).toEqual(u.kdf);
      expect(await insertUser(db, { ...newUser(u.usernameKey) })).toBeNull();
      expect((await findUserByKey(db, u.usernameKey))?.id).toBe(u.id);
      expect(await findUserByKey(db, 'absent-user')).toBeNull();
      const salt = randomBytes(16);
      expect(await updatePasswordMaterial(db, u.id, { salt, kdf: u.kdf, authHash: FAKE_HASH, accountBundle: randomBytes(10) })).toBe(true);
      expect((await findUserByKey(db, u.usernameKey))?.salt).toEqual(salt);
    });

    it('handles sessions and single-use refresh tokens', async () => {
      const u = newUser(`s${randomBytes(4).toString('hex')}`);
      await insertUser(db, u);
      const a = randomUUID();
      const b = randomUUID();
      await insertSession(db, a, u.id, 'phone');
      await insertSession(db, b, u.id, null);
      const hash = randomBytes(32);
      await insertRefreshToken(db, hash, a);
      expect((await findRefreshToken(db, hash))?.id).toBe(a);
      // Exactly one of two concurrent exchanges wins.
      const wins = await Promise.all([markRefreshTokenUsed(db, hash), markRefreshTokenUsed(db, hash)]);
      expect(wins.filter(Boolean)).toHaveLength(1);
      expect((await findRefreshToken(db, hash))?.used_at).toBeInstanceOf(Date);
      const unused = randomBytes(32);
      await insertRefreshToken(db, unused, a);
      await dropUnusedRefreshTokens(db, a);
      expect(await findRefreshToken(db, unused)).toBeNull();
      expect(await findRefreshToken(db, hash)).not.toBeNull();

      expect((await listActiveSessions(db, u.id)).map((s) => s.id).sort()).toEqual([a, b].sort());
      expect(await revokeOtherSessions(db, u.id, a, 'password_changed')).toBe(1);
      expect((await findSession(db, b))?.revoked_reason).toBe('password_changed');
      expect(await revokeOwnedSession(db, a, randomUUID(), 'revoked')).toBe(false);
      expect(await revokeOwnedSession(db, a, u.id, 'revoked')).toBe(true);
      expect(await listActiveSessions(db, u.id)).toEqual([]);
    });

    it('rolls back a transaction that throws', async () => {
      const u = newUser(`t${randomBytes(4).toString('hex')}`);
      await expect(
        db.withTransaction(async (tx) => {
          await insertUser(tx, u);
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect(await findUserByKey(db, u.usernameKey)).toBeNull();
    });
  });

  describe('hot queries use indexes', () => {
    beforeAll(async () => {
      // Enough rows that a sequential scan is clearly worse, then fresh statistics.
      await db.query(`INSERT INTO users (id, username, username_key, salt, kdf, auth_hash, recovery_hash, identity_key,
          sealing_key, sealing_sig, account_bundle, recovery_bundle)
        SELECT gen_random_uuid(), 'bulk' || i, 'bulk' || i, decode(repeat('00', 16), 'hex'), '{"alg":"argon2id"}',
          $1, $1, decode(repeat('00', 32), 'hex'), decode(repeat('00', 32), 'hex'), decode(repeat('00', 64), 'hex'),
          decode('00', 'hex'), decode('00', 'hex')
        FROM generate_series(1, 3000) AS i`, [FAKE_HASH]);
      await db.query(`INSERT INTO sessions (id, user_id, device_name)
        SELECT gen_random_uuid(), id, 'bulk' FROM users WHERE username_key LIKE 'bulk%'`);
      await db.query(`INSERT INTO sessions (id, user_id, device_name, revoked_at, revoked_reason)
        SELECT gen_random_uuid(), id, 'old', now(), 'logout' FROM users WHERE username_key LIKE 'bulk%'`);
      await db.query(`INSERT INTO refresh_tokens (token_hash, session_id)
        SELECT sha256(convert_to(id::text, 'UTF8')), id FROM sessions`);
      await db.query('ANALYZE');
    });

    const cases: Array<[string, string, () => unknown[], string]> = [
      ['user by username key', USER_SQL.byKey, () => ['bulk42'], 'users_username_key_idx'],
      ['user by id', USER_SQL.byId, () => [randomUUID()], 'users_pkey'],
      ['session by id', SESSION_SQL.byId, () => [randomUUID()], 'sessions_pkey'],
      ['active sessions of a user', SESSION_SQL.listActive, () => [randomUUID()], 'sessions_user_active_idx'],
      ['refresh token by hash', SESSION_SQL.tokenByHash, () => [randomBytes(32)], 'refresh_tokens_pkey'],
      ['drop unused tokens of a session', SESSION_SQL.dropUnusedTokens, () => [randomUUID()], 'refresh_tokens_session_idx'],
      ['revoke other sessions', SESSION_SQL.revokeOthers, () => [randomUUID(), randomUUID(), 'revoked'], 'sessions_user_active_idx'],
      ['revoked among live sockets\' sessions', SESSION_SQL.revokedAmong, () => [[randomUUID(), randomUUID()]], 'sessions_pkey'],
    ];

    it.each(cases)('%s', async (_name, sql, params, index) => {
      // EXPLAIN (without ANALYZE) does not execute the statement, so UPDATE/DELETE plans are safe to inspect.
      const plan = (await db.query(`EXPLAIN ${sql}`, params())).rows.map((r) => String(r['QUERY PLAN'])).join('\n');
      expect(plan).toContain(index);
      expect(plan).not.toMatch(/Seq Scan on (users|sessions|refresh_tokens)\b/);
    });
  });
});
