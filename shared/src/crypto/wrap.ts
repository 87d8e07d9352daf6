/**
 * Conversation epoch keys and how they travel (docs/protocol.md [WRAP-1]..[WRAP-4]):
 *
 * - [WRAP-1] An epoch key is 32 random bytes. Its public commitment is HKDF(key, "parley/key-commitment/v1",
 *   salt = lp(convId, epoch)); the server stores it so concurrent creators of one epoch are detected.
 * - [WRAP-2] A wrap is a sealed box of the key to the recipient's X25519 sealing key, AAD = lp(convId, epoch,
 *   recipientId), signed by the wrapper's Ed25519 identity key under "parley/wrap/v1" over
 *   lp(convId, epoch, recipientId, wrap). Recipients verify the signature (against a member's pinned key)
 *   and the commitment before using the key.
 * - [WRAP-3] A chain wrap seals an older epoch key under HKDF(newer key, "parley/epoch-chain/v1"),
 *   AAD = lp(convId, fromEpoch, toEpoch), signed like a wrap, so holders of the newest key keep history.
 */
import { open, seal } from './aead.ts';
import { lp, randomBytes, u32be, equalBytes } from './bytes.ts';
import { openSealedBox, sealToPublicKey, type BoxKeyPair } from './box.ts';
import { CONTEXT } from './contexts.ts';
import { CryptoError, expectBytes } from './errors.ts';
import { hkdf } from './kdf.ts';
import { sign, verify, verifyAsync } from './sign.ts';
import { utf8 } from '../protocol/encoding.ts';

export const EPOCH_KEY_BYTES = 32;

/** A fresh random epoch key. */
export function generateEpochKey(): Uint8Array {
  return randomBytes(EPOCH_KEY_BYTES);
}

/** [WRAP-1] The public commitment to an epoch key (safe to publish: HKDF is one-way). */
export function epochKeyCommitment(convId: string, epoch: number, key: Uint8Array): Uint8Array {
  expectBytes('key', key, EPOCH_KEY_BYTES);
  return hkdf(key, CONTEXT.keyCommitment, 32, lp(utf8(convId), u32be(epoch)));
}

function wrapAad(convId: string, epoch: number, recipientId: string): Uint8Array {
  return lp(utf8(convId), u32be(epoch), utf8(recipientId));
}

/** A signed wrap of an epoch key for one recipient. */
export interface SignedWrap {
  recipientId: string;
  wrap: Uint8Array;
  sig: Uint8Array;
}

/** [WRAP-2] Wraps `key` for `recipientId` (whose sealing public key is given) and signs the wrap. */
export function wrapEpochKey(args: {
  convId: string;
  epoch: number;
  key: Uint8Array;
  recipientId: string;
  recipientSealingPublic: Uint8Array;
  wrapperIdentitySecret: Uint8Array;
}): SignedWrap {
  expectBytes('key', args.key, EPOCH_KEY_BYTES);
  const aad = wrapAad(args.convId, args.epoch, args.recipientId);
  const wrap = sealToPublicKey(args.recipientSealingPublic, args.key, aad);
  const sig = sign(args.wrapperIdentitySecret, CONTEXT.wrap, lp(aad, wrap));
  return { recipientId: args.recipientId, wrap, sig };
}

/** Result of opening peer-supplied key material: never throws for bad input. */
export type KeyResult =
  | { ok: true; key: Uint8Array }
  | { ok: false; code: 'bad_signature' | 'decrypt_failed' | 'commitment_mismatch' | 'malformed' };

/**
 * [WRAP-2] Verifies the wrapper's signature, opens the wrap with the recipient's sealing key pair, and checks
 * the key against the epoch's commitment (when given). Returns a result code instead of throwing.
 */
export function unwrapEpochKey(args: {
  convId: string;
  epoch: number;
  recipientId: string;
  recipient: BoxKeyPair;
  wrap: Uint8Array;
  sig: Uint8Array;
  wrapperIdentityPublic: Uint8Array;
  commitment?: Uint8Array;
}): KeyResult {
  const aad = wrapAad(args.convId, args.epoch, args.recipientId);
  if (!verify(args.wrapperIdentityPublic, CONTEXT.wrap, lp(aad, args.wrap), args.sig)) return { ok: false, code: 'bad_signature' };
  return openEpochWrap(args, aad);
}

/** `unwrapEpochKey` verifying with the platform's native Ed25519 (`verifyAsync`): the same results. */
export async function unwrapEpochKeyAsync(args: Parameters<typeof unwrapEpochKey>[0]): Promise<KeyResult> {
  const aad = wrapAad(args.convId, args.epoch, args.recipientId);
  if (!(await verifyAsync(args.wrapperIdentityPublic, CONTEXT.wrap, lp(aad, args.wrap), args.sig))) return { ok: false, code: 'bad_signature' };
  return openEpochWrap(args, aad);
}

/** The part of [WRAP-2] after the signature: open the sealed box, check length and commitment. */
function openEpochWrap(args: Parameters<typeof unwrapEpochKey>[0], aad: Uint8Array): KeyResult {
  return openedKey(() => openSealedBox(args.recipient, args.wrap, aad), args.commitment, (key) => epochKeyCommitment(args.convId, args.epoch, key));
}

/**
 * What [WRAP-2] and [WRAP-3] do once the signature holds: `openIt` (a failure to open is `decrypt_failed`), then
 * the key's length and, when a commitment is given, the key against it.
 */
function openedKey(openIt: () => Uint8Array, commitment: Uint8Array | undefined, commit: (key: Uint8Array) => Uint8Array): KeyResult {
  let key: Uint8Array;
  try {
    key = openIt();
  } catch (e) {
    if (e instanceof CryptoError) return { ok: false, code: 'decrypt_failed' };
    throw e;
  }
  if (key.length !== EPOCH_KEY_BYTES) return { ok: false, code: 'malformed' };
  if (commitment && !equalBytes(commit(key), commitment)) return { ok: false, code: 'commitment_mismatch' };
  return { ok: true, key };
}

function chainAad(convId: string, fromEpoch: number, toEpoch: number): Uint8Array {
  return lp(utf8(convId), u32be(fromEpoch), u32be(toEpoch));
}

/** [WRAP-3] Seals the key of `fromEpoch` under the key of `toEpoch` and signs it. */
export function wrapChainKey(args: {
  convId: string;
  fromEpoch: number;
  toEpoch: number;
  oldKey: Uint8Array;
  newKey: Uint8Array;
  wrapperIdentitySecret: Uint8Array;
}): { wrapped: Uint8Array; sig: Uint8Array } {
  expectBytes('oldKey', args.oldKey, EPOCH_KEY_BYTES);
  if (args.toEpoch <= args.fromEpoch) throw new CryptoError('bad_params', 'a chain wrap goes from an older epoch to a newer one');
  const aad = chainAad(args.convId, args.fromEpoch, args.toEpoch);
  const wrapped = seal(hkdf(args.newKey, CONTEXT.epochChain), args.oldKey, aad);
  return { wrapped, sig: sign(args.wrapperIdentitySecret, CONTEXT.wrap, lp(aad, wrapped)) };
}

/** [WRAP-3] Verifies and opens a chain wrap; checks the old key against its commitment when given. */
export function unwrapChainKey(args: {
  convId: string;
  fromEpoch: number;
  toEpoch: number;
  newKey: Uint8Array;
  wrapped: Uint8Array;
  sig: Uint8Array;
  wrapperIdentityPublic: Uint8Array;
  commitment?: Uint8Array;
}): KeyResult {
  const aad = chainAad(args.convId, args.fromEpoch, args.toEpoch);
  if (!verify(args.wrapperIdentityPublic, CONTEXT.wrap, lp(aad, args.wrapped), args.sig)) return { ok: false, code: 'bad_signature' };
  return openChainWrap(args, aad);
}

/** `unwrapChainKey` verifying with the platform's native Ed25519 (`verifyAsync`): the same results. */
export async function unwrapChainKeyAsync(args: Parameters<typeof unwrapChainKey>[0]): Promise<KeyResult> {
  const aad = chainAad(args.convId, args.fromEpoch, args.toEpoch);
  if (!(await verifyAsync(args.wrapperIdentityPublic, CONTEXT.wrap, lp(aad, args.wrapped), args.sig))) return { ok: false, code: 'bad_signature' };
  return openChainWrap(args, aad);
}

/** The part of [WRAP-3] after the signature: open the chain wrap, check length and commitment. */
function openChainWrap(args: Parameters<typeof unwrapChainKey>[0], aad: Uint8Array): KeyResult {
  return openedKey(() => open(hkdf(args.newKey, CONTEXT.epochChain), args.wrapped, aad), args.commitment, (key) => epochKeyCommitment(args.convId, args.fromEpoch, key));
}
