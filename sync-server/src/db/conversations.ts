/**
 * Conversations repository: conversations, members, segments, epochs and key wraps. All SQL for these
 * tables lives here, parameterised; rows are parsed with zod before they leave this module.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Queryable } from './database.ts';

const Bytes = z.instanceof(Buffer);

/** The SQL this module runs, exported so the EXPLAIN test checks the real statements. */
export const CONVERSATION_SQL = {
  insertConversation: `INSERT INTO conversations (id, kind, direct_key, created_by) VALUES ($1, $2, $3, $4)
                       ON CONFLICT (direct_key) DO NOTHING RETURNING id`,
  findDirect: 'SELECT id FROM conversations WHERE direct_key = $1',
  insertMember: `INSERT INTO conversation_members (conv_id, user_id, role, joined_epoch, added_by) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (conv_id, user_id) DO UPDATE SET role = EXCLUDED.role, joined_epoch = EXCLUDED.joined_epoch,
                   added_by = EXCLUDED.added_by, joined_at = now(), left_at = NULL
                 WHERE conversation_members.left_at IS NOT NULL
                 RETURNING user_id`,
  membership: `SELECT m.role, m.joined_epoch, c.current_epoch, c.rotation_due, c.kind
               FROM conversation_members m JOIN conversations c ON c.id = m.conv_id
               WHERE m.conv_id = $1 AND m.user_id = $2 AND m.left_at IS NULL`,
  lockConversation: 'SELECT id, kind, current_epoch, rotation_due FROM conversations WHERE id = $1 FOR UPDATE',
  listIdsForUser: `SELECT conv_id FROM conversation_members WHERE user_id = $1 AND left_at IS NULL`,
  conversationsByIds: `SELECT id, kind, created_at, updated_at, current_epoch, rotation_due FROM conversations WHERE id = ANY($1::uuid[])`,
  membersOf: `SELECT m.conv_id, m.user_id, m.role, m.joined_epoch, u.username, u.identity_key, u.sealing_key, u.sealing_sig
              FROM conversation_members m JOIN users u ON u.id = m.user_id
              WHERE m.conv_id = ANY($1::uuid[]) AND m.left_at IS NULL ORDER BY m.joined_at, m.user_id`,
  segmentsOf: `SELECT id, conv_id, idx, epoch, state FROM segments WHERE conv_id = ANY($1::uuid[]) ORDER BY conv_id, idx`,
  segmentById: `SELECT s.id, s.conv_id, s.idx, s.epoch, s.state FROM segments s WHERE s.id = $1`,
  openSegment: `SELECT id, idx, epoch FROM segments WHERE conv_id = $1 AND state = 'open'`,
  insertSegment: `INSERT INTO segments (id, conv_id, idx, epoch, state) VALUES ($1, $2, $3, $4, 'open')`,
  closeSegment: `UPDATE segments SET state = 'closed', closed_at = now() WHERE id = $1 AND state = 'open'`,
  nextSegment: `SELECT id, idx, epoch FROM segments WHERE conv_id = $1 AND state = 'next'`,
  insertNextSegment: `INSERT INTO segments (id, conv_id, idx, epoch, state) VALUES ($1, $2, $3, $4, 'next')`,
  // By conversation: at most one 'next' segment each (segments_one_next_idx).
  promoteSegment: `UPDATE segments SET state = 'open' WHERE conv_id = $1 AND state = 'next'`,
  closeNextSegment: `UPDATE segments SET state = 'closed', closed_at = now() WHERE conv_id = $1 AND state = 'next'`,
  insertEpoch: `INSERT INTO epochs (conv_id, epoch, key_commitment, creator_id) VALUES ($1, $2, $3, $4)
                ON CONFLICT (conv_id, epoch) DO NOTHING RETURNING epoch`,
  epochRow: 'SELECT epoch, key_commitment, creator_id FROM epochs WHERE conv_id = $1 AND epoch = $2',
  insertWrap: `INSERT INTO key_wraps (conv_id, epoch, recipient_id, wrapper_id, wrap, sig) VALUES ($1, $2, $3, $4, $5, $6)
               ON CONFLICT (conv_id, epoch, recipient_id) DO NOTHING`,
  insertChain: `INSERT INTO chain_wraps (conv_id, from_epoch, to_epoch, wrapper_id, wrapped, sig) VALUES ($1, $2, $3, $4, $5, $6)
                ON CONFLICT (conv_id, to_epoch) DO NOTHING`,
  setEpoch: `UPDATE conversations SET current_epoch = $2, rotation_due = false, updated_at = now() WHERE id = $1`,
  markRotationDue: `UPDATE conversations SET rotation_due = true, updated_at = now() WHERE id = $1`,
  leave: `UPDATE conversation_members SET left_at = now() WHERE conv_id = $1 AND user_id = $2 AND left_at IS NULL`,
  setRole: `UPDATE conversation_members SET role = $3 WHERE conv_id = $1 AND user_id = $2 AND left_at IS NULL`,
  countAdmins: `SELECT count(*)::int AS n FROM conversation_members WHERE conv_id = $1 AND role = 'admin' AND left_at IS NULL`,
  wrapsForUser: `SELECT e.epoch, e.key_commitment, e.creator_id, w.wrapper_id, w.wrap, w.sig,
                        c.from_epoch AS chain_from, c.wrapper_id AS chain_wrapper, c.wrapped AS chain_wrapped, c.sig AS chain_sig
                 FROM epochs e
                 LEFT JOIN key_wraps w ON w.conv_id = e.conv_id AND w.epoch = e.epoch AND w.recipient_id = $2
                 LEFT JOIN chain_wraps c ON c.conv_id = e.conv_id AND c.to_epoch = e.epoch
                 WHERE e.conv_id = $1 ORDER BY e.epoch`,
  missingWraps: `SELECT m.user_id FROM conversation_members m
                 JOIN conversations c ON c.id = m.conv_id
                 LEFT JOIN key_wraps w ON w.conv_id = m.conv_id AND w.epoch = c.current_epoch AND w.recipient_id = m.user_id
                 WHERE m.conv_id = $1 AND m.left_at IS NULL AND w.recipient_id IS NULL`,
  touch: 'UPDATE conversations SET updated_at = now() WHERE id = $1',
  memberIds: 'SELECT user_id FROM conversation_members WHERE conv_id = $1 AND left_at IS NULL',
  contactsOf: `SELECT DISTINCT o.user_id FROM conversation_members me
               JOIN conversation_members o ON o.conv_id = me.conv_id AND o.left_at IS NULL
               WHERE me.user_id = $1 AND me.left_at IS NULL AND o.user_id <> $1`,
  shareConversation: `SELECT 1 FROM conversation_members a JOIN conversation_members b ON b.conv_id = a.conv_id
                      WHERE a.user_id = $1 AND b.user_id = $2 AND a.left_at IS NULL AND b.left_at IS NULL LIMIT 1`,
  insertProfileWrap: `INSERT INTO profile_key_wraps (owner_id, recipient_id, version, wrap, sig) VALUES ($1, $2, $3, $4, $5)
                      ON CONFLICT (owner_id, recipient_id, version) DO NOTHING`,
  profileWrapsFor: `SELECT owner_id, version, wrap, sig FROM profile_key_wraps WHERE recipient_id = $1 ORDER BY owner_id, version`,
} as const;

/** A new opaque segment id (`s_` + 128 random bits as hex). */
export function newSegmentId(): string {
  return `s_${randomBytes(16).toString('hex')}`;
}

/** The canonical direct-chat key of two users (order-independent). */
export function directKey(a: string, b: string): string {
  return a < b ? `${a}:${b}` : `${b}:${a}`;
}

const MembershipRow = z.object({
  role: z.enum(['admin', 'member']),
  joined_epoch: z.number(),
  current_epoch: z.number(),
  rotation_due: z.boolean(),
  kind: z.enum(['direct', 'group']),
});
export type Membership = z.infer<typeof MembershipRow>;

/** The caller's live membership of a conversation, or null when not a member. */
export async function getMembership(db: Queryable, convId: string, userId: string): Promise<Membership | null> {
  const row = (await db.query(CONVERSATION_SQL.membership, [convId, userId])).rows[0];
  return row === undefined ? null : MembershipRow.parse(row);
}

const SegmentRow = z.object({ id: z.string(), conv_id: z.uuid(), idx: z.number(), epoch: z.number(), state: z.enum(['open', 'closed', 'next']) }).strict();
export type SegmentRow = z.infer<typeof SegmentRow>;

/** A segment by id, or null. */
export async function findSegment(db: Queryable, segmentId: string): Promise<SegmentRow | null> {
  const row = (await db.query(CONVERSATION_SQL.segmentById, [segmentId])).rows[0];
  return row === undefined ? null : SegmentRow.parse(row);
}

const ConversationRow = z.object({
  id: z.uuid(),
  kind: z.enum(['direct', 'group']),
  created_at: z.date(),
  updated_at: z.date(),
  current_epoch: z.number(),
  rotation_due: z.boolean(),
}).strict();
const MemberRow = z.object({
  conv_id: z.uuid(),
  user_id: z.uuid(),
  role: z.enum(['admin', 'member']),
  joined_epoch: z.number(),
  username: z.string(),
  identity_key: Bytes,
  sealing_key: Bytes,
  sealing_sig: Bytes,
}).strict();

/** A conversation with its live members and all its segments. */
export interface ConversationDetail {
  conversation: z.infer<typeof ConversationRow>;
  members: z.infer<typeof MemberRow>[];
  segments: SegmentRow[];
}

/** Loads conversations (by id) with members and segments, in three indexed queries. */
export async function loadConversations(db: Queryable, ids: readonly string[]): Promise<ConversationDetail[]> {
  if (ids.length === 0) return [];
  const convs = (await db.query(CONVERSATION_SQL.conversationsByIds, [ids])).rows.map((r) => ConversationRow.parse(r));
  const members = (await db.query(CONVERSATION_SQL.membersOf, [ids])).rows.map((r) => MemberRow.parse(r));
  const segments = (await db.query(CONVERSATION_SQL.segmentsOf, [ids])).rows.map((r) => SegmentRow.parse(r));
  return convs.map((conversation) => ({
    conversation,
    members: members.filter((m) => m.conv_id === conversation.id),
    segments: segments.filter((s) => s.conv_id === conversation.id),
  }));
}

/** Ids of the conversations a user currently belongs to. */
export async function conversationIdsForUser(db: Queryable, userId: string): Promise<string[]> {
  return (await db.query(CONVERSATION_SQL.listIdsForUser, [userId])).rows.map((r) => z.object({ conv_id: z.uuid() }).parse(r).conv_id);
}

/** Users who currently share at least one conversation with `userId`. */
export async function contactsOf(db: Queryable, userId: string): Promise<string[]> {
  return (await db.query(CONVERSATION_SQL.contactsOf, [userId])).rows.map((r) => z.object({ user_id: z.uuid() }).parse(r).user_id);
}

/** True when both users are current members of a common conversation. */
export async function shareConversation(db: Queryable, a: string, b: string): Promise<boolean> {
  return (await db.query(CONVERSATION_SQL.shareConversation, [a, b])).rows.length > 0;
}

/** A key wrap as stored. */
export interface WrapInput {
  recipientId: string;
  wrap: Buffer;
  sig: Buffer;
}

/** Stores wraps idempotently (first wrap per recipient and epoch wins; duplicates are no-ops). */
export async function insertWraps(db: Queryable, convId: string, epoch: number, wrapperId: string, wraps: readonly WrapInput[]): Promise<void> {
  for (const w of wraps) await db.query(CONVERSATION_SQL.insertWrap, [convId, epoch, w.recipientId, wrapperId, w.wrap, w.sig]);
}

const EpochRow = z.object({ epoch: z.number(), key_commitment: Bytes, creator_id: z.uuid() }).strict();

/** An epoch's commitment and creator, or null. */
export async function findEpoch(db: Queryable, convId: string, epoch: number): Promise<z.infer<typeof EpochRow> | null> {
  const row = (await db.query(CONVERSATION_SQL.epochRow, [convId, epoch])).rows[0];
  return row === undefined ? null : EpochRow.parse(row);
}

const WrapRow = z.object({
  epoch: z.number(),
  key_commitment: Bytes,
  creator_id: z.uuid(),
  wrapper_id: z.uuid().nullable(),
  wrap: Bytes.nullable(),
  sig: Bytes.nullable(),
  chain_from: z.number().nullable(),
  chain_wrapper: z.uuid().nullable(),
  chain_wrapped: Bytes.nullable(),
  chain_sig: Bytes.nullable(),
}).strict();
export type WrapRow = z.infer<typeof WrapRow>;

/** Every epoch of a conversation with the user's wrap and the chain wrap into it. */
export async function wrapsForUser(db: Queryable, convId: string, userId: string): Promise<WrapRow[]> {
  return (await db.query(CONVERSATION_SQL.wrapsForUser, [convId, userId])).rows.map((r) => WrapRow.parse(r));
}

/** Current members without a wrap at the current epoch. */
export async function membersMissingWraps(db: Queryable, convId: string): Promise<string[]> {
  return (await db.query(CONVERSATION_SQL.missingWraps, [convId])).rows.map((r) => z.object({ user_id: z.uuid() }).parse(r).user_id);
}

/** Current member ids of a conversation. */
export async function memberIds(db: Queryable, convId: string): Promise<string[]> {
  return (await db.query(CONVERSATION_SQL.memberIds, [convId])).rows.map((r) => z.object({ user_id: z.uuid() }).parse(r).user_id);
}

/** Bumps a conversation's activity time (list ordering). */
export async function touchConversation(db: Queryable, convId: string): Promise<void> {
  await db.query(CONVERSATION_SQL.touch, [convId]);
}
