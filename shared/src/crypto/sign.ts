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
