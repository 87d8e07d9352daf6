/**
 * Profile keys ([PROFILE-2] in docs/protocol.md): a user's profile document `p_<user>` is encrypted under a
 * random 32-byte profile key per `version`. The owner seals the key for each contact (and for themself, so
 * their other devices get it) and signs the sealed box with their identity key:
 *
 *   aad  = lp(utf8(CONTEXT.profileKey), utf8(ownerId), utf8(recipientId), u32be(version))
 *   wrap = sealToPublicKey(recipient.sealing, profileKey, aad)
 *   sig  = Ed25519(owner.identity, CONTEXT.wrap, lp(aad, wrap))
 *
 * Recipients verify the signature against the owner's PINNED identity key before opening anything. The
 * label in the AAD keeps a profile wrap from ever verifying or opening as a conversation epoch wrap (whose
 * AAD is lp(convId, u32 epoch, recipientId): three fields, not four) and vice versa.
 */
import { CONTEXT, CryptoError, lp, openSealedBox, randomBytes, sealToPublicKey, sign, u32be, verify, type BoxKeyPair } from '../crypto/index.ts';
import { utf8 } from '../protocol/encoding.ts';

/** Size of a profile key. */
export const PROFILE_KEY_BYTES = 32;

/** A fresh random profile key. */
export function generateProfileKey(): Uint8Array {
  return randomBytes(PROFILE_KEY_BYTES);
}

/** The AAD of a profile key wrap ([PROFILE-2]). Throws `CryptoError('bad_params')` for a version outside u32. */
export function profileWrapAad(ownerId: string, recipientId: string, version: number): Uint8Array {
  return lp(utf8(CONTEXT.profileKey), utf8(ownerId), utf8(recipientId), u32be(version));
}

/** A signed profile key wrap for one recipient (bytes; base64url on the wire). */
export interface SignedProfileWrap {
  recipientId: string;
  wrap: Uint8Array;
  sig: Uint8Array;
}

/**
 * Seals `key` for `recipientId` and signs it with the owner's identity secret ([PROFILE-2]). Throws
 * `CryptoError` for malformed keys or a version outside u32 (local programming errors).
 */
export function wrapProfileKey(args: {
  ownerId: string;
  recipientId: string;
  version: number;
  key: Uint8Array;
  recipientSealingPublic: Uint8Array;
  ownerIdentitySecret: Uint8Array;
}): SignedProfileWrap {
  if (args.key.length !== PROFILE_KEY_BYTES) throw new CryptoError('bad_length', 'a profile key is 32 bytes');
  const aad = profileWrapAad(args.ownerId, args.recipientId, args.version);
  const wrap = sealToPublicKey(args.recipientSealingPublic, args.key, aad);
  const sig = sign(args.ownerIdentitySecret, CONTEXT.wrap, lp(aad, wrap));
  return { recipientId: args.recipientId, wrap, sig };
}

/** Result of opening a peer's profile key wrap; never throws for peer data. */
export type ProfileKeyResult = { ok: true; key: Uint8Array } | { ok: false; code: 'bad_signature' | 'decrypt_failed' | 'malformed' };

/**
 * Verifies the owner's signature (against `ownerIdentityPublic`, which must be the PINNED key), then opens
 * the wrap with the recipient's sealing key pair ([PROFILE-2]). Nothing is decrypted before the signature
 * verifies. Returns a result code instead of throwing.
 */
export function unwrapProfileKey(args: {
  ownerId: string;
  recipientId: string;
  version: number;
  wrap: Uint8Array;
  sig: Uint8Array;
  ownerIdentityPublic: Uint8Array;
  recipient: BoxKeyPair;
}): ProfileKeyResult {
  let aad: Uint8Array;
  try {
    aad = profileWrapAad(args.ownerId, args.recipientId, args.version);
  } catch {
    return { ok: false, code: 'malformed' };
  }
  if (!verify(args.ownerIdentityPublic, CONTEXT.wrap, lp(aad, args.wrap), args.sig)) return { ok: false, code: 'bad_signature' };
  let key: Uint8Array;
  try {
    key = openSealedBox(args.recipient, args.wrap, aad);
  } catch (e) {
    if (e instanceof CryptoError) return { ok: false, code: 'decrypt_failed' };
    throw e;
  }
  if (key.length !== PROFILE_KEY_BYTES) return { ok: false, code: 'malformed' };
  return { ok: true, key };
}
