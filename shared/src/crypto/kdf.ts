/**
 * Key derivation: HKDF-SHA256 with a context from `contexts.ts`, and argon2id for passwords
 * (@noble/hashes, pure JS so it runs identically in browsers, workers and Node).
 */
import { hkdf as nobleHkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { argon2idAsync } from '@noble/hashes/argon2.js';
import { utf8 } from '../protocol/encoding.ts';
import type { Context } from './contexts.ts';
import { CryptoError, expectBytes } from './errors.ts';

/**
 * HKDF-SHA256(ikm, salt, info = context [|| extraInfo]) -> `length` bytes.
 * `context` must come from `CONTEXT`; `extraInfo` binds further public data (ids) into the derivation.
 */
export function hkdf(
  ikm: Uint8Array,
  context: Context,
  length = 32,
  salt: Uint8Array = new Uint8Array(0),
  extraInfo: Uint8Array = new Uint8Array(0),
): Uint8Array {
  expectBytes('ikm', ikm);
  if (ikm.length < 16) throw new CryptoError('bad_length', 'HKDF input key material must be at least 16 bytes');
  if (!Number.isInteger(length) || length < 16 || length > 255 * 32) throw new CryptoError('bad_params', 'bad HKDF length');
  const ctx = utf8(context);
  const info = new Uint8Array(ctx.length + extraInfo.length);
  info.set(ctx, 0);
  info.set(extraInfo, ctx.length);
  return nobleHkdf(sha256, ikm, salt, info, length);
}

/** argon2id parameters (RFC 9106 names): memory `m` in KiB, iterations `t`, parallelism `p`. */
export interface Argon2Params {
  m: number;
  t: number;
  p: number;
}

/**
 * argon2id(password, salt) -> 32 bytes. Yields to the event loop while running; `onProgress` receives
 * 0..1 so a UI can show a progress bar. Throws `CryptoError('bad_params')` below m = 19 MiB, t = 2.
 */
export async function argon2id(
  password: Uint8Array,
  salt: Uint8Array,
  params: Argon2Params,
  onProgress?: (fraction: number) => void,
): Promise<Uint8Array> {
  expectBytes('password', password);
  expectBytes('salt', salt);
  if (salt.length < 16) throw new CryptoError('bad_length', 'argon2id salt must be at least 16 bytes');
  if (params.m < 19456 || params.t < 2 || params.p < 1 || params.p > 4)
    throw new CryptoError('bad_params', 'argon2id parameters below the minimum (m=19456 KiB, t=2, p=1)');
  return argon2idAsync(password, salt, {
    m: params.m,
    t: params.t,
    p: params.p,
    dkLen: 32,
    asyncTick: 10,
    ...(onProgress ? { onProgress } : {}),
  });
}
