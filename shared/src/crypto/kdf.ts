/**
 * Key derivation: HKDF-SHA256 with a context from `contexts.ts`, and argon2id for passwords
 * (@noble/hashes, pure JS so it runs identically in browsers, workers and Node).
 *
 * Security limits, enforced here rather than documented only:
 * - `hkdf` refuses input key material under 16 bytes: every Parley IKM is a 32-byte key or DH output,
 *   so a short IKM is a bug (e.g. a password passed where a key was meant).
 * - `argon2id` refuses costs below OWASP's floor (m = 19 MiB, t = 2, p = 1) and above what a phone can
 *   run (m = 1 GiB, t = 16, p = 4); the same bounds as `KdfParams` in the protocol, so a server cannot
 *   talk a client into a cheap derivation.
 */
import { hkdf as nobleHkdf } from '@noble/hashes/hkdf.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { argon2idAsync } from '@noble/hashes/argon2.js';
import { utf8 } from '../protocol/encoding.ts';
import { concatBytes } from './bytes.ts';
import type { Context } from './contexts.ts';
import { CryptoError, expectBytes, expectBytesBetween } from './errors.ts';

/** SHA-256 output size in bytes. */
export const SHA256_BYTES = 32;
/** Largest HKDF-SHA256 output (RFC 5869: 255 hash blocks). */
export const HKDF_MAX_BYTES = 255 * SHA256_BYTES;

/** SHA-256 of `data` (32 bytes). Throws `CryptoError('bad_format')` for a non-Uint8Array. */
export function sha256(data: Uint8Array): Uint8Array {
  expectBytes('data', data);
  return nobleSha256(data);
}

/** Test hook for `sha256Async`: `false` forces noble, `undefined` uses WebCrypto when present. */
let nativeDigest: boolean | undefined;

/** For tests: `false` makes `sha256Async` use noble, `undefined` WebCrypto when the platform has it. */
export function setNativeDigest(enabled: false | undefined): void {
  nativeDigest = enabled;
}

/**
 * `sha256` with WebCrypto's native digest when the platform has it (browsers in a secure context, Node): the
 * same 32 bytes, computed off the JavaScript thread in Node and 5-10x faster than the JS hash for large inputs,
 * at the price of a round trip per call (use `sha256` for small inputs on latency-sensitive paths). Falls back
 * to noble when WebCrypto is missing or refuses. Throws `CryptoError('bad_format')` for a non-Uint8Array.
 */
export async function sha256Async(data: Uint8Array): Promise<Uint8Array> {
  expectBytes('data', data);
  const subtle = nativeDigest === false ? undefined : (globalThis.crypto as Crypto | undefined)?.subtle;
  if (subtle) {
    try {
      return new Uint8Array(await subtle.digest('SHA-256', data as Uint8Array<ArrayBuffer>));
    } catch {
      /* fall through to noble */
    }
  }
  return nobleSha256(data);
}

/**
 * Raw RFC 5869 HKDF-SHA256 with every input explicit (empty salt means HashLen zero bytes, as in the RFC).
 * Exists for known-answer tests and interop; Parley code derives keys with `hkdf` and a named context.
 * Throws `CryptoError('bad_params')` unless `1 <= length <= 8160`.
 */
export function hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  expectBytes('ikm', ikm);
  expectBytes('salt', salt);
  expectBytes('info', info);
  if (!Number.isInteger(length) || length < 1 || length > HKDF_MAX_BYTES)
    throw new CryptoError('bad_params', `HKDF length must be an integer in 1..${HKDF_MAX_BYTES}`);
  return nobleHkdf(nobleSha256, ikm, salt, info, length);
}

/**
 * HKDF-SHA256(ikm, salt, info = utf8(context) || extraInfo) -> `length` bytes (default 32).
 * `context` must come from `CONTEXT`, so every derivation is domain-separated by a string listed in one
 * file; `extraInfo` binds further public data (ids) into the derivation.
 * Throws `CryptoError('bad_length')` for IKM under 16 bytes, `CryptoError('bad_params')` for a length
 * outside 16..8160.
 */
export function hkdf(
  ikm: Uint8Array,
  context: Context,
  length = 32,
  salt: Uint8Array = new Uint8Array(0),
  extraInfo: Uint8Array = new Uint8Array(0),
): Uint8Array {
  expectBytesBetween('ikm', ikm, 16);
  expectBytes('salt', salt);
  expectBytes('extraInfo', extraInfo);
  if (!Number.isInteger(length) || length < 16 || length > HKDF_MAX_BYTES)
    throw new CryptoError('bad_params', `HKDF length must be an integer in 16..${HKDF_MAX_BYTES}`);
  return hkdfSha256(ikm, salt, concatBytes(utf8(context), extraInfo), length);
}

/** argon2id parameters (RFC 9106 names): memory `m` in KiB, iterations `t`, parallelism `p`. */
export interface Argon2Params {
  m: number;
  t: number;
  p: number;
}

/** Lowest argon2id cost accepted (OWASP 2023: m = 19 MiB, t = 2, p = 1). */
export const ARGON2_MIN: Readonly<Argon2Params> = Object.freeze({ m: 19456, t: 2, p: 1 });
/** Highest argon2id cost accepted (m = 1 GiB, t = 16, p = 4): bounds the work a server can demand. */
export const ARGON2_MAX: Readonly<Argon2Params> = Object.freeze({ m: 1_048_576, t: 16, p: 4 });
/** argon2id salts are at least this long (RFC 9106 recommends 16 bytes). */
export const ARGON2_SALT_MIN_BYTES = 16;

/** Throws `CryptoError('bad_params')` unless every cost is an integer within ARGON2_MIN..ARGON2_MAX. */
export function checkArgon2Params(params: Argon2Params): void {
  for (const key of ['m', 't', 'p'] as const) {
    const v = params[key];
    if (!Number.isInteger(v) || v < ARGON2_MIN[key] || v > ARGON2_MAX[key])
      throw new CryptoError('bad_params', `argon2id ${key} must be an integer in ${ARGON2_MIN[key]}..${ARGON2_MAX[key]}`);
  }
}

/**
 * argon2id v1.3 (password, salt) -> 32 bytes. Yields to the event loop while running; `onProgress`
 * receives 0..1 so a UI can show a progress bar. Throws `CryptoError('bad_length')` for a salt under 16
 * bytes and `CryptoError('bad_params')` for costs outside ARGON2_MIN..ARGON2_MAX.
 */
export async function argon2id(
  password: Uint8Array,
  salt: Uint8Array,
  params: Argon2Params,
  onProgress?: (fraction: number) => void,
): Promise<Uint8Array> {
  expectBytes('password', password);
  expectBytesBetween('salt', salt, ARGON2_SALT_MIN_BYTES);
  checkArgon2Params(params);
  return argon2idAsync(password, salt, {
    m: params.m,
    t: params.t,
    p: params.p,
    dkLen: 32,
    version: 0x13,
    asyncTick: 10,
    ...(onProgress ? { onProgress } : {}),
  });
}
