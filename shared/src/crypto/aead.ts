/**
 * XChaCha20-Poly1305 AEAD (@noble/ciphers). Keys are 32 bytes, nonces 24 bytes (random nonces are safe at
 * this size), tags 16 bytes. AAD is a required argument: callers encode their context first.
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { randomBytes, concatBytes } from './bytes.ts';
import { CryptoError, expectBytes } from './errors.ts';

/** XChaCha20-Poly1305 key size. */
export const AEAD_KEY_BYTES = 32;
/** XChaCha20 nonce size: 192 bits, so random nonces do not collide in practice (~2^80 messages per key). */
export const AEAD_NONCE_BYTES = 24;
/** Poly1305 tag size. */
export const AEAD_TAG_BYTES = 16;
/** Bytes `seal` adds to its plaintext (nonce and tag). */
export const SEAL_OVERHEAD = AEAD_NONCE_BYTES + AEAD_TAG_BYTES;

/**
 * Encrypts with an explicit nonce; returns ciphertext || tag. The caller guarantees the nonce is never
 * reused under the same key (prefer `seal`, which draws a random one). Throws `CryptoError('bad_length')`
 * for a key that is not 32 bytes or a nonce that is not 24 bytes.
 */
export function aeadEncrypt(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  expectBytes('key', key, AEAD_KEY_BYTES);
  expectBytes('nonce', nonce, AEAD_NONCE_BYTES);
  expectBytes('plaintext', plaintext);
  expectBytes('aad', aad);
  return xchacha20poly1305(key, nonce, aad).encrypt(plaintext);
}

/**
 * Verifies and decrypts ciphertext || tag; returns plaintext only when the tag authenticates key, nonce,
 * ciphertext and `aad`. Throws `CryptoError('decrypt_failed')` on any mismatch or an input shorter than a
 * tag, `CryptoError('bad_length')` for wrong key/nonce sizes.
 */
export function aeadDecrypt(key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, aad: Uint8Array): Uint8Array {
  expectBytes('key', key, AEAD_KEY_BYTES);
  expectBytes('nonce', nonce, AEAD_NONCE_BYTES);
  expectBytes('ciphertext', ciphertext);
  expectBytes('aad', aad);
  if (ciphertext.length < AEAD_TAG_BYTES) throw new CryptoError('decrypt_failed', 'ciphertext shorter than tag');
  try {
    return xchacha20poly1305(key, nonce, aad).decrypt(ciphertext);
  } catch (cause) {
    throw new CryptoError('decrypt_failed', 'authentication failed', { cause });
  }
}

/**
 * Seals with a fresh random nonce; returns nonce || ciphertext || tag (`SEAL_OVERHEAD` bytes longer than
 * the plaintext). `aad` is required: callers encode the public context they bind first.
 * Throws `CryptoError('bad_length')` for a key that is not 32 bytes.
 */
export function seal(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  expectBytes('key', key, AEAD_KEY_BYTES);
  const nonce = randomBytes(AEAD_NONCE_BYTES);
  return concatBytes(nonce, aeadEncrypt(key, nonce, plaintext, aad));
}

/**
 * Verifies and opens the output of `seal`. Throws `CryptoError('decrypt_failed')` on any tampering,
 * truncation, wrong key or wrong `aad`; `CryptoError('bad_length')` for a key that is not 32 bytes.
 */
export function open(key: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array {
  expectBytes('key', key, AEAD_KEY_BYTES);
  expectBytes('sealed', sealed);
  if (sealed.length < SEAL_OVERHEAD) throw new CryptoError('decrypt_failed', 'sealed box too short');
  return aeadDecrypt(key, sealed.subarray(0, AEAD_NONCE_BYTES), sealed.subarray(AEAD_NONCE_BYTES), aad);
}
