/**
 * Device ids that name their user ([INNER-11]).
 *
 * A message's key in the inner doc is `deviceId:counter`. Yjs settles two items under one map key by deleting
 * one, so whoever's item a reader applies first keeps the key, and [INNER-9] refuses the other frame. With
 * random device ids a member could therefore write an entry under another member's key after seeing it and
 * place that frame before the owner's in the envelope log (the server cannot order frames it cannot read):
 * every device that had not yet applied the owner's frame (offline, new, loading history) then refused it.
 *
 * So a device id carries its user: `marker (4 bytes) || tag (6 bytes) || random (6 bytes)`, where
 * `tag = SHA-256(lp("parley/device-tag/v1", userId))[0..6]`. A reader refuses an update frame that creates a
 * `messages` key whose device id has the marker and another user's tag than the frame's signer; writing
 * under someone else's key would need a user id whose tag collides (2^48 registrations). Ids without the
 * marker are legacy (random 16 bytes, before this rule): still accepted, and replaced by a tagged id when a
 * client starts (a new device id is harmless: counters are per (user, device)).
 */
import { lp, randomBytes } from '../crypto/bytes.ts';
import { CONTEXT } from '../crypto/contexts.ts';
import { sha256 } from '../crypto/kdf.ts';
import { utf8 } from '../protocol/encoding.ts';
import { toHex } from '../protocol/frame.ts';

/** First 4 bytes of a tagged device id ("pdv1"); a legacy random id starts with them once in 2^32. */
const MARKER = '70647631';
const TAG_BYTES = 6;
const RANDOM_BYTES = 6;

/** Tags computed so far: a frame check asks for its signer's on every new message key. */
const tags = new Map<string, string>();
const TAGS_KEPT = 4096;

/** The 6-byte tag of `userId`, as 12 hex digits. */
export function deviceTag(userId: string): string {
  let tag = tags.get(userId);
  if (tag === undefined) {
    tag = toHex(sha256(lp(utf8(CONTEXT.deviceTag), utf8(userId))).subarray(0, TAG_BYTES));
    if (tags.size >= TAGS_KEPT) tags.clear();
    tags.set(userId, tag);
  }
  return tag;
}

/** A new device id for `userId` (32 lowercase hex digits). */
export function newDeviceIdFor(userId: string): string {
  return MARKER + deviceTag(userId) + toHex(randomBytes(RANDOM_BYTES));
}

/** Whether `deviceId` (32 hex digits) is tagged; legacy ids are not. */
export function isTaggedDeviceId(deviceId: string): boolean {
  return deviceId.length === 32 && deviceId.startsWith(MARKER);
}

/**
 * Whether `userId` may write under `deviceId`: true for its own tagged ids, false for ids tagged for someone
 * else, and true for legacy (untagged) ids, which name no user.
 */
export function mayWriteAsDevice(deviceId: string, userId: string): boolean {
  return !isTaggedDeviceId(deviceId) || deviceId.slice(MARKER.length, MARKER.length + 2 * TAG_BYTES) === deviceTag(userId);
}

/** Whether `deviceId` is a tagged id of `userId` (what a client keeps; anything else it replaces). */
export function isDeviceIdOf(deviceId: string, userId: string): boolean {
  return isTaggedDeviceId(deviceId) && mayWriteAsDevice(deviceId, userId);
}
