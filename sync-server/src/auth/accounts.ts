/**
 * Account use cases (register, login, refresh, logout, password change, recovery, sessions), independent
 * of HTTP. Inputs are already-validated protocol objects; failures are thrown as `AppError`.
 *
 * Invariants kept here:
 * - Unknown usernames and wrong keys are indistinguishable: same error, same work (a dummy argon2 verify,
 *   a deterministic fake salt from prelogin).
 * - argon2 runs OUTSIDE database transactions (with PGlite's single connection, a transaction held during
 *   a 130 ms hash would stall every other request).
 * - A refresh token is exchanged at most once; presenting a used one revokes its whole session.
 */
import { createHmac, randomUUID } from 'node:crypto';
import {
  AppError,
  KDF_DEFAULT,
  SALT_BYTES,
  fromBase64Url,
  toBase64Url,
  usernameKey,
  type ChangePasswordRequest,
  type KdfParams,
  type LoginRequest,
  type MeResponse,
  type NewRecoveryKeyRequest,
  type PreloginResponse,
  type RecoveryCompleteRequest,
  type RecoveryStartRequest,
  type RefreshResponse,
  type RegisterRequest,
  type SessionResponse,
  type SessionsResponse,
} from '@parley/shared/protocol';
import type { z } from 'zod';
import type { Database, Queryable } from '../db/database.ts';
import {
  dropUnusedRefreshTokens,
  findRefreshToken,
  findSession,
  insertRefreshToken,
  insertSession,
  listActiveSessions,
  markRefreshTokenUsed,
  revokeAllSessions,
  revokeOtherSessions,
  revokeOwnedSession,
  revokeSession,
  touchSession,
} from '../db/sessions.ts';
import { findUserById, findUserByKey, insertUser, updatePasswordMaterial, updateRecoveryMaterial, type UserRow } from '../db/users.ts';
import type { Logger } from '../log.ts';
import { dummyKeyHash, hashKey, verifyKey } from './passwords.ts';
import { deriveServerKey, hashRefreshToken, newRefreshToken, type Principal, type TokenService } from './tokens.ts';

/** Lifetime of a refresh token (and of the cookie carrying it). A session idle this long must log in again. */
export const REFRESH_TOKEN_TTL_SECONDS = 30 * 24 * 3600;

/** Context string for the fake-salt MAC key. */
export const FAKE_SALT_KEY_CONTEXT = 'parley/server/fake-salt/v1';

type Parsed<T extends z.ZodType> = z.output<T>;
type RegisterInput = Parsed<typeof RegisterRequest>;
type LoginInput = Parsed<typeof LoginRequest>;
type ChangePasswordInput = Parsed<typeof ChangePasswordRequest>;
type NewRecoveryKeyInput = Parsed<typeof NewRecoveryKeyRequest>;
type RecoveryStartInput = Parsed<typeof RecoveryStartRequest>;
type RecoveryCompleteInput = Parsed<typeof RecoveryCompleteRequest>;

/** A response body plus the refresh token that goes into the cookie. */
export interface WithRefreshToken<T> {
  readonly body: T;
  readonly refreshToken: string;
}

/** Dependencies of the account service. */
export interface AccountServiceOptions {
  db: Database;
  tokens: TokenService;
  /** The server secret (JWT_SECRET or generated); used here only to derive the fake-salt key. */
  secret: string;
  log: Logger;
  now?: () => number;
}

const invalidCredentials = () => new AppError('invalid_credentials', 'Unknown username or wrong key');
const unauthorized = () => new AppError('unauthorized', 'Session expired or revoked; sign in again');

function bytes(text: string): Uint8Array {
  return fromBase64Url(text);
}

function publicKeysOf(user: UserRow) {
  return {
    identity: toBase64Url(user.identity_key),
    sealing: toBase64Url(user.sealing_key),
    sealingSig: toBase64Url(user.sealing_sig),
  };
}

/** The account service; one instance per server. */
export class AccountService {
  readonly #db: Database;
  readonly #tokens: TokenService;
  readonly #fakeSaltKey: Buffer;
  readonly #log: Logger;
  readonly #now: () => number;

  constructor(options: AccountServiceOptions) {
    this.#db = options.db;
    this.#tokens = options.tokens;
    this.#fakeSaltKey = deriveServerKey(options.secret, FAKE_SALT_KEY_CONTEXT);
    this.#log = options.log;
    this.#now = options.now ?? Date.now;
  }

  /** Salt and KDF parameters for `username`; for unknown names a stable fake salt and the default KDF. */
  async prelogin(username: string): Promise<PreloginResponse> {
    const key = usernameKey(username);
    const user = await findUserByKey(this.#db, key);
    // Computed for every request so known and unknown names cost the same.
    const fake = createHmac('sha256', this.#fakeSaltKey).update(`fake-salt|${key}`).digest().subarray(0, SALT_BYTES);
    if (user === null) return { salt: toBase64Url(fake), kdf: { ...KDF_DEFAULT } };
    return { salt: toBase64Url(user.salt), kdf: user.kdf };
  }

  /** Creates an account and its first session. Throws `username_taken` (409) for a taken name (any case/width). */
  async register(input: RegisterInput): Promise<WithRefreshToken<SessionResponse>> {
    const [authHash, recoveryHash] = await Promise.all([hashKey(bytes(input.authKey)), hashKey(bytes(input.recoveryAuthKey))]);
    const sessionId = randomUUID();
    const refresh = newRefreshToken();
    const user = await this.#db.withTransaction(async (tx) => {
      const inserted = await insertUser(tx, {
        id: randomUUID(),
        username: input.username,
        usernameKey: usernameKey(input.username),
        salt: bytes(input.salt),
        kdf: input.kdf,
        authHash,
        recoveryHash,
        identityKey: bytes(input.publicKeys.identity),
        sealingKey: bytes(input.publicKeys.sealing),
        sealingSig: bytes(input.publicKeys.sealingSig),
        accountBundle: bytes(input.accountBundle),
        recoveryBundle: bytes(input.recoveryBundle),
      });
      if (inserted === null) throw new AppError('username_taken', 'That username is taken');
      await this.#createSession(tx, inserted.id, sessionId, input.deviceName ?? null, refresh.hash);
      return inserted;
    });
    this.#log.info('account registered', { userId: user.id, sessionId });
    return { body: this.#sessionResponse(user, sessionId), refreshToken: refresh.token };
  }

  /** Checks the auth key and opens a session. Throws `invalid_credentials` for unknown user or wrong key alike. */
  async login(input: LoginInput): Promise<WithRefreshToken<SessionResponse>> {
    const user = await findUserByKey(this.#db, usernameKey(input.username));
    const ok = await verifyKey(user?.auth_hash ?? (await dummyKeyHash()), bytes(input.authKey));
    if (user === null || !ok) throw invalidCredentials();
    const sessionId = randomUUID();
    const refresh = newRefreshToken();
    await this.#db.withTransaction((tx) => this.#createSession(tx, user.id, sessionId, input.deviceName ?? null, refresh.hash));
    this.#log.info('login', { userId: user.id, sessionId });
    return { body: this.#sessionResponse(user, sessionId), refreshToken: refresh.token };
  }

  /**
   * Exchanges a refresh token for a new access token and a new refresh token. Throws `unauthorized` for
   * unknown, expired or revoked tokens; a token that was already exchanged revokes its session first.
   */
  async refresh(token: string): Promise<WithRefreshToken<RefreshResponse>> {
    const presented = hashRefreshToken(token);
    const next = newRefreshToken();
    const outcome = await this.#db.withTransaction(async (tx) => {
      const found = await findRefreshToken(tx, presented);
      if (found === null || found.revoked_at !== null) return { kind: 'rejected' } as const;
      if (found.token_created_at.getTime() + REFRESH_TOKEN_TTL_SECONDS * 1000 <= this.#now()) return { kind: 'rejected' } as const;
      if (found.used_at !== null || !(await markRefreshTokenUsed(tx, presented))) {
        await revokeSession(tx, found.id, 'refresh_reuse');
        return { kind: 'reuse', sessionId: found.id, userId: found.user_id } as const;
      }
      await insertRefreshToken(tx, next.hash, found.id);
      await touchSession(tx, found.id);
      return { kind: 'ok', sessionId: found.id, userId: found.user_id } as const;
    });
    switch (outcome.kind) {
      case 'rejected':
        throw unauthorized();
      case 'reuse':
        this.#log.warn('refresh token reuse: session revoked', { userId: outcome.userId, sessionId: outcome.sessionId });
        throw unauthorized();
      case 'ok': {
        const access = this.#tokens.issueAccessToken(outcome.userId, outcome.sessionId);
        return {
          body: { accessToken: access.token, accessTokenExpiresAt: access.expiresAt, sessionId: outcome.sessionId },
          refreshToken: next.token,
        };
      }
      default: {
        const never: never = outcome;
        throw new Error(`unhandled refresh outcome ${String(never)}`);
      }
    }
  }

  /** Revokes the session named by the refresh token and/or access token. Idempotent; never throws for bad tokens. */
  async logout(refreshToken: string | null, principal: Principal | null): Promise<void> {
    const ids = new Set<string>();
    if (principal !== null) ids.add(principal.sessionId);
    if (refreshToken !== null) {
      const found = await findRefreshToken(this.#db, hashRefreshToken(refreshToken));
      if (found !== null) ids.add(found.id);
    }
    for (const id of ids) {
      if (await revokeSession(this.#db, id, 'logout')) this.#log.info('logout', { sessionId: id });
    }
  }

  /** The signed-in user's public profile. Throws `unauthorized` when the user no longer exists. */
  async me(principal: Principal): Promise<MeResponse> {
    const user = await findUserById(this.#db, principal.userId);
    if (user === null) throw unauthorized();
    return {
      user: { id: user.id, username: user.username, createdAt: user.created_at.toISOString() },
      sessionId: principal.sessionId,
      publicKeys: publicKeysOf(user),
    };
  }

  /**
   * Replaces the password material after checking `currentAuthKey` (`invalid_credentials` otherwise),
   * revokes every other session and rotates this session's refresh token.
   */
  async changePassword(principal: Principal, input: ChangePasswordInput): Promise<WithRefreshToken<RefreshResponse>> {
    const user = await findUserById(this.#db, principal.userId);
    if (user === null) throw unauthorized();
    if (!(await verifyKey(user.auth_hash, bytes(input.currentAuthKey)))) throw invalidCredentials();
    const authHash = await hashKey(bytes(input.authKey));
    const refresh = newRefreshToken();
    const revoked = await this.#db.withTransaction(async (tx) => {
      await updatePasswordMaterial(tx, user.id, {
        salt: bytes(input.salt),
        kdf: input.kdf,
        authHash,
        accountBundle: bytes(input.accountBundle),
      });
      const count = await revokeOtherSessions(tx, user.id, principal.sessionId, 'password_changed');
      await dropUnusedRefreshTokens(tx, principal.sessionId);
      await insertRefreshToken(tx, refresh.hash, principal.sessionId);
      await touchSession(tx, principal.sessionId);
      return count;
    });
    this.#log.info('password changed', { userId: user.id, sessionId: principal.sessionId, revokedSessions: revoked });
    const access = this.#tokens.issueAccessToken(user.id, principal.sessionId);
    return {
      body: { accessToken: access.token, accessTokenExpiresAt: access.expiresAt, sessionId: principal.sessionId },
      refreshToken: refresh.token,
    };
  }

  /**
   * Replaces the recovery material (hash of the new recovery auth key, new recovery bundle) after checking
   * `currentAuthKey` (`invalid_credentials` otherwise, nothing changed). One UPDATE, so the old recovery key
   * stops working at the same moment the new one starts; refused (`unauthorized`) when the caller's session
   * was revoked meanwhile (e.g. by a recovery on another device).
   */
  async replaceRecoveryKey(principal: Principal, input: NewRecoveryKeyInput): Promise<void> {
    const user = await findUserById(this.#db, principal.userId);
    if (user === null) throw unauthorized();
    if (!(await verifyKey(user.auth_hash, bytes(input.currentAuthKey)))) throw invalidCredentials();
    const recoveryHash = await hashKey(bytes(input.recoveryAuthKey));
    const recoveryBundle = bytes(input.recoveryBundle);
    const replaced = await this.#db.withTransaction(async (tx) => {
      const session = await findSession(tx, principal.sessionId);
      if (session === null || session.revoked_at !== null || session.user_id !== user.id) return false;
      return updateRecoveryMaterial(tx, user.id, recoveryHash, recoveryBundle);
    });
    if (!replaced) throw unauthorized();
    this.#log.info('recovery key replaced', { userId: user.id, sessionId: principal.sessionId });
  }

  /** Returns the recovery bundle to a holder of the recovery key; `invalid_credentials` otherwise (same work). */
  async recoveryStart(input: RecoveryStartInput): Promise<{ recoveryBundle: string }> {
    const user = await this.#checkRecovery(input.username, input.recoveryAuthKey);
    return { recoveryBundle: toBase64Url(user.recovery_bundle) };
  }

  /**
   * Resets the password with the recovery key: replaces password material (and recovery material when
   * `newRecovery` is given), revokes every session, and opens a new one.
   */
  async recoveryComplete(input: RecoveryCompleteInput): Promise<WithRefreshToken<SessionResponse>> {
    const user = await this.#checkRecovery(input.username, input.recoveryAuthKey);
    const [authHash, recoveryHash] = await Promise.all([
      hashKey(bytes(input.authKey)),
      input.newRecovery === undefined ? Promise.resolve(null) : hashKey(bytes(input.newRecovery.recoveryAuthKey)),
    ]);
    const sessionId = randomUUID();
    const refresh = newRefreshToken();
    const salt = bytes(input.salt);
    const accountBundle = bytes(input.accountBundle);
    const updated = await this.#db.withTransaction(async (tx) => {
      await updatePasswordMaterial(tx, user.id, { salt, kdf: input.kdf, authHash, accountBundle });
      if (input.newRecovery !== undefined && recoveryHash !== null) {
        await updateRecoveryMaterial(tx, user.id, recoveryHash, bytes(input.newRecovery.recoveryBundle));
      }
      const revoked = await revokeAllSessions(tx, user.id, 'recovery');
      await this.#createSession(tx, user.id, sessionId, input.deviceName ?? null, refresh.hash);
      return revoked;
    });
    this.#log.info('account recovered', { userId: user.id, sessionId, revokedSessions: updated });
    const fresh: UserRow = { ...user, salt: Buffer.from(salt), kdf: input.kdf, account_bundle: Buffer.from(accountBundle) };
    return { body: this.#sessionResponse(fresh, sessionId), refreshToken: refresh.token };
  }

  /** The user's live sessions, marking the caller's. */
  async listSessions(principal: Principal): Promise<SessionsResponse> {
    const rows = await listActiveSessions(this.#db, principal.userId);
    return {
      sessions: rows.map((s) => ({
        id: s.id,
        deviceName: s.device_name,
        createdAt: s.created_at.toISOString(),
        lastUsedAt: s.last_used_at.toISOString(),
        current: s.id === principal.sessionId,
      })),
    };
  }

  /** Revokes one of the caller's own live sessions; `not_found` for anything else (absent, foreign, revoked). */
  async deleteSession(principal: Principal, sessionId: string): Promise<void> {
    if (!(await revokeOwnedSession(this.#db, sessionId, principal.userId, 'revoked'))) {
      throw new AppError('not_found', 'No such session');
    }
    this.#log.info('session revoked', { userId: principal.userId, sessionId });
  }

  async #checkRecovery(username: string, recoveryAuthKey: string): Promise<UserRow> {
    const user = await findUserByKey(this.#db, usernameKey(username));
    const ok = await verifyKey(user?.recovery_hash ?? (await dummyKeyHash()), bytes(recoveryAuthKey));
    if (user === null || !ok) throw invalidCredentials();
    return user;
  }

  async #createSession(tx: Queryable, userId: string, sessionId: string, deviceName: string | null, tokenHash: Buffer): Promise<void> {
    await insertSession(tx, sessionId, userId, deviceName);
    await insertRefreshToken(tx, tokenHash, sessionId);
  }

  #sessionResponse(user: UserRow, sessionId: string): SessionResponse {
    const access = this.#tokens.issueAccessToken(user.id, sessionId);
    const kdf: KdfParams = user.kdf;
    return {
      accessToken: access.token,
      accessTokenExpiresAt: access.expiresAt,
      sessionId,
      user: { id: user.id, username: user.username },
      salt: toBase64Url(user.salt),
      kdf,
      publicKeys: publicKeysOf(user),
      accountBundle: toBase64Url(user.account_bundle),
    };
  }
}
