/**
 * REST contract for conversations, members, the key directory, epoch key wraps and segments
 * (`/api/conversations/*`, `/api/users/*`, `/api/keys/*`). The server stores only what it must route and
 * authorise: ids, membership and roles, segment ids and states, and opaque key wraps. Group names,
 * profiles and every message live inside encrypted documents.
 */
import { z } from 'zod';
import { b64Bytes, PublicKeys } from './auth.ts';
import { Username } from './username.ts';

/** Opaque id of a segment (one envelope document): `s_` + 32 lowercase hex. */
export const SegmentId = z.string().regex(/^s_[0-9a-f]{32}$/);
/** Document name of a conversation's metadata envelope (membership ops, group name): `m_` + conv uuid hex. */
export const MetaDocName = z.string().regex(/^m_[0-9a-f]{32}$/);
/** Document name of a user's profile envelope: `p_` + user uuid hex. */
export const ProfileDocName = z.string().regex(/^p_[0-9a-f]{32}$/);
/** Document name of a user's inbox channel (server-originated stateless notices): `i_` + user uuid hex. */
export const InboxDocName = z.string().regex(/^i_[0-9a-f]{32}$/);

/** The document name for a uuid with a kind prefix. */
export function docNameFor(prefix: 'm' | 'p' | 'i', uuid: string): string {
  return `${prefix}_${uuid.replaceAll('-', '').toLowerCase()}`;
}

/** Parses a uuid back out of a `m_`/`p_`/`i_` document name, or null. */
export function uuidFromDocName(name: string): { prefix: 'm' | 'p' | 'i'; uuid: string } | null {
  const m = /^([mpi])_([0-9a-f]{8})([0-9a-f]{4})([0-9a-f]{4})([0-9a-f]{4})([0-9a-f]{12})$/.exec(name);
  if (!m) return null;
  const prefix = m[1] as 'm' | 'p' | 'i';
  return { prefix, uuid: `${m[2]}-${m[3]}-${m[4]}-${m[5]}-${m[6]}` };
}

export const Role = z.enum(['admin', 'member']);
export type Role = z.infer<typeof Role>;
export const ConversationKind = z.enum(['direct', 'group']);

/** A sealed box of an epoch key for one recipient, signed by the wrapper (see docs/protocol.md [WRAP-2]). */
export const KeyWrap = z
  .object({
    recipientId: z.uuid(),
    /** sealToPublicKey(recipient.sealing, epochKey, aad = lp(convId, epoch, recipientId)). */
    wrap: b64Bytes(80, 200),
    /** Ed25519 by the wrapper's identity key under CONTEXT.wrap over lp(convId, epoch, recipientId, wrap). */
    sig: b64Bytes(64),
  })
  .strict();
export type KeyWrap = z.infer<typeof KeyWrap>;

/** An older epoch key sealed under a newer epoch key, so holders of the newest key keep the history. */
export const ChainWrap = z
  .object({
    fromEpoch: z.number().int().min(0),
    /** seal(hkdf(newKey, CONTEXT.epochChain), oldKey, aad = lp(convId, fromEpoch, toEpoch)). */
    wrapped: b64Bytes(72, 128),
    sig: b64Bytes(64),
  })
  .strict();
export type ChainWrap = z.infer<typeof ChainWrap>;

/** A new epoch: a 32-byte key commitment (HKDF of the key; never the key) and its wraps. */
export const EpochUpload = z
  .object({
    epoch: z.number().int().min(0),
    /** Binds all wraps of one epoch to one key: hkdf-derived, so two concurrent creators are detected. */
    keyCommitment: b64Bytes(32),
    wraps: z.array(KeyWrap).min(1).max(1000),
    chain: ChainWrap.optional(),
  })
  .strict();
export type EpochUpload = z.infer<typeof EpochUpload>;

export const CreateConversationRequest = z
  .object({
    /**
     * Conversation id chosen by the client (random UUID). Needed because epoch-0 wraps and the key
     * commitment bind the conversation id, so the creator must know it before the server does. When absent
     * the server picks one (then the uploaded wraps cannot verify for anyone).
     */
    id: z.uuid().optional(),
    kind: ConversationKind,
    /** Other members (the creator is added as admin). Direct: exactly one. */
    memberIds: z.array(z.uuid()).min(1).max(255),
    /** Epoch 0 key wrapped for the creator and every member. */
    epoch: EpochUpload,
  })
  .strict();
export type CreateConversationRequest = z.input<typeof CreateConversationRequest>;

export const Member = z
  .object({
    userId: z.uuid(),
    username: z.string(),
    role: Role,
    joinedEpoch: z.number().int(),
    publicKeys: PublicKeys,
  })
  .strict();
export type Member = z.infer<typeof Member>;

export const Segment = z
  .object({
    id: SegmentId,
    idx: z.number().int().min(0),
    epoch: z.number().int().min(0),
    /** `next`: created ahead of the size cap, not written yet; members attach to it early ([SEG-4]). */
    state: z.enum(['open', 'closed', 'next']),
  })
  .strict();
export type Segment = z.infer<typeof Segment>;

export const Conversation = z
  .object({
    id: z.uuid(),
    kind: ConversationKind,
    createdAt: z.string(),
    /** Last server-observed activity (any segment change), for sorting; not content. */
    updatedAt: z.string(),
    currentEpoch: z.number().int().min(0),
    /** True while a rotation is due (a member left) and no member has uploaded the new epoch yet. */
    rotationDue: z.boolean(),
    myRole: Role,
    members: z.array(Member),
    segments: z.array(Segment),
  })
  .strict();
export type Conversation = z.infer<typeof Conversation>;

export const ConversationListResponse = z.object({ conversations: z.array(Conversation) }).strict();

export const AddMemberRequest = z
  .object({
    userId: z.uuid(),
    role: Role.default('member'),
    /** Wrap of the current epoch key for the new member (the adder holds it). */
    wrap: KeyWrap,
  })
  .strict();
export type AddMemberRequest = z.input<typeof AddMemberRequest>;

export const RemoveMemberRequest = z
  .object({
    /** The next epoch, created atomically with the removal by the admin (who is not the one removed). */
    epoch: EpochUpload,
  })
  .strict();
export type RemoveMemberRequest = z.input<typeof RemoveMemberRequest>;

export const SetRoleRequest = z.object({ role: Role }).strict();

/** Wraps for members who lack one at an epoch (peer-assisted key delivery; idempotent). */
export const DeliverWrapsRequest = z
  .object({ keyCommitment: b64Bytes(32), wraps: z.array(KeyWrap).min(1).max(1000) })
  .strict();

export const KeyWrapsResponse = z
  .object({
    epochs: z.array(
      z
        .object({
          epoch: z.number().int(),
          keyCommitment: b64Bytes(32),
          creatorId: z.uuid(),
          /** This user's wrap for the epoch, if any. */
          wrap: KeyWrap.extend({ wrapperId: z.uuid() }).strict().nullable(),
          chain: ChainWrap.extend({ wrapperId: z.uuid() }).strict().nullable(),
        })
        .strict(),
    ),
    /** Members (at the current epoch) for whom no wrap exists yet. */
    missing: z.array(z.uuid()),
  })
  .strict();
export type KeyWrapsResponse = z.infer<typeof KeyWrapsResponse>;

/** Request a new segment (size-cap rollover within the current epoch). CAS on the open segment id. */
export const RolloverRequest = z.object({ fromSegmentId: SegmentId }).strict();

export const UserLookupRequest = z.object({ username: Username }).strict();
export const UserDirectoryEntry = z.object({ id: z.uuid(), username: z.string(), publicKeys: PublicKeys }).strict();
export type UserDirectoryEntry = z.infer<typeof UserDirectoryEntry>;

/** Server-originated notices on a user's inbox channel (stateless). Metadata the server already has. */
export const InboxNotice = z.discriminatedUnion('type', [
  z.object({ v: z.literal(1), type: z.literal('conversation_changed'), convId: z.uuid(), docName: z.string().max(40) }).strict(),
  z.object({ v: z.literal(1), type: z.literal('presence'), userId: z.uuid(), online: z.boolean(), at: z.string() }).strict(),
  z.object({ v: z.literal(1), type: z.literal('member_added'), convId: z.uuid(), userId: z.uuid() }).strict(),
  z.object({ v: z.literal(1), type: z.literal('member_removed'), convId: z.uuid(), userId: z.uuid() }).strict(),
  z.object({ v: z.literal(1), type: z.literal('keys_needed'), convId: z.uuid(), epoch: z.number().int() }).strict(),
  z.object({ v: z.literal(1), type: z.literal('epoch_changed'), convId: z.uuid(), epoch: z.number().int() }).strict(),
]);
export type InboxNotice = z.infer<typeof InboxNotice>;

/** Encrypted presence in awareness: the only state shape the server admits. */
export const AwarenessState = z
  .object({ v: z.literal(1), epoch: z.number().int().min(0), ciphertext: z.string().max(2048).regex(/^[A-Za-z0-9_-]*$/) })
  .strict();
export type AwarenessState = z.infer<typeof AwarenessState>;
export const AWARENESS_MAX_CHARS = 2048;

/** GET /api/presence: which of the caller's contacts are online now. */
export const PresenceResponse = z.object({ online: z.array(z.uuid()) }).strict();
export type PresenceResponse = z.infer<typeof PresenceResponse>;
