/**
 * The account key scheme (see shared/src/protocol/auth.ts and docs/architecture.md "Accounts"):
 *
 *   master      = argon2id(utf8(NFKC(password)), salt16, kdf)
 *   authKey     = HKDF(master, CONTEXT.authKey)        sent to the server (as its login verifier)
 *   kek         = HKDF(master, CONTEXT.kek)            never leaves the device
 *   accountBundle  = seal(kek, secrets, lp(CONTEXT.accountBundle, usernameKey))
 *   recoveryKek    = HKDF(recoveryKey, CONTEXT.recoveryKek)
 *   recoveryAuth   = HKDF(recoveryKey, CONTEXT.recoveryAuth)  sent to the server
 *   recoveryBundle = seal(recoveryKek, secrets, lp(CONTEXT.recoveryBundle, usernameKey))
 *   publicKeys  = { identity, sealing, sealingSig = sign(identity, CONTEXT.sealingKey, sealing) }
 *
 * `secrets` (bundle format v1) is binary, not JSON, so secret keys never exist as JS strings (which
 * cannot be wiped): `0x01 || identity Ed25519 seed (32) || sealing X25519 secret (32)`. A later version
 * gets a new first byte; v1 bundles must keep opening (shared/test/fixtures/account-bundle-v1.json).
 * The AAD binds the bundle's purpose and the case-insensitive username key, so a bundle cannot be
 * swapped between accounts or between the password and recovery slots.
 */
import { z } from 'zod';
import {
  argon2id,
  boxPublicKey,
  concatBytes,
  equalBytes,
  generateBoxKeyPair,
  generateSigningKeyPair,
  hkdf,
  lp,
  open,
  seal,
  sign,
  signingPublicKey,
  verify,
  verifyAsync,
  wipe,
  CONTEXT,
  CryptoError,
  type BoxKeyPair,
  type SigningKeyPair,
} from '../crypto/index.ts';
import { fromBase64Url, toBase64Url, utf8 } from '../protocol/encoding.ts';
import { KdfParams, PublicKeys } from '../protocol/auth.ts';
import { Username, usernameKey } from '../protocol/username.ts';
import { ClientError } from './errors.ts';

/** A user's private keys, held only as bytes. Every device of the user unlocks the same ones. */
export interface AccountKeys {
  /** Ed25519 identity key (signs); `secretKey` is the 32-byte seed. */
  identity: SigningKeyPair;
  /** X25519 sealing key (receives wrapped conversation keys). */
  sealing: BoxKeyPair;
}

/** Keys derived from the password: `authKey` goes to the server, `kek` stays on the device. */
export interface PasswordKeys {
  authKey: Uint8Array;
  kek: Uint8Array;
}

/** Keys derived from the recovery key: `recoveryAuthKey` goes to the server, `recoveryKek` stays. */
export interface RecoveryKeys {
  recoveryAuthKey: Uint8Array;
  recoveryKek: Uint8Array;
}

/** First byte of bundle plaintext format v1. */
export const BUNDLE_FORMAT_V1 = 1;
const SECRETS_V1_BYTES = 1 + 32 + 32;

/** Fresh random identity and sealing key pairs. */
export function generateAccountKeys(): AccountKeys {
  return { identity: generateSigningKeyPair(), sealing: generateBoxKeyPair() };
}

/** The canonical (case-insensitive) username key bound into bundle AAD. Throws `ClientError('invalid_input')`. */
export function bundleUsernameKey(username: string): string {
  const parsed = Username.safeParse(username);
  if (!parsed.success) throw new ClientError('invalid_input', parsed.error.issues[0]?.message ?? 'invalid username');
  return usernameKey(parsed.data);
}

/** The password as hashed: UTF-8 of its NFKC form, so the same password typed on any keyboard matches. */
export function passwordBytes(password: string): Uint8Array {
  return utf8(password.normalize('NFKC'));
}

/**
 * Runs argon2id and HKDF: `{authKey, kek}` for `password` under `salt` and `kdf`. `kdf` is validated with
 * the protocol schema first (a server cannot push costs below the floor). Throws
 * `ClientError('invalid_input')` for bad parameters; `onProgress` gets 0..1.
 */
export async function derivePasswordKeys(
  password: string,
  salt: Uint8Array,
  kdf: KdfParams,
  onProgress?: (fraction: number) => void,
): Promise<PasswordKeys> {
  const params = KdfParams.safeParse(kdf);
  if (!params.success) throw new ClientError('invalid_input', 'KDF parameters out of range');
  let master: Uint8Array;
  try {
    master = await argon2id(passwordBytes(password), salt, params.data, onProgress);
  } catch (cause) {
    throw new ClientError('invalid_input', 'cannot derive keys from these parameters', { cause });
  }
  const keys = { authKey: hkdf(master, CONTEXT.authKey), kek: hkdf(master, CONTEXT.kek) };
  wipe(master);
  return keys;
}

/** `{recoveryAuthKey, recoveryKek}` from a 32-byte recovery key (HKDF only: the key is already random). */
export function deriveRecoveryKeys(recoveryKey: Uint8Array): RecoveryKeys {
  if (!(recoveryKey instanceof Uint8Array) || recoveryKey.length !== 32)
    throw new ClientError('invalid_input', 'recovery key must be 32 bytes');
  return { recoveryAuthKey: hkdf(recoveryKey, CONTEXT.recoveryAuth), recoveryKek: hkdf(recoveryKey, CONTEXT.recoveryKek) };
}

/** Bundle plaintext v1 for `keys`. The caller wipes it after sealing. */
export function encodeAccountSecrets(keys: AccountKeys): Uint8Array {
  return concatBytes(new Uint8Array([BUNDLE_FORMAT_V1]), keys.identity.secretKey, keys.sealing.secretKey);
}

/** zod schema for decrypted bundle plaintext: validates the version and size, yields the key pairs. */
export const AccountSecrets = z
  .instanceof(Uint8Array)
  .refine((b) => b.length >= 1 && b[0] === BUNDLE_FORMAT_V1, { message: 'unknown bundle format version' })
  .refine((b) => b.length === SECRETS_V1_BYTES, { message: `bundle v1 must be ${SECRETS_V1_BYTES} bytes` })
  .transform((b): AccountKeys => {
    const identitySeed = b.slice(1, 33);
    const sealingSecret = b.slice(33, 65);
    return {
      identity: { secretKey: identitySeed, publicKey: signingPublicKey(identitySeed) },
      sealing: { secretKey: sealingSecret, publicKey: boxPublicKey(sealingSecret) },
    };
  });

/** Which slot a bundle is sealed for; each has its own AAD context. */
export type BundleSlot = 'account' | 'recovery';

function bundleAad(slot: BundleSlot, username: string): Uint8Array {
  const context = slot === 'account' ? CONTEXT.accountBundle : CONTEXT.recoveryBundle;
  return lp(utf8(context), utf8(bundleUsernameKey(username)));
}

/** Seals `keys` under `kek` for `username` in `slot`. Throws `ClientError('invalid_input')` for a bad username. */
export function sealBundle(slot: BundleSlot, kek: Uint8Array, keys: AccountKeys, username: string): Uint8Array {
  const secrets = encodeAccountSecrets(keys);
  try {
    return seal(kek, secrets, bundleAad(slot, username));
  } finally {
    wipe(secrets);
  }
}

/**
 * Opens a bundle and returns its keys. Throws `ClientError('bundle_decrypt_failed')` when it does not
 * authenticate under `kek` for this username and slot (wrong password or recovery key, tampering, a
 * bundle of another account), `ClientError('bundle_corrupt')` when the plaintext is not a valid bundle.
 */
export function openBundle(slot: BundleSlot, kek: Uint8Array, bundle: Uint8Array, username: string): AccountKeys {
  const aad = bundleAad(slot, username);
  let plaintext: Uint8Array;
  try {
    plaintext = open(kek, bundle, aad);
  } catch (cause) {
    if (cause instanceof CryptoError)
      throw new ClientError('bundle_decrypt_failed', `the ${slot} bundle did not decrypt`, { cause });
    throw cause;
  }
  const parsed = AccountSecrets.safeParse(plaintext);
  wipe(plaintext);
  if (!parsed.success) throw new ClientError('bundle_corrupt', parsed.error.issues[0]?.message ?? 'bad bundle');
  return parsed.data;
}

/** The public half for the key directory, with the identity key's signature over the sealing key. */
export function publicKeysOf(keys: AccountKeys): PublicKeys {
  return {
    identity: toBase64Url(keys.identity.publicKey),
    sealing: toBase64Url(keys.sealing.publicKey),
    sealingSig: toBase64Url(sign(keys.identity.secretKey, CONTEXT.sealingKey, keys.sealing.publicKey)),
  };
}

/** Published public keys as bytes, with the sealing key's signature; throws `key_mismatch` when malformed. */
function publishedKeyBytes(published: PublicKeys): { identity: Uint8Array; sealing: Uint8Array; sealingSig: Uint8Array } {
  const parsed = PublicKeys.safeParse(published);
  if (!parsed.success) throw new ClientError('key_mismatch', 'published keys are malformed');
  return { identity: fromBase64Url(parsed.data.identity), sealing: fromBase64Url(parsed.data.sealing), sealingSig: fromBase64Url(parsed.data.sealingSig) };
}

const unsignedSealingKey = () => new ClientError('key_mismatch', 'the sealing key is not signed by the identity key');

/**
 * Checks published public keys: the sealing key must be signed by the identity key. Returns them as
 * bytes. Throws `ClientError('key_mismatch')` otherwise.
 */
export function verifyPublicKeys(published: PublicKeys): { identity: Uint8Array; sealing: Uint8Array } {
  const { identity, sealing, sealingSig } = publishedKeyBytes(published);
  if (!verify(identity, CONTEXT.sealingKey, sealing, sealingSig)) throw unsignedSealingKey();
  return { identity, sealing };
}

/** `verifyPublicKeys` with the platform's native Ed25519 (`verifyAsync`): the same answers, off the main thread's noble. */
export async function verifyPublicKeysAsync(published: PublicKeys): Promise<{ identity: Uint8Array; sealing: Uint8Array }> {
  const { identity, sealing, sealingSig } = publishedKeyBytes(published);
  if (!(await verifyAsync(identity, CONTEXT.sealingKey, sealing, sealingSig))) throw unsignedSealingKey();
  return { identity, sealing };
}

/**
 * Throws `ClientError('key_mismatch')` unless `keys` (decrypted secrets) produce exactly the published
 * public keys and the published sealing key signature verifies.
 */
export function assertKeysMatch(keys: AccountKeys, published: PublicKeys): void {
  const pub = verifyPublicKeys(published);
  if (!equalBytes(pub.identity, keys.identity.publicKey) || !equalBytes(pub.sealing, keys.sealing.publicKey))
    throw new ClientError('key_mismatch', 'decrypted keys do not match the published public keys');
}
