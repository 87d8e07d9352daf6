/**
 * Users repository. All SQL touching `users` lives here, parameterised; rows are parsed with zod before
 * they leave this module, so callers get typed values (bytea -> Buffer, timestamptz -> Date).
 */
import { KdfParams } from '@parley/shared/protocol';
import { z } from 'zod';
import type { Queryable } from './database.ts';

const Bytes = z.instanceof(Buffer);

/** A stored user, exactly as the server keeps it. */
export const UserRow = z
  .object({
    id: z.uuid(),
    username: z.string(),
    username_key: z.string(),
    salt: Bytes,
    kdf: KdfParams,
    auth_hash: z.string(),
    recovery_hash: z.string(),
    identity_key: Bytes,
    sealing_key: Bytes,
    sealing_sig: Bytes,
    account_bundle: Bytes,
    recovery_bundle: Bytes,
    created_at: z.date(),
    updated_at: z.date(),
  })
  .strict();
export type UserRow = z.infer<typeof UserRow>;

/** The SQL this module runs, exported so the EXPLAIN test checks the real statements. */
export const USER_SQL = {
  byKey: 'SELECT * FROM users WHERE username_key = $1',
  byId: 'SELECT * FROM users WHERE id = $1',
  insert: `INSERT INTO users (id, username, username_key, salt, kdf, auth_hash, recovery_hash, identity_key,
             sealing_key, sealing_sig, account_bundle, recovery_bundle)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
           ON CONFLICT (username_key) DO NOTHING
           RETURNING *`,
  updatePassword: `UPDATE users SET salt = $2, kdf = $3, auth_hash = $4, account_bundle = $5, updated_at = now()
                   WHERE id = $1`,
  updateRecovery: `UPDATE users SET recovery_hash = $2, recovery_bundle = $3, updated_at = now() WHERE id = $1`,
} as const;

function one(rows: readonly unknown[]): UserRow | null {
  return rows[0] === undefined ? null : UserRow.parse(rows[0]);
}

/** Finds a user by case-insensitive key (`usernameKey(normalized)`); null when absent. */
export async function findUserByKey(db: Queryable, usernameKey: string): Promise<UserRow | null> {
  return one((await db.query(USER_SQL.byKey, [usernameKey])).rows);
}

/** Finds a user by id; null when absent. */
export async function findUserById(db: Queryable, id: string): Promise<UserRow | null> {
  return one((await db.query(USER_SQL.byId, [id])).rows);
}

/** Values needed to create a user. */
export interface NewUser {
  id: string;
  username: string;
  usernameKey: string;
  salt: Uint8Array;
  kdf: KdfParams;
  authHash: string;
  recoveryHash: string;
  identityKey: Uint8Array;
  sealingKey: Uint8Array;
  sealingSig: Uint8Array;
  accountBundle: Uint8Array;
  recoveryBundle: Uint8Array;
}

/** Inserts a user; returns null (inserting nothing) when the username key is taken. */
export async function insertUser(db: Queryable, u: NewUser): Promise<UserRow | null> {
  const result = await db.query(USER_SQL.insert, [
    u.id,
    u.username,
    u.usernameKey,
    Buffer.from(u.salt),
    JSON.stringify(u.kdf),
    u.authHash,
    u.recoveryHash,
    Buffer.from(u.identityKey),
    Buffer.from(u.sealingKey),
    Buffer.from(u.sealingSig),
    Buffer.from(u.accountBundle),
    Buffer.from(u.recoveryBundle),
  ]);
  return one(result.rows);
}

/** New password material (after a password change or recovery). */
export interface PasswordMaterial {
  salt: Uint8Array;
  kdf: KdfParams;
  authHash: string;
  accountBundle: Uint8Array;
}

/** Replaces a user's password material. Returns false when the user does not exist. */
export async function updatePasswordMaterial(db: Queryable, userId: string, m: PasswordMaterial): Promise<boolean> {
  const result = await db.query(USER_SQL.updatePassword, [
    userId,
    Buffer.from(m.salt),
    JSON.stringify(m.kdf),
    m.authHash,
    Buffer.from(m.accountBundle),
  ]);
  return result.rowCount === 1;
}

/** Replaces a user's recovery material. Returns false when the user does not exist. */
export async function updateRecoveryMaterial(
  db: Queryable,
  userId: string,
  recoveryHash: string,
  recoveryBundle: Uint8Array,
): Promise<boolean> {
  const result = await db.query(USER_SQL.updateRecovery, [userId, recoveryHash, Buffer.from(recoveryBundle)]);
  return result.rowCount === 1;
}
