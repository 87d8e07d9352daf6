/**
 * `AccountClient`: register, sign in, unlock keys, change password, recover, manage sessions. Headless
 * and runtime-neutral (Node for tests, bots and benchmarks; the browser under the Solid app).
 *
 * Order of operations, so that nothing unverified is used:
 * - login: prelogin -> argon2id -> login -> open the account bundle -> check the secrets produce the
 *   published public keys (and the sealing-key signature) -> only then expose `keys`.
 * - register: check the password locally (the server cannot) -> generate keys -> derive -> send.
 * - changePassword: unlock the held bundle with the current password first (a wrong one fails here,
 *   before any request), then re-wrap the same keys under a new salt.
 * - recover: parse the recovery key (typos caught by its checksum) -> fetch and open the recovery
 *   bundle -> set a new password (and optionally a new recovery key) -> verify keys against the
 *   published ones.
 * - newRecoveryKey: unlock the held bundle with the current password first (like changePassword), then
 *   seal the held keys under a fresh recovery key and send it with the current auth key.
 */
import { z } from 'zod';
import { randomBytes, wipe } from '../crypto/index.ts';
import { fromBase64Url, toBase64Url } from '../protocol/encoding.ts';
import {
  KDF_DEFAULT,
  KdfParams,
  MeResponse,
  PreloginResponse,
  RecoveryStartResponse,
  RefreshResponse,
  SALT_BYTES,
  SessionResponse,
  SessionsResponse,
  type PublicKeys,
} from '../protocol/auth.ts';
import { Username } from '../protocol/username.ts';
import {
  assertKeysMatch,
  derivePasswordKeys,
  deriveRecoveryKeys,
  generateAccountKeys,
  openBundle,
  publicKeysOf,
  sealBundle,
  type AccountKeys,
  type PasswordKeys,
} from './account-crypto.ts';
import { ClientError } from './errors.ts';
import { checkPasswordStrength } from './password-strength.ts';
import { formatRecoveryKey, generateRecoveryKey, parseRecoveryKey } from './recovery-key.ts';
import { AUTH_ROUTES, HttpTransport, NoContent, type FetchLike } from './transport.ts';

/** Construction options for `AccountClient`. */
export interface AccountClientOptions {
  /** Server base URL, e.g. `http://127.0.0.1:3000`. */
  baseUrl: string;
  /** fetch implementation; defaults to `globalThis.fetch`. */
  fetch?: FetchLike;
  /** Browser cookie mode (default `same-origin`). */
  credentials?: RequestCredentials;
  /** Clock for token expiry (tests). */
  now?: () => number;
  /**
   * Password derivation (default `derivePasswordKeys`). Browsers inject one that runs the same function
   * in a Web Worker so argon2id never blocks the UI; it must keep `derivePasswordKeys`' contract
   * (validate `kdf`, throw `ClientError('invalid_input')`, report progress 0..1).
   */
  derive?: PasswordDeriver;
}

/** The shape of `derivePasswordKeys`, injectable through `AccountClientOptions.derive`. */
export type PasswordDeriver = (
  password: string,
  salt: Uint8Array,
  kdf: KdfParams,
  onProgress?: (fraction: number) => void,
) => Promise<PasswordKeys>;

/** The signed-in session (no secrets: the access token stays inside the transport). */
export interface Session {
  sessionId: string;
  userId: string;
  username: string;
  accessTokenExpiresAt: number;
  publicKeys: PublicKeys;
}

/** Progress callback for the password KDF (0..1), for a UI progress bar. */
export type KdfProgress = (fraction: number) => void;

/** Result of `register`. */
export interface RegisterResult {
  session: Session;
  keys: AccountKeys;
  /** Shown to the user once; the only way back in after a forgotten password. */
  recoveryKey: string;
}

/** Result of `login`. */
export interface LoginResult {
  session: Session;
  keys: AccountKeys;
}

/** Result of `recover`; `recoveryKey` is present when `rotateRecoveryKey` was set. */
export interface RecoverResult {
  session: Session;
  keys: AccountKeys;
  recoveryKey?: string;
}

/**
 * What a device keeps (the caller wraps `keys` at rest) to resume the signed-in account after a reload
 * without the password: the session as last seen, the unlocked keys, and the password slot's salt, KDF
 * parameters and sealed bundle (needed by `changePassword`).
 */
export interface ResumeState {
  session: Session;
  keys: AccountKeys;
  salt: Uint8Array;
  kdf: KdfParams;
  accountBundle: Uint8Array;
}

/** One signed-in device, as listed by `listSessions`. */
export type SessionInfo = z.infer<typeof SessionsResponse>['sessions'][number];

interface Held {
  session: Session;
  keys: AccountKeys;
  username: string;
  salt: Uint8Array;
  kdf: KdfParams;
  accountBundle: Uint8Array;
}

function parseUsername(username: string): string {
  const parsed = Username.safeParse(username);
  if (!parsed.success) throw new ClientError('invalid_input', parsed.error.issues[0]?.message ?? 'invalid username');
  return parsed.data;
}

async function assertStrongPassword(password: string, username: string): Promise<void> {
  const strength = await checkPasswordStrength(password, { username });
  if (!strength.acceptable)
    throw new ClientError('weak_password', strength.warning ?? 'choose a longer, less common password', {
      details: strength.problems,
    });
}

function sessionFrom(r: SessionResponse): Session {
  return {
    sessionId: r.sessionId,
    userId: r.user.id,
    username: r.user.username,
    accessTokenExpiresAt: r.accessTokenExpiresAt,
    publicKeys: r.publicKeys,
  };
}

/** Account operations against one server. Holds at most one signed-in account. */
export class AccountClient {
  readonly transport: HttpTransport;
  readonly #derive: PasswordDeriver;
  #held: Held | null = null;

  /** Throws `ClientError('invalid_input')` for a bad base URL or when no fetch is available. */
  constructor(options: AccountClientOptions) {
    this.transport = new HttpTransport({
      baseUrl: options.baseUrl,
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(options.credentials ? { credentials: options.credentials } : {}),
      ...(options.now ? { now: options.now } : {}),
    });
    this.#derive = options.derive ?? derivePasswordKeys;
  }

  /** The unlocked keys of the signed-in account, or null. */
  get keys(): AccountKeys | null {
    return this.#held?.keys ?? null;
  }

  /** The current session, or null. */
  get session(): Session | null {
    return this.#held?.session ?? null;
  }

  /** A valid access token for the WebSocket's in-band auth (refreshed when close to expiry). */
  accessToken(): Promise<string> {
    return this.transport.freshAccessToken();
  }

  #adopt(r: SessionResponse, keys: AccountKeys, username: string): Session {
    assertKeysMatch(keys, r.publicKeys);
    const session = sessionFrom(r);
    this.transport.setAccessToken({ token: r.accessToken, expiresAt: r.accessTokenExpiresAt });
    this.#held = {
      session,
      keys,
      username,
      salt: fromBase64Url(r.salt),
      kdf: r.kdf,
      accountBundle: fromBase64Url(r.accountBundle),
    };
    return session;
  }

  /**
   * Derives the keys of `password` and checks, on this device, that they open the held bundle; throws
   * `wrong_password` otherwise (nothing is sent). The key-encryption key is wiped; the auth key is returned
   * for the server's own check.
   */
  async #checkPassword(held: Held, password: string, onKdfProgress?: KdfProgress): Promise<{ authKey: Uint8Array }> {
    const derived = await this.#derive(password, held.salt, held.kdf, onKdfProgress);
    try {
      openBundle('account', derived.kek, held.accountBundle, held.username);
    } catch (cause) {
      throw new ClientError('wrong_password', 'the current password is wrong', { cause });
    } finally {
      wipe(derived.kek);
    }
    return { authKey: derived.authKey };
  }

  #requireHeld(): Held {
    if (!this.#held) throw new ClientError('not_signed_in', 'sign in first');
    return this.#held;
  }

  /**
   * Creates an account: checks the password (`weak_password`), makes fresh keys and a recovery key,
   * derives with `kdf` (default `KDF_DEFAULT`; tests may pass `KDF_MIN` values) and registers.
   * Server errors keep their catalogue code (`username_taken`, `rate_limited`, …).
   */
  async register(input: {
    username: string;
    password: string;
    deviceName?: string;
    kdf?: KdfParams;
    onKdfProgress?: KdfProgress;
  }): Promise<RegisterResult> {
    const username = parseUsername(input.username);
    await assertStrongPassword(input.password, username);
    const kdf = input.kdf ?? { ...KDF_DEFAULT };
    const keys = generateAccountKeys();
    const salt = randomBytes(SALT_BYTES);
    const pw = await this.#derive(input.password, salt, kdf, input.onKdfProgress);
    const recoveryKey = generateRecoveryKey();
    const rk = deriveRecoveryKeys(recoveryKey);
    const body = {
      username,
      salt: toBase64Url(salt),
      kdf,
      authKey: toBase64Url(pw.authKey),
      publicKeys: publicKeysOf(keys),
      accountBundle: toBase64Url(sealBundle('account', pw.kek, keys, username)),
      recoveryBundle: toBase64Url(sealBundle('recovery', rk.recoveryKek, keys, username)),
      recoveryAuthKey: toBase64Url(rk.recoveryAuthKey),
      ...(input.deviceName ? { deviceName: input.deviceName } : {}),
    };
    const display = formatRecoveryKey(recoveryKey);
    wipe(pw.kek);
    wipe(rk.recoveryKek);
    wipe(recoveryKey);
    const r = await this.transport.request(SessionResponse, 'POST', AUTH_ROUTES.register, { body });
    const session = this.#adopt(r, keys, username);
    return { session, keys, recoveryKey: display };
  }

  /**
   * Signs in and unlocks the keys. Throws `ClientError('invalid_credentials')` (from the server) for a
   * wrong username or password, `bundle_decrypt_failed` / `key_mismatch` when the server's bundle or
   * public keys do not belong to this password's keys.
   */
  async login(input: { username: string; password: string; deviceName?: string; onKdfProgress?: KdfProgress }): Promise<LoginResult> {
    const username = parseUsername(input.username);
    const pre = await this.transport.request(PreloginResponse, 'POST', AUTH_ROUTES.prelogin, { body: { username } });
    const pw = await this.#derive(input.password, fromBase64Url(pre.salt), pre.kdf, input.onKdfProgress);
    try {
      const r = await this.transport.request(SessionResponse, 'POST', AUTH_ROUTES.login, {
        body: { username, authKey: toBase64Url(pw.authKey), ...(input.deviceName ? { deviceName: input.deviceName } : {}) },
      });
      const keys = openBundle('account', pw.kek, fromBase64Url(r.accountBundle), username);
      const session = this.#adopt(r, keys, username);
      return { session, keys };
    } finally {
      wipe(pw.kek);
    }
  }

  /**
   * The signed-in account's `ResumeState` (it holds the secret keys: wrap them before storing), or null.
   * Changes after `changePassword`, so store it again then.
   */
  resumeState(): ResumeState | null {
    const held = this.#held;
    if (!held) return null;
    return { session: held.session, keys: held.keys, salt: held.salt, kdf: held.kdf, accountBundle: held.accountBundle };
  }

  /**
   * Adopts a stored `ResumeState` without the network (so an offline reload stays signed in): checks the
   * keys produce the session's published keys and the KDF parameters are in range, and holds no access
   * token, so the next authenticated call refreshes with the refresh cookie. Callers should then call
   * `me()`: `not_signed_in` means the session ended elsewhere; compare `me().publicKeys` with
   * `session.publicKeys` (`assertKeysMatch`). Throws `key_mismatch` or `invalid_input`.
   */
  resume(state: ResumeState): Session {
    assertKeysMatch(state.keys, state.session.publicKeys);
    const kdf = KdfParams.safeParse(state.kdf);
    if (!kdf.success) throw new ClientError('invalid_input', 'KDF parameters out of range');
    const username = parseUsername(state.session.username);
    this.transport.reset();
    this.#held = {
      session: { ...state.session },
      keys: state.keys,
      username,
      salt: state.salt,
      kdf: kdf.data,
      accountBundle: state.accountBundle,
    };
    return this.#held.session;
  }

  /** Ends this session on the server (revokes its refresh token) and forgets keys locally. */
  async logout(): Promise<void> {
    try {
      if (this.#held) await this.transport.request(NoContent, 'POST', AUTH_ROUTES.logout, { auth: true, body: {} });
    } finally {
      this.#forget();
    }
  }

  #forget(): void {
    if (this.#held) {
      wipe(this.#held.keys.identity.secretKey);
      wipe(this.#held.keys.sealing.secretKey);
    }
    this.#held = null;
    this.transport.reset();
  }

  /** The signed-in user, session id and published keys, as the server sees them. */
  me(): Promise<MeResponse> {
    return this.transport.request(MeResponse, 'GET', AUTH_ROUTES.me, { auth: true });
  }

  /**
   * Re-wraps the same keys under `newPassword` with a new salt (and `kdf`, default: the account's current
   * parameters). Throws `wrong_password` when `currentPassword` does not open the held bundle (checked
   * locally first), `weak_password` for a weak new one. The server revokes the other sessions and
   * rotates this one's tokens.
   */
  async changePassword(input: {
    currentPassword: string;
    newPassword: string;
    kdf?: KdfParams;
    onKdfProgress?: KdfProgress;
  }): Promise<void> {
    const held = this.#requireHeld();
    await assertStrongPassword(input.newPassword, held.username);
    const current = await this.#checkPassword(held, input.currentPassword, input.onKdfProgress);
    const kdf = input.kdf ?? held.kdf;
    const salt = randomBytes(SALT_BYTES);
    const next = await this.#derive(input.newPassword, salt, kdf, input.onKdfProgress);
    const accountBundle = sealBundle('account', next.kek, held.keys, held.username);
    wipe(next.kek);
    const r = await this.transport.request(RefreshResponse, 'POST', AUTH_ROUTES.password, {
      auth: true,
      body: {
        currentAuthKey: toBase64Url(current.authKey),
        salt: toBase64Url(salt),
        kdf,
        authKey: toBase64Url(next.authKey),
        accountBundle: toBase64Url(accountBundle),
      },
    });
    this.transport.setAccessToken({ token: r.accessToken, expiresAt: r.accessTokenExpiresAt });
    this.#held = {
      ...held,
      session: { ...held.session, sessionId: r.sessionId, accessTokenExpiresAt: r.accessTokenExpiresAt },
      salt,
      kdf,
      accountBundle,
    };
  }

  /**
   * Replaces the recovery key of the signed-in account and returns the new one (formatted, shown once);
   * the old key stops working. Throws `wrong_password` when `password` does not open the held bundle
   * (checked locally first, nothing is sent), `invalid_credentials` when the server refuses its auth key.
   */
  async newRecoveryKey(input: { password: string; onKdfProgress?: KdfProgress }): Promise<string> {
    const held = this.#requireHeld();
    const current = await this.#checkPassword(held, input.password, input.onKdfProgress);
    const fresh = generateRecoveryKey();
    const rk = deriveRecoveryKeys(fresh);
    const display = formatRecoveryKey(fresh);
    wipe(fresh);
    const recoveryBundle = sealBundle('recovery', rk.recoveryKek, held.keys, held.username);
    wipe(rk.recoveryKek);
    await this.transport.request(NoContent, 'POST', AUTH_ROUTES.recoveryKey, {
      auth: true,
      body: {
        currentAuthKey: toBase64Url(current.authKey),
        recoveryAuthKey: toBase64Url(rk.recoveryAuthKey),
        recoveryBundle: toBase64Url(recoveryBundle),
      },
    });
    return display;
  }

  /**
   * Regains access with the recovery key after a forgotten password: opens the recovery bundle, sets
   * `newPassword`, and (with `rotateRecoveryKey`) replaces the recovery key, returning the new one.
   * Throws `bad_recovery_key` for a typo (nothing is sent), `invalid_credentials` when the server refuses
   * the key, `weak_password`, or `key_mismatch` if the bundle's keys are not the account's.
   */
  async recover(input: {
    username: string;
    recoveryKey: string;
    newPassword: string;
    rotateRecoveryKey?: boolean;
    deviceName?: string;
    kdf?: KdfParams;
    onKdfProgress?: KdfProgress;
  }): Promise<RecoverResult> {
    const username = parseUsername(input.username);
    const recoveryKey = parseRecoveryKey(input.recoveryKey);
    await assertStrongPassword(input.newPassword, username);
    const rk = deriveRecoveryKeys(recoveryKey);
    wipe(recoveryKey);
    const start = await this.transport.request(RecoveryStartResponse, 'POST', AUTH_ROUTES.recoveryStart, {
      body: { username, recoveryAuthKey: toBase64Url(rk.recoveryAuthKey) },
    });
    const keys = openBundle('recovery', rk.recoveryKek, fromBase64Url(start.recoveryBundle), username);
    wipe(rk.recoveryKek);
    const kdf = input.kdf ?? { ...KDF_DEFAULT };
    const salt = randomBytes(SALT_BYTES);
    const pw = await this.#derive(input.newPassword, salt, kdf, input.onKdfProgress);
    let newRecovery: { recoveryAuthKey: string; recoveryBundle: string } | undefined;
    let display: string | undefined;
    if (input.rotateRecoveryKey) {
      const fresh = generateRecoveryKey();
      const frk = deriveRecoveryKeys(fresh);
      newRecovery = {
        recoveryAuthKey: toBase64Url(frk.recoveryAuthKey),
        recoveryBundle: toBase64Url(sealBundle('recovery', frk.recoveryKek, keys, username)),
      };
      display = formatRecoveryKey(fresh);
      wipe(frk.recoveryKek);
      wipe(fresh);
    }
    const body = {
      username,
      recoveryAuthKey: toBase64Url(rk.recoveryAuthKey),
      salt: toBase64Url(salt),
      kdf,
      authKey: toBase64Url(pw.authKey),
      accountBundle: toBase64Url(sealBundle('account', pw.kek, keys, username)),
      ...(newRecovery ? { newRecovery } : {}),
      ...(input.deviceName ? { deviceName: input.deviceName } : {}),
    };
    wipe(pw.kek);
    const r = await this.transport.request(SessionResponse, 'POST', AUTH_ROUTES.recoveryComplete, { body });
    const session = this.#adopt(r, keys, username);
    return { session, keys, ...(display !== undefined ? { recoveryKey: display } : {}) };
  }

  /** Every signed-in device of the user (`current` marks this one). */
  async listSessions(): Promise<SessionInfo[]> {
    const r = await this.transport.request(SessionsResponse, 'GET', AUTH_ROUTES.sessions, { auth: true });
    return r.sessions;
  }

  /** Signs out one device (revokes its refresh token; the server closes its sockets). */
  async revokeSession(sessionId: string): Promise<void> {
    const id = z.uuid().safeParse(sessionId);
    if (!id.success) throw new ClientError('invalid_input', 'session id must be a UUID');
    await this.transport.request(NoContent, 'DELETE', `${AUTH_ROUTES.sessions}/${id.data}`, { auth: true });
    if (this.#held?.session.sessionId === id.data) this.#forget();
  }
}
