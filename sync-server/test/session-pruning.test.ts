/**
 * Pruning of expired refresh tokens and dead sessions (sync-server/src/auth/session-pruning.ts), on real
 * PostgreSQL and embedded PGlite: what goes, what stays, and that each statement uses its index.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { REFRESH_TOKEN_TTL_SECONDS } from '../src/auth/accounts.ts';
import { pruneSessions } from '../src/auth/session-pruning.ts';
import type { Database } from '../src/db/database.ts';
import { SESSION_SQL } from '../src/db/sessions.ts';
import { backendDatabase } from './helpers/database.ts';

const DAY = 24 * 3600 * 1000;
const TTL = REFRESH_TOKEN_TTL_SECONDS * 1000;
const FAKE_HASH = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g';

describe.each(['postgres', 'pglite'] as const)('session pruning on %s', (backend) => {
  const database = backendDatabase(backend, 'prune');
  let db: Database;
  beforeEach(() => {
    db = database.db;
  });
  const now = Date.now();
  const ago = (ms: number) => new Date(now - ms);

  async function user(): Promise<string> {
    const id = randomUUID();
    const key = `u${id.slice(0, 8)}`;
    await db.query(
      `INSERT INTO users (id, username, username_key, salt, kdf, auth_hash, recovery_hash, identity_key, sealing_key,
         sealing_sig, account_bundle, recovery_bundle)
       VALUES ($1, $2, $2, $3, '{"alg":"argon2id"}', $4, $4, $5, $5, $6, $7, $7)`,
      [id, key, randomBytes(16), FAKE_HASH, randomBytes(32), randomBytes(64), randomBytes(10)],
    );
    return id;
  }
  async function session(userId: string, lastUsed: Date, revokedAt: Date | null = null): Promise<string> {
    const id = randomUUID();
    await db.query(
      `INSERT INTO sessions (id, user_id, device_name, created_at, last_used_at, revoked_at, revoked_reason)
       VALUES ($1, $2, 'd', $3, $3, $4, $5)`,
      [id, userId, lastUsed, revokedAt, revokedAt ? 'logout' : null],
    );
    return id;
  }
  async function token(sessionId: string, created: Date, used: boolean): Promise<Buffer> {
    const hash = randomBytes(32);
    await db.query('INSERT INTO refresh_tokens (token_hash, session_id, created_at, used_at) VALUES ($1, $2, $3, $4)', [
      hash,
      sessionId,
      created,
      used ? created : null,
    ]);
    return hash;
  }
  const sessionExists = async (id: string) => (await db.query('SELECT 1 FROM sessions WHERE id = $1', [id])).rowCount === 1;
  const tokenExists = async (h: Buffer) => (await db.query('SELECT 1 FROM refresh_tokens WHERE token_hash = $1', [h])).rowCount === 1;


  it('deletes only what can no longer be presented', async () => {
    const u = await user();
    // A device in daily use: its old used tokens expire, its current one stays.
    const active = await session(u, ago(DAY));
    const oldUsed = await token(active, ago(TTL + DAY), true);
    const current = await token(active, ago(DAY), false);
    // Revoked long ago vs. revoked yesterday.
    const revokedOld = await session(u, ago(TTL + 5 * DAY), ago(TTL + 2 * DAY));
    const revokedOldToken = await token(revokedOld, ago(TTL + 5 * DAY), true);
    const revokedRecent = await session(u, ago(2 * DAY), ago(DAY));
    // Idle past the lifetime vs. idle but holding a token issued inside it (password-change rotation).
    const idle = await session(u, ago(TTL + 3 * DAY));
    const idleToken = await token(idle, ago(TTL + 3 * DAY), false);
    const idleWithFreshToken = await session(u, ago(TTL + 3 * DAY));
    const freshToken = await token(idleWithFreshToken, ago(2 * DAY), false);

    const r = await pruneSessions(db, now, 2); // tiny batches: the loop must still finish the job
    expect(r.tokens).toBeGreaterThanOrEqual(3); // oldUsed, revokedOldToken, idleToken (all older than the TTL)
    expect(r.revoked_sessions).toBe(1);
    expect(r.idle_sessions).toBe(1);

    expect(await sessionExists(active)).toBe(true);
    expect(await tokenExists(current)).toBe(true);
    expect(await tokenExists(oldUsed)).toBe(false);
    expect(await sessionExists(revokedOld)).toBe(false);
    expect(await tokenExists(revokedOldToken)).toBe(false);
    expect(await sessionExists(revokedRecent)).toBe(true);
    expect(await sessionExists(idle)).toBe(false);
    expect(await tokenExists(idleToken)).toBe(false);
    expect(await sessionExists(idleWithFreshToken)).toBe(true);
    expect(await tokenExists(freshToken)).toBe(true);

    // A second pass finds nothing: pruning is idempotent.
    expect(await pruneSessions(db, now)).toEqual({ tokens: 0, revoked_sessions: 0, idle_sessions: 0 });
  });

  describe('uses its indexes', () => {
    beforeAll(async () => {
      await db.query(`INSERT INTO users (id, username, username_key, salt, kdf, auth_hash, recovery_hash, identity_key,
          sealing_key, sealing_sig, account_bundle, recovery_bundle)
        SELECT gen_random_uuid(), 'pbulk' || i, 'pbulk' || i, decode(repeat('00', 16), 'hex'), '{"alg":"argon2id"}',
          $1, $1, decode(repeat('00', 32), 'hex'), decode(repeat('00', 32), 'hex'), decode(repeat('00', 64), 'hex'),
          decode('00', 'hex'), decode('00', 'hex')
        FROM generate_series(1, 3000) AS i`, [FAKE_HASH]);
      await db.query(`INSERT INTO sessions (id, user_id, device_name)
        SELECT gen_random_uuid(), id, 'bulk' FROM users WHERE username_key LIKE 'pbulk%'`);
      await db.query(`INSERT INTO sessions (id, user_id, device_name, revoked_at, revoked_reason)
        SELECT gen_random_uuid(), id, 'old', now(), 'logout' FROM users WHERE username_key LIKE 'pbulk%'`);
      await db.query(`INSERT INTO refresh_tokens (token_hash, session_id)
        SELECT sha256(convert_to(id::text, 'UTF8')), id FROM sessions WHERE device_name IN ('bulk', 'old')`);
      await db.query('ANALYZE');
    });

    it.each([
      ['expired tokens', SESSION_SQL.pruneTokens, 'refresh_tokens_created_idx'],
      ['long-revoked sessions', SESSION_SQL.pruneRevokedSessions, 'sessions_revoked_idx'],
      ['idle sessions', SESSION_SQL.pruneIdleSessions, 'sessions_idle_idx'],
    ])('%s', async (_name, sql, index) => {
      const plan = (await db.query(`EXPLAIN ${sql}`, [ago(TTL), 500])).rows.map((r) => String(r['QUERY PLAN'])).join('\n');
      expect(plan).toContain(index);
      expect(plan).not.toMatch(/Seq Scan on (sessions|refresh_tokens)\b/);
    });
  });
});
