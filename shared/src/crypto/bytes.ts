/** Byte helpers: concatenation, constant-time compare, randomness, fixed-width integers. */
import { randomBytes as nobleRandomBytes } from '@noble/hashes/utils.js';
import { CryptoError } from './errors.ts';

/** Cryptographically secure random bytes (WebCrypto getRandomValues underneath; throws if the platform has none). */
export function randomBytes(length: number): Uint8Array {
  return nobleRandomBytes(length);
}

/** Concatenates byte arrays into a new array (inputs are not aliased). */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Constant-time equality for equal-length inputs (length itself is not secret). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** Big-endian u32. Throws `CryptoError('bad_params')` for a non-integer or a value outside 0..2^32-1. */
export function u32be(value: number): Uint8Array {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff)
    throw new CryptoError('bad_params', 'u32 out of range');
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value, false);
  return out;
}

/** Big-endian u64 from a safe integer. Throws `CryptoError('bad_params')` for a negative or unsafe value. */
export function u64be(value: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0) throw new CryptoError('bad_params', 'u64 out of range');
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(value), false);
  return out;
}

/** Length-prefixed (u32be) encoding, for building unambiguous signed/AAD byte strings. */
export function lp(...parts: Uint8Array[]): Uint8Array {
  const out: Uint8Array[] = [];
  for (const p of parts) out.push(u32be(p.length), p);
  return concatBytes(...out);
}

/** Overwrites a secret buffer with zeros (best effort; JS gives no guarantee against copies). */
export function wipe(bytes: Uint8Array): void {
  bytes.fill(0);
}
