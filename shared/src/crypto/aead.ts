/**
 * XChaCha20-Poly1305 AEAD (@noble/ciphers). Keys are 32 bytes, nonces 24 bytes (random nonces are safe at
 * this size), tags 16 bytes. AAD is a required argument: callers encode their context first.
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { randomBytes, concatBytes } from './bytes.ts';
import { CryptoError, expectBytes } from './errors.ts';

export const AEAD_KEY_BYTES = 32;
export const AEAD_NONCE_BYTES = 24;
export const AEAD_TAG_BYTES = 16;

/** Encrypts with an explicit nonce. Returns ciphertext || tag. */
export function aeadEncrypt(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  expectBytes('key', key, AEAD_KEY_BYTES);
  expectBytes('nonce', nonce, AEAD_NONCE_BYTES);
  expectBytes('plaintext', plaintext);
  expectBytes('aad', aad);
  return xchacha20poly1305(key, nonce, aad).encrypt(plaintext);
}

/** Decrypts ciphertext || tag. Throws `CryptoError('decrypt_failed')` when authentication fails. */
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

/** Seals with a fresh random nonce. Returns nonce || ciphertext || tag. */
export function seal(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  const nonce = randomBytes(AEAD_NONCE_BYTES);
  return concatBytes(nonce, aeadEncrypt(key, nonce, plaintext, aad));
}

/** Opens the output of `seal`. Throws `CryptoError('decrypt_failed')` on any tampering. */
export function open(key: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array {
  expectBytes('sealed', sealed);
  if (sealed.length < AEAD_NONCE_BYTES + AEAD_TAG_BYTES) throw new CryptoError('decrypt_failed', 'sealed box too short');
  return aeadDecrypt(key, sealed.subarray(0, AEAD_NONCE_BYTES), sealed.subarray(AEAD_NONCE_BYTES), aad);
}
