/**
 * X25519 key agreement and the sealed box used to wrap keys for a recipient:
 *   eph = X25519 keygen; k = HKDF(X25519(eph, R), salt = eph.pub || R, info = CONTEXT.sealedBox || aad)
 *   box = eph.pub || nonce || XChaCha20-Poly1305(k, nonce, plaintext, aad)
 * The recipient's public key is in the KDF salt, so a box opened with a mismatched key pair fails, and
 * `aad` is bound twice (KDF info and AEAD AAD). Anonymous by itself; callers that need authorship sign the
 * box (see `wrap` in the envelope layer).
 *
 * Low-order public keys (RFC 7748 §6.1: an all-zero shared secret) are refused with `bad_key`, so an
 * attacker cannot force a box key that does not depend on the recipient's secret.
 */
import { x25519 } from '@noble/curves/ed25519.js';
import { open, seal, AEAD_NONCE_BYTES, AEAD_TAG_BYTES } from './aead.ts';
import { concatBytes, equalBytes } from './bytes.ts';
import { CONTEXT } from './contexts.ts';
import { CryptoError, expectBytes } from './errors.ts';
import { hkdf } from './kdf.ts';

export const BOX_PUBLIC_BYTES = 32;
export const BOX_SECRET_BYTES = 32;
/** Bytes a sealed box adds to its plaintext: ephemeral public key, nonce and tag. */
export const SEALED_BOX_OVERHEAD = BOX_PUBLIC_BYTES + AEAD_NONCE_BYTES + AEAD_TAG_BYTES;

/** An X25519 key pair; `secretKey` is the 32-byte scalar (clamped when used). */
export interface BoxKeyPair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

/** New random X25519 key pair from the platform CSPRNG. */
export function generateBoxKeyPair(): BoxKeyPair {
  const { secretKey, publicKey } = x25519.keygen();
  return { secretKey, publicKey };
}

/** Public key of an X25519 secret key. Throws `CryptoError('bad_length')` unless it is 32 bytes. */
export function boxPublicKey(secretKey: Uint8Array): Uint8Array {
  expectBytes('secretKey', secretKey, BOX_SECRET_BYTES);
  return x25519.getPublicKey(secretKey);
}

/**
 * Raw X25519(secretKey, peerPublic) (RFC 7748 §5). Throws `CryptoError('bad_length')` for wrong sizes and
 * `CryptoError('bad_key')` when the peer key is of low order (the result would be all zeros). Use the
 * output only through a KDF (as `sealToPublicKey` does), never as a key directly.
 */
export function x25519SharedSecret(secretKey: Uint8Array, peerPublic: Uint8Array): Uint8Array {
  expectBytes('secretKey', secretKey, BOX_SECRET_BYTES);
  expectBytes('peerPublic', peerPublic, BOX_PUBLIC_BYTES);
  let shared: Uint8Array;
  try {
    shared = x25519.getSharedSecret(secretKey, peerPublic);
  } catch (cause) {
    throw new CryptoError('bad_key', 'X25519 refused a low-order public key', { cause });
  }
  // noble already refuses low-order inputs before the ladder; this is a second, independent check.
  if (equalBytes(shared, new Uint8Array(32))) throw new CryptoError('bad_key', 'X25519 produced an all-zero secret');
  return shared;
}

function boxKey(secret: Uint8Array, peerPublic: Uint8Array, ephPublic: Uint8Array, recipient: Uint8Array, aad: Uint8Array) {
  const shared = x25519SharedSecret(secret, peerPublic);
  return hkdf(shared, CONTEXT.sealedBox, 32, concatBytes(ephPublic, recipient), aad);
}

/**
 * Seals `plaintext` so only the holder of `recipientPublic`'s secret can open it; `aad` is bound in.
 * Output is `SEALED_BOX_OVERHEAD` bytes longer than the plaintext. Throws `CryptoError('bad_length')`
 * for a key that is not 32 bytes and `CryptoError('bad_key')` for a low-order recipient key.
 */
export function sealToPublicKey(recipientPublic: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  expectBytes('recipientPublic', recipientPublic, BOX_PUBLIC_BYTES);
  expectBytes('plaintext', plaintext);
  expectBytes('aad', aad);
  const eph = generateBoxKeyPair();
  const k = boxKey(eph.secretKey, recipientPublic, eph.publicKey, recipientPublic, aad);
  eph.secretKey.fill(0);
  return concatBytes(eph.publicKey, seal(k, plaintext, aad));
}

/**
 * Opens a sealed box with the recipient's key pair; returns the plaintext only after authentication.
 * Throws `CryptoError('decrypt_failed')` for a truncated or tampered box, a wrong `aad` or a key pair that
 * is not the recipient's; `CryptoError('bad_key')` when the box carries a low-order ephemeral key;
 * `CryptoError('bad_length')` for key pair parts that are not 32 bytes.
 */
export function openSealedBox(recipient: BoxKeyPair, box: Uint8Array, aad: Uint8Array): Uint8Array {
  expectBytes('recipient.secretKey', recipient.secretKey, BOX_SECRET_BYTES);
  expectBytes('recipient.publicKey', recipient.publicKey, BOX_PUBLIC_BYTES);
  expectBytes('box', box);
  expectBytes('aad', aad);
  if (box.length < SEALED_BOX_OVERHEAD) throw new CryptoError('decrypt_failed', 'sealed box too short');
  const ephPublic = box.subarray(0, BOX_PUBLIC_BYTES);
  const k = boxKey(recipient.secretKey, ephPublic, ephPublic, recipient.publicKey, aad);
  return open(k, box.subarray(BOX_PUBLIC_BYTES), aad);
}
