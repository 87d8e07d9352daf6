/**
 * X25519 key agreement and the sealed box used to wrap keys for a recipient:
 *   eph = X25519 keygen; k = HKDF(X25519(eph, R), salt = eph.pub || R, info = CONTEXT.sealedBox || aad)
 *   box = eph.pub || nonce || XChaCha20-Poly1305(k, nonce, plaintext, aad)
 * Anonymous by itself; callers that need authorship sign the box (see `wrap` in the envelope layer).
 */
import { x25519 } from '@noble/curves/ed25519.js';
import { open, seal, AEAD_NONCE_BYTES, AEAD_TAG_BYTES } from './aead.ts';
import { concatBytes, equalBytes } from './bytes.ts';
import { CONTEXT } from './contexts.ts';
import { CryptoError, expectBytes } from './errors.ts';
import { hkdf } from './kdf.ts';

export const BOX_PUBLIC_BYTES = 32;
export const BOX_SECRET_BYTES = 32;
export const SEALED_BOX_OVERHEAD = BOX_PUBLIC_BYTES + AEAD_NONCE_BYTES + AEAD_TAG_BYTES;

export interface BoxKeyPair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

/** New random X25519 key pair. */
export function generateBoxKeyPair(): BoxKeyPair {
  const { secretKey, publicKey } = x25519.keygen();
  return { secretKey, publicKey };
}

/** Public key of an X25519 secret key. */
export function boxPublicKey(secretKey: Uint8Array): Uint8Array {
  expectBytes('secretKey', secretKey, BOX_SECRET_BYTES);
  return x25519.getPublicKey(secretKey);
}

function sharedKey(secret: Uint8Array, peerPublic: Uint8Array, ephPublic: Uint8Array, recipient: Uint8Array, aad: Uint8Array) {
  let shared: Uint8Array;
  try {
    shared = x25519.getSharedSecret(secret, peerPublic);
  } catch (cause) {
    throw new CryptoError('bad_key', 'X25519 agreement failed', { cause });
  }
  if (equalBytes(shared, new Uint8Array(32))) throw new CryptoError('bad_key', 'X25519 produced an all-zero secret');
  return hkdf(shared, CONTEXT.sealedBox, 32, concatBytes(ephPublic, recipient), aad);
}

/** Seals `plaintext` so only the holder of `recipientPublic`'s secret can open it; `aad` is bound in. */
export function sealToPublicKey(recipientPublic: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  expectBytes('recipientPublic', recipientPublic, BOX_PUBLIC_BYTES);
  const eph = generateBoxKeyPair();
  const k = sharedKey(eph.secretKey, recipientPublic, eph.publicKey, recipientPublic, aad);
  return concatBytes(eph.publicKey, seal(k, plaintext, aad));
}

/** Opens a sealed box with the recipient's key pair. Throws `CryptoError('decrypt_failed')` on tampering. */
export function openSealedBox(recipient: BoxKeyPair, box: Uint8Array, aad: Uint8Array): Uint8Array {
  expectBytes('box', box);
  if (box.length < SEALED_BOX_OVERHEAD) throw new CryptoError('decrypt_failed', 'sealed box too short');
  const ephPublic = box.subarray(0, BOX_PUBLIC_BYTES);
  const k = sharedKey(recipient.secretKey, ephPublic, ephPublic, recipient.publicKey, aad);
  return open(k, box.subarray(BOX_PUBLIC_BYTES), aad);
}
