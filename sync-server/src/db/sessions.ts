/**
 * Sessions and refresh tokens repository. A session is one signed-in device: a family of refresh tokens
 * where each token is exchanged exactly once for the next. Tokens are stored only as SHA-256 hashes.
 */
import { z } from 'zod';
import type { Queryable } from './database.ts';

/** Why a session ended (mirrors the CHECK constraint in 001_accounts.sql). */
export type RevokeReason = 'logout' | 'revoked' | 'password_changed' | 'recovery' | 'refresh_reuse';

/** A stored session. */
export const SessionRow = z
  .object({
    id: z.uuid(),
    user_id: z.uuid(),
    device_name: z.string().nullable(),
    created_at: z.date(),
    last_used_at: z.date(),
    revoked_at: z.date().nullable(),
    revoked_reason: z.enum(['logout', 'revoked', 'password_changed', 'recovery', 'refresh_reuse']).nullable(),
  })
  .strict();
export type SessionRow = z.infer<typeof SessionRow>;

/** A refresh token joined with its session. */
const TokenWithSession = z
  .object({ used_at: z.date().nullable(), token_created_at: z.date() })
  .extend(SessionRow.shape)
  .strict();
export type TokenWithSession = z.infer<typeof TokenWithSession>;

/** The SQL this module runs, exported so the EXPLAIN test checks the real statements. */
export const SESSION_SQL = {
  insertSession: `INSERT INTO sessions (id, user_id, device_name) VALUES ($1, $2, $3) RETURNING *`,
  byId: 'SELECT * FROM sessions WHERE id = $1',
  listActive: `SELECT * FROM sessions WHERE user_id = $1 AND revoked_at IS NULL ORDER BY created_at, id`,
  revoke: `UPDATE sessions SET revoked_at = now(), revoked_reason = $2
           WHERE id = $1 AND revoked_at IS NULL`,
  revokeOwned: `UPDATE sessions SET revoked_at = now(), revoked_reason = $3
                WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL`,
  revokeOthers: `UPDATE sessions SET revoked_at = now(), revoked_reason = $3
                 WHERE user_id = $1 AND id <> $2 AND revoked_at IS NULL`,
  revokeAll: `UPDATE sessions SET revoked_at = now(), revoked_reason = $2
              WHERE user_id = $1 AND revoked_at IS NULL`,
  touch: 'UPDATE sessions SET last_used_at = now() WHERE id = $1',
  insertToken: 'INSERT INTO refresh_tokens (token_hash, session_id) VALUES ($1, $2)',
  tokenByHash: `SELECT t.used_at, t.created_at AS token_created_at, s.*
                FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id
                WHERE t.token_hash = $1`,
  markTokenUsed: 'UPDATE refresh_tokens SET used_at = now() WHERE token_hash = $1 AND used_at IS NULL',
  dropUnusedTokens: 'DELETE FROM refresh_tokens WHERE session_id = $1 AND used_at IS NULL',
  revokedAmong: 'SELECT id FROM sessions WHERE id = ANY($1::uuid[]) AND revoked_at IS NOT NULL',
  // Pruning (040_session_pruning): bounded batches, so one pass never holds long locks.
  pruneTokens: `DELETE FROM refresh_tokens WHERE token_hash IN (
                  SELECT token_hash FROM refresh_tokens WHERE created_at < $1 ORDER BY created_at LIMIT $2)`,
  pruneRevokedSessions: `DELETE FROM sessions WHERE id IN (
                           SELECT id FROM sessions WHERE revoked_at IS NOT NULL AND revoked_at < $1
                           ORDER BY revoked_at LIMIT $2)`,
  pruneIdleSessions: `DELETE FROM sessions WHERE id IN (
                        SELECT s.id FROM sessions s WHERE s.revoked_at IS NULL AND s.last_used_at < $1
                          AND NOT EXISTS (SELECT 1 FROM refresh_tokens t WHERE t.session_id = s.id AND t.created_at >= $1)
                        ORDER BY s.last_used_at LIMIT $2)`,
} as const;

/** What one pruning statement removed. */
export type PruneTarget = 'tokens' | 'revoked_sessions' | 'idle_sessions';

/**
 * Deletes up to `limit` rows of one kind older than `before`: refresh tokens created before it, sessions
 * revoked before it, or live sessions neither used nor given a token since (deleting a session deletes its
 * tokens).
 * Returns how many rows went.
 */
export async function pruneSessionRows(db: Queryable, target: PruneTarget, before: Date, limit: number): Promise<number> {
  const sql =
    target === 'tokens' ? SESSION_SQL.pruneTokens : target === 'revoked_sessions' ? SESSION_SQL.pruneRevokedSessions : SESSION_SQL.pruneIdleSessions;
  return (await db.query(sql, [before, limit])).rowCount ?? 0;
}

/** Which of `ids` are revoked (or no longer exist is not reported: ids absent from the table are ignored). */
export async function revokedAmong(db: Queryable, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  return new Set((await db.query(SESSION_SQL.revokedAmong, [ids])).rows.map((r) => z.object({ id: z.uuid() }).parse(r).id));
}

/** Creates a live session for `userId`. */
export async function insertSession(db: Queryable, id: string, userId: string, deviceName: string | null): Promise<SessionRow> {
  return SessionRow.parse((await db.query(SESSION_SQL.insertSession, [id, userId, deviceName])).rows[0]);
}

/** Finds a session (live or revoked) by id; null when absent. */
export async function findSession(db: Queryable, id: string): Promise<SessionRow | null> {
  const row = (await db.query(SESSION_SQL.byId, [id])).rows[0];
  return row === undefined ? null : SessionRow.parse(row);
}

/** Lists a user's live sessions, oldest first. */
export async function listActiveSessions(db: Queryable, userId: string): Promise<SessionRow[]> {
  return (await db.query(SESSION_SQL.listActive, [userId])).rows.map((r) => SessionRow.parse(r));
}

/** Revokes one live session; returns false when it was absent or already revoked. */
export async function revokeSession(db: Queryable, id: string, reason: RevokeReason): Promise<boolean> {
  return (await db.query(SESSION_SQL.revoke, [id, reason])).rowCount === 1;
}

/** Revokes a live session only if it belongs to `userId`; false otherwise (absent, foreign, revoked). */
export async function revokeOwnedSession(db: Queryable, id: string, userId: string, reason: RevokeReason): Promise<boolean> {
  return (await db.query(SESSION_SQL.revokeOwned, [id, userId, reason])).rowCount === 1;
}

/** Revokes every live session of `userId` except `keepId`; returns how many were revoked. */
export async function revokeOtherSessions(db: Queryable, userId: string, keepId: string, reason: RevokeReason): Promise<number> {
  return (await db.query(SESSION_SQL.revokeOthers, [userId, keepId, reason])).rowCount ?? 0;
}

/** Revokes every live session of `userId`; returns how many were revoked. */
export async function revokeAllSessions(db: Queryable, userId: string, reason: RevokeReason): Promise<number> {
  return (await db.query(SESSION_SQL.revokeAll, [userId, reason])).rowCount ?? 0;
}

/** Records that a session was just used (refresh). */
export async function touchSession(db: Queryable, id: string): Promise<void> {
  await db.query(SESSION_SQL.touch, [id]);
}

/** Stores the hash of a new refresh token for `sessionId`. */
export async function insertRefreshToken(db: Queryable, tokenHash: Uint8Array, sessionId: string): Promise<void> {
  await db.query(SESSION_SQL.insertToken, [Buffer.from(tokenHash), sessionId]);
}

/** Looks a refresh token up by hash, with its session; null when unknown. */
export async function findRefreshToken(db: Queryable, tokenHash: Uint8Array): Promise<TokenWithSession | null> {
  const row = (await db.query(SESSION_SQL.tokenByHash, [Buffer.from(tokenHash)])).rows[0];
  return row === undefined ? null : TokenWithSession.parse(row);
}

/**
 * Marks a token used, atomically: returns true only for the one caller that flipped it, so two
 * concurrent refreshes with the same token cannot both succeed (the loser is treated as reuse).
 */
export async function markRefreshTokenUsed(db: Queryable, tokenHash: Uint8Array): Promise<boolean> {
  return (await db.query(SESSION_SQL.markTokenUsed, [Buffer.from(tokenHash)])).rowCount === 1;
}

/** Deletes a session's not-yet-used tokens (they are superseded by a freshly issued one). */
export async function dropUnusedRefreshTokens(db: Queryable, sessionId: string): Promise<void> {
  await db.query(SESSION_SQL.dropUnusedTokens, [sessionId]);
}
