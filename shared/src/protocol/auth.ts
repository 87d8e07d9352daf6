/**
 * REST contract for accounts (`/api/auth/*`). The server never sees the password: the client derives
 * `master = argon2id(password, salt, kdf)`, then `authKey = HKDF(master, "parley/auth-key/v1")` (sent)
 * and `kek = HKDF(master, "parley/kek/v1")` (kept). See docs/protocol.md "Accounts".
 *
 * Binary fields are unpadded base64url with exact decoded lengths checked here, so the server never
 * stores a value of the wrong size.
 */
import { z } from 'zod';
import { fromBase64Url, isBase64Url } from './encoding.ts';
import { Username } from './username.ts';

/** base64url text that decodes to exactly `len` bytes (or between min and max when a range is given). */
export function b64Bytes(min: number, max: number = min) {
  const maxChars = Math.ceil((max * 4) / 3);
  return z
    .string()
    .max(maxChars)
    // abort: the length check below decodes, and must never see text that is not base64url.
    .refine((s) => isBase64Url(s), { message: 'must be unpadded base64url', abort: true })
    .refine(
      (s) => {
        const n = fromBase64Url(s).length;
        return n >= min && n <= max;
      },
      { message: min === max ? `must decode to ${min} bytes` : `must decode to ${min}..${max} bytes` },
    );
}

/** Minimum argon2id parameters any account may use (OWASP: m = 19 MiB, t = 2, p = 1). */
export const KDF_MIN = { m: 19456, t: 2, p: 1 } as const;
/** Parameters new accounts get by default (m = 64 MiB, t = 3, p = 1). */
export const KDF_DEFAULT = { alg: 'argon2id', v: 19, m: 65536, t: 3, p: 1 } as const;

/** Password KDF parameters (argon2id v1.3). `m` in KiB. */
export const KdfParams = z
  .object({
    alg: z.literal('argon2id'),
    v: z.literal(19),
    m: z.number().int().min(KDF_MIN.m).max(1_048_576),
    t: z.number().int().min(KDF_MIN.t).max(16),
    p: z.number().int().min(1).max(4),
  })
  .strict();
export type KdfParams = z.infer<typeof KdfParams>;

export const SALT_BYTES = 16;
export const AUTH_KEY_BYTES = 32;
/** Upper bound of a sealed account or recovery bundle (private keys + format overhead). */
export const BUNDLE_MAX_BYTES = 4096;

/** The user's public keys, published in the key directory. */
export const PublicKeys = z
  .object({
    /** Ed25519 identity public key (signs). */
    identity: b64Bytes(32),
    /** X25519 sealing public key (receives wrapped conversation keys). */
    sealing: b64Bytes(32),
    /** Ed25519 signature by `identity` over `"parley/sealing-key/v1" || sealing`. */
    sealingSig: b64Bytes(64),
  })
  .strict();
export type PublicKeys = z.infer<typeof PublicKeys>;

const Bundle = b64Bytes(1, BUNDLE_MAX_BYTES);
const DeviceName = z.string().trim().min(1).max(64).optional();

export const PreloginRequest = z.object({ username: Username }).strict();
export const PreloginResponse = z.object({ salt: b64Bytes(SALT_BYTES), kdf: KdfParams }).strict();
export type PreloginResponse = z.infer<typeof PreloginResponse>;

export const RegisterRequest = z
  .object({
    username: Username,
    salt: b64Bytes(SALT_BYTES),
    kdf: KdfParams,
    authKey: b64Bytes(AUTH_KEY_BYTES),
    publicKeys: PublicKeys,
    /** Private keys sealed under the password-derived `kek`. */
    accountBundle: Bundle,
    /** The same private keys sealed under the recovery key. */
    recoveryBundle: Bundle,
    /** HKDF(recoveryKey, "parley/recovery-auth/v1"): proves possession of the recovery key. */
    recoveryAuthKey: b64Bytes(AUTH_KEY_BYTES),
    deviceName: DeviceName,
  })
  .strict();
export type RegisterRequest = z.input<typeof RegisterRequest>;

export const LoginRequest = z
  .object({ username: Username, authKey: b64Bytes(AUTH_KEY_BYTES), deviceName: DeviceName })
  .strict();
export type LoginRequest = z.input<typeof LoginRequest>;

export const PublicUser = z.object({ id: z.uuid(), username: z.string() }).strict();
export type PublicUser = z.infer<typeof PublicUser>;

/** Answer to register, login and recovery: an access token (the refresh token is an HttpOnly cookie). */
export const SessionResponse = z
  .object({
    accessToken: z.string().min(1),
    /** Unix milliseconds at which the access token expires. */
    accessTokenExpiresAt: z.number().int(),
    sessionId: z.uuid(),
    user: PublicUser,
    salt: b64Bytes(SALT_BYTES),
    kdf: KdfParams,
    publicKeys: PublicKeys,
    accountBundle: Bundle,
  })
  .strict();
export type SessionResponse = z.infer<typeof SessionResponse>;

export const RefreshResponse = z
  .object({ accessToken: z.string().min(1), accessTokenExpiresAt: z.number().int(), sessionId: z.uuid() })
  .strict();
export type RefreshResponse = z.infer<typeof RefreshResponse>;

export const MeResponse = z
  .object({
    user: PublicUser.extend({ createdAt: z.string() }).strict(),
    sessionId: z.uuid(),
    publicKeys: PublicKeys,
  })
  .strict();
export type MeResponse = z.infer<typeof MeResponse>;

export const ChangePasswordRequest = z
  .object({
    currentAuthKey: b64Bytes(AUTH_KEY_BYTES),
    salt: b64Bytes(SALT_BYTES),
    kdf: KdfParams,
    authKey: b64Bytes(AUTH_KEY_BYTES),
    accountBundle: Bundle,
  })
  .strict();
export type ChangePasswordRequest = z.input<typeof ChangePasswordRequest>;

/**
 * Replaces the recovery key of the signed-in account (`POST /api/auth/recovery-key`, bearer). The current
 * password's `currentAuthKey` is required too, so a stolen access token alone cannot swap the recovery key.
 */
export const NewRecoveryKeyRequest = z
  .object({
    currentAuthKey: b64Bytes(AUTH_KEY_BYTES),
    /** HKDF(newRecoveryKey, "parley/recovery-auth/v1"). */
    recoveryAuthKey: b64Bytes(AUTH_KEY_BYTES),
    /** The account's private keys sealed under the new recovery key. */
    recoveryBundle: Bundle,
  })
  .strict();
export type NewRecoveryKeyRequest = z.input<typeof NewRecoveryKeyRequest>;

export const RecoveryStartRequest = z
  .object({ username: Username, recoveryAuthKey: b64Bytes(AUTH_KEY_BYTES) })
  .strict();
export const RecoveryStartResponse = z.object({ recoveryBundle: Bundle }).strict();

export const RecoveryCompleteRequest = z
  .object({
    username: Username,
    recoveryAuthKey: b64Bytes(AUTH_KEY_BYTES),
    salt: b64Bytes(SALT_BYTES),
    kdf: KdfParams,
    authKey: b64Bytes(AUTH_KEY_BYTES),
    accountBundle: Bundle,
    /** Optional: replace the recovery key (recommended after using it). */
    newRecovery: z
      .object({ recoveryAuthKey: b64Bytes(AUTH_KEY_BYTES), recoveryBundle: Bundle })
      .strict()
      .optional(),
    deviceName: DeviceName,
  })
  .strict();
export type RecoveryCompleteRequest = z.input<typeof RecoveryCompleteRequest>;

export const SessionInfo = z
  .object({
    id: z.uuid(),
    deviceName: z.string().nullable(),
    createdAt: z.string(),
    lastUsedAt: z.string(),
    current: z.boolean(),
  })
  .strict();
export const SessionsResponse = z.object({ sessions: z.array(SessionInfo) }).strict();
export type SessionsResponse = z.infer<typeof SessionsResponse>;

/** Name of the HttpOnly refresh-token cookie (path `/api/auth`). */
export const REFRESH_COOKIE = 'parley_rt';
