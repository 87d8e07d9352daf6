/**
 * Ed25519 signatures with a context string: the signed message is `context || 0x00 || message`, so a
 * signature made for one purpose never verifies for another.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { utf8 } from '../protocol/encoding.ts';
import { concatBytes } from './bytes.ts';
import type { Context } from './contexts.ts';
import { expectBytes } from './errors.ts';

/** Ed25519 public key size. */
export const SIGN_PUBLIC_BYTES = 32;
/** Ed25519 secret key size (the RFC 8032 seed). */
export const SIGN_SECRET_BYTES = 32;
/** Ed25519 signature size (R || S). */
export const SIGNATURE_BYTES = 64;

/** An Ed25519 key pair; `secretKey` is the 32-byte seed. */
export interface SigningKeyPair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

/** New random Ed25519 key pair from the platform CSPRNG (secretKey is the 32-byte seed). */
export function generateSigningKeyPair(): SigningKeyPair {
  const { secretKey, publicKey } = ed25519.keygen();
  return { secretKey, publicKey };
}

/** Public key of a 32-byte Ed25519 seed. Throws `CryptoError('bad_length')` for any other size. */
export function signingPublicKey(secretKey: Uint8Array): Uint8Array {
  expectBytes('secretKey', secretKey, SIGN_SECRET_BYTES);
  return ed25519.getPublicKey(secretKey);
}

function framed(context: Context, message: Uint8Array): Uint8Array {
  return concatBytes(utf8(context), new Uint8Array([0]), message);
}

/**
 * Signs `context || 0x00 || message` (deterministic RFC 8032 Ed25519). Throws `CryptoError('bad_length')`
 * unless the secret key is a 32-byte seed.
 */
export function sign(secretKey: Uint8Array, context: Context, message: Uint8Array): Uint8Array {
  expectBytes('secretKey', secretKey, SIGN_SECRET_BYTES);
  expectBytes('message', message);
  return ed25519.sign(framed(context, message), secretKey);
}

/**
 * Verifies a signature made by `sign` under the same `context`. Strict RFC 8032 rules (noble with
 * zip215 = false): S must be below the group order L, R and A must be canonical encodings, and
 * small-order public keys are refused, so a signature has one valid spelling. Returns false (never
 * throws) for a wrong signature, wrong key, wrong context or malformed input.
 */
export function verify(publicKey: Uint8Array, context: Context, message: Uint8Array, signature: Uint8Array): boolean {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== SIGN_PUBLIC_BYTES) return false;
  if (!(signature instanceof Uint8Array) || signature.length !== SIGNATURE_BYTES) return false;
  if (!(message instanceof Uint8Array)) return false;
  try {
    return ed25519.verify(signature, framed(context, message), publicKey, { zip215: false });
  } catch {
    return false;
  }
}

// --- Native (WebCrypto) Ed25519, with noble as the fallback and the judge of every refusal ---
//
// WebCrypto Ed25519 (OpenSSL in Node, the browser's own elsewhere) checks the cofactorless equation and does
// not refuse small-order keys, while `verify` above (noble, strict) checks the cofactored equation and does.
// So the fast path must never decide differently from noble:
//  - before calling WebCrypto: the public key must decode strictly and not be of small order (checked once
//    per key with noble, cached), S must be below L and R must be a canonical encoding (y < p);
//  - after: a native `true` implies noble's `true` (cofactorless implies cofactored, and the checks above are
//    noble's other conditions); a native `false` is re-checked with noble, so a crafted signature that only
//    the cofactored equation accepts gets noble's answer. Honest signatures take the native path only.
// Signing is deterministic (RFC 8032), so both paths produce the same bytes.

type Subtle = SubtleCrypto;
/** WebCrypto's typings want ArrayBuffer-backed views; ours always are. */
const buf = (b: Uint8Array): BufferSource => b as Uint8Array<ArrayBuffer>;
/** Ed25519's group order L and field prime p as 32 little-endian bytes (for `signatureShapeOk`). */
const ED25519_L_LE = leBytes(2n ** 252n + 27742317777372353535851937790883648493n);
const ED25519_P_LE = leBytes(2n ** 255n - 19n);
const PKCS8_PREFIX = new Uint8Array([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20]);

let nativeProbe: Promise<Subtle | undefined> | undefined;
/** Test hook: force the noble path (false), the native path if present (true), or re-detect (undefined). */
let nativeOverride: boolean | undefined;

function leBytes(n: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++, n >>= 8n) out[i] = Number(n & 0xffn);
  return out;
}

/** Whether the 32 little-endian bytes at `b[offset..]` (top bit of the last one cleared if `maskTop`) are below `bound`. */
function belowLE(b: Uint8Array, offset: number, bound: Uint8Array, maskTop: boolean): boolean {
  for (let i = 31; i >= 0; i--) {
    const x = i === 31 && maskTop ? b[offset + i]! & 0x7f : b[offset + i]!;
    if (x !== bound[i]) return x < bound[i]!;
  }
  return false; // equal
}

/** Feature-detects WebCrypto Ed25519 once (import + sign + verify of a known key). */
function nativeSubtle(): Promise<Subtle | undefined> {
  if (nativeOverride === false) return Promise.resolve(undefined);
  nativeProbe ??= (async () => {
    const subtle = (globalThis.crypto as Crypto | undefined)?.subtle;
    if (!subtle) return undefined;
    try {
      const seed = new Uint8Array(32).fill(7);
      const pub = ed25519.getPublicKey(seed);
      const msg = new Uint8Array([1, 2, 3]);
      const expected = ed25519.sign(msg, seed);
      const sk = await subtle.importKey('pkcs8', buf(concatBytes(PKCS8_PREFIX, seed)), { name: 'Ed25519' }, false, ['sign']);
      const got = new Uint8Array(await subtle.sign('Ed25519', sk, buf(msg)));
      const pk = await subtle.importKey('raw', buf(pub), { name: 'Ed25519' }, false, ['verify']);
      const ok = await subtle.verify('Ed25519', pk, buf(expected), buf(msg));
      if (!ok || got.length !== 64 || got.some((x, i) => x !== expected[i])) return undefined;
      return subtle;
    } catch {
      return undefined;
    }
  })();
  return nativeProbe;
}

/** For tests: `false` forces noble, `true`/`undefined` use WebCrypto when the platform has it. */
export function setNativeSignatures(enabled: boolean | undefined): void {
  nativeOverride = enabled;
}

/** Whether async signing/verification uses WebCrypto Ed25519 on this platform. */
export async function nativeSignaturesAvailable(): Promise<boolean> {
  return (await nativeSubtle()) !== undefined;
}

const MAX_CACHED_KEYS = 4096;
/** Per public key (hex): undefined = refused by noble's strict checks, else the imported key. */
const verifyKeys = new Map<string, Promise<CryptoKey | undefined>>();
/** Imported signing keys per seed object (never keyed by the secret's bytes, so no copy of it lingers). */
const signKeys = new WeakMap<Uint8Array, Promise<CryptoKey>>();

function keyHex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

function remember<T>(map: Map<string, T>, key: string, make: () => T): T {
  let v = map.get(key);
  if (v === undefined) {
    if (map.size >= MAX_CACHED_KEYS) map.delete(map.keys().next().value as string);
    v = make();
    map.set(key, v);
  }
  return v;
}

function strictPublicKeyOk(publicKey: Uint8Array): boolean {
  try {
    return !ed25519.Point.fromBytes(publicKey, false).isSmallOrder();
  } catch {
    return false;
  }
}

/**
 * S < L and R canonically encoded (y < p) in a 64-byte signature; whether R is a curve point is part of the
 * native equation. Compared byte by byte (exported for its test against a BigInt reference).
 */
export function signatureShapeOk(signature: Uint8Array): boolean {
  return belowLE(signature, 32, ED25519_L_LE, false) && belowLE(signature, 0, ED25519_P_LE, true);
}

/**
 * Async `verify`: same answer as `verify` for every input (see above), using WebCrypto Ed25519 when present.
 * Never rejects.
 */
export async function verifyAsync(publicKey: Uint8Array, context: Context, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== SIGN_PUBLIC_BYTES) return false;
  if (!(signature instanceof Uint8Array) || signature.length !== SIGNATURE_BYTES) return false;
  if (!(message instanceof Uint8Array)) return false;
  const subtle = await nativeSubtle();
  if (!subtle) return verify(publicKey, context, message, signature);
  if (!signatureShapeOk(signature)) return false;
  try {
    const pk = publicKey.slice();
    const key = await remember(verifyKeys, keyHex(pk), () =>
      strictPublicKeyOk(pk)
        ? subtle.importKey('raw', buf(pk), { name: 'Ed25519' }, false, ['verify']).catch(() => undefined)
        : Promise.resolve(undefined),
    );
    if (!key) return false;
    if (await subtle.verify('Ed25519', key, buf(signature.slice()), buf(framed(context, message)))) return true;
  } catch {
    /* fall through to noble */
  }
  return verify(publicKey, context, message, signature);
}

/** Async `sign`: identical bytes, WebCrypto Ed25519 when present. Throws like `sign`. */
export async function signAsync(secretKey: Uint8Array, context: Context, message: Uint8Array): Promise<Uint8Array> {
  expectBytes('secretKey', secretKey, SIGN_SECRET_BYTES);
  expectBytes('message', message);
  const subtle = await nativeSubtle();
  if (!subtle) return sign(secretKey, context, message);
  try {
    let key = signKeys.get(secretKey);
    if (!key) {
      key = subtle.importKey('pkcs8', buf(concatBytes(PKCS8_PREFIX, secretKey)), { name: 'Ed25519' }, false, ['sign']);
      signKeys.set(secretKey, key);
    }
    return new Uint8Array(await subtle.sign('Ed25519', await key, buf(framed(context, message))));
  } catch {
    return sign(secretKey, context, message);
  }
}
