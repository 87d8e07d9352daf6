/**
 * Request builders for account tests: random but well-formed key material (the server only checks sizes
 * and formats; real clients derive these with argon2id + HKDF in shared/src/client).
 */
import { randomBytes } from 'node:crypto';
import { KDF_MIN, REFRESH_COOKIE, toBase64Url } from '@parley/shared/protocol';
import { ClientError } from '@parley/shared/client';

/** Random unpadded base64url of `n` bytes. */
export function b64(n: number): string {
  return toBase64Url(randomBytes(n));
}

/** A unique valid username (letters + digits). */
export function uniqueName(prefix = 'user'): string {
  return `${prefix}${randomBytes(5).toString('hex')}`;
}

/** KDF params accepted by the schema (the minimum keeps client-side costs irrelevant here). */
export const TEST_KDF = { alg: 'argon2id', v: 19, ...KDF_MIN } as const;

/** Everything a test needs to act as a registered user. */
export interface TestAccount {
  username: string;
  authKey: string;
  recoveryAuthKey: string;
  body: Record<string, unknown>;
}

/** A complete, valid RegisterRequest body. */
export function newAccount(username: string = uniqueName()): TestAccount {
  const authKey = b64(32);
  const recoveryAuthKey = b64(32);
  return {
    username,
    authKey,
    recoveryAuthKey,
    body: {
      username,
      salt: b64(16),
      kdf: TEST_KDF,
      authKey,
      publicKeys: { identity: b64(32), sealing: b64(32), sealingSig: b64(64) },
      accountBundle: b64(200),
      recoveryBundle: b64(200),
      recoveryAuthKey,
      deviceName: 'test device',
    },
  };
}

/** Result of a JSON request. */
export interface JsonResponse {
  status: number;
  headers: Headers;
  body: unknown;
  /** The refresh token from Set-Cookie, when one was set (empty string when cleared). */
  refreshCookie: string | null;
}

/** Minimal HTTP helper: JSON in, JSON out, exposes the refresh cookie. */
export async function call(
  baseUrl: string,
  method: string,
  path: string,
  options: { json?: unknown; rawBody?: string; contentType?: string; token?: string; cookie?: string; headers?: Record<string, string> } = {},
): Promise<JsonResponse> {
  const headers: Record<string, string> = { ...options.headers };
  let body: string | undefined;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    headers['content-type'] = 'application/json';
  }
  if (options.rawBody !== undefined) body = options.rawBody;
  if (options.contentType !== undefined) headers['content-type'] = options.contentType;
  if (options.token !== undefined) headers['authorization'] = `Bearer ${options.token}`;
  if (options.cookie !== undefined) headers['cookie'] = `${REFRESH_COOKIE}=${options.cookie}`;
  const res = await fetch(`${baseUrl}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  let parsed: unknown = null;
  if (text !== '' && (res.headers.get('content-type') ?? '').includes('json')) parsed = JSON.parse(text);
  else if (text !== '') parsed = text;
  let refreshCookie: string | null = null;
  for (const c of res.headers.getSetCookie()) {
    const m = new RegExp(`^${REFRESH_COOKIE}=([^;]*)`).exec(c);
    if (m) refreshCookie = m[1] ?? '';
  }
  return { status: res.status, headers: res.headers, body: parsed, refreshCookie };
}

/** Reads `error.code` from an error body (or undefined). */
export function errorCode(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || !('error' in body)) return undefined;
  const e = body.error;
  if (typeof e !== 'object' || e === null || !('code' in e) || typeof e.code !== 'string') return undefined;
  return e.code;
}

/** The `ClientError` code `p` rejects with (throws when it resolves or rejects with anything else). */
export async function codeOf(p: Promise<unknown>): Promise<string> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  if (e instanceof ClientError) return e.code;
  throw new Error(`expected a ClientError, got ${String(e)}`);
}
