/**
 * REST contract for profile keys (`/api/profile-keys`). A profile (display name, status, avatar) is an
 * encrypted document `p_<user>` under a random profile key; the owner seals that key for each contact
 * ([PROFILE-1] in docs/protocol.md). The server stores the sealed wraps and hands each recipient theirs.
 */
import { z } from 'zod';
import { b64Bytes } from './auth.ts';

/** One sealed profile key for one recipient, signed by the owner's identity key. */
export const ProfileKeyWrap = z
  .object({
    recipientId: z.uuid(),
    /** sealToPublicKey(recipient.sealing, profileKey, aad = lp("parley/profile-key/v1", ownerId, recipientId, version)). */
    wrap: b64Bytes(80, 200),
    /** Ed25519 by the owner under CONTEXT.wrap over lp(aad, wrap). */
    sig: b64Bytes(64),
  })
  .strict();
export type ProfileKeyWrap = z.infer<typeof ProfileKeyWrap>;

export const PutProfileKeysRequest = z
  .object({ version: z.number().int().min(0).max(2 ** 31 - 1), wraps: z.array(ProfileKeyWrap).min(1).max(1000) })
  .strict();
export type PutProfileKeysRequest = z.input<typeof PutProfileKeysRequest>;

/** Profile keys shared with the caller: the newest version per owner. */
export const ProfileKeysResponse = z
  .object({
    wraps: z.array(
      z.object({ ownerId: z.uuid(), version: z.number().int(), wrap: b64Bytes(80, 200), sig: b64Bytes(64) }).strict(),
    ),
  })
  .strict();
export type ProfileKeysResponse = z.infer<typeof ProfileKeysResponse>;
