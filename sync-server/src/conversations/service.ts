/**
 * Conversation rules the server can enforce without keys: who may create, add, remove, rotate and read
 * what. Cryptographic checks (wrap signatures, membership ops signed by admins) are the clients' job; the
 * server checks shapes, roles, membership and epoch/segment CAS, and keeps everything idempotent.
 */
import { randomUUID } from 'node:crypto';
import {
  AppError,
  fromBase64Url,
  toBase64Url,
  type Conversation,
  type EpochUpload,
  type KeyWrap,
  type KeyWrapsResponse,
  type Role,
} from '@parley/shared/protocol';
import type { Database, Queryable } from '../db/database.ts';
import {
  CONVERSATION_SQL,
  conversationIdsForUser,
  directKey,
  findEpoch,
  getMembership,
  insertWraps,
  loadConversations,
  membersMissingWraps,
  newSegmentId,
  wrapsForUser,
  type ConversationDetail,
} from '../db/conversations.ts';
import { findUserById } from '../db/users.ts';

const buf = (b64: string) => Buffer.from(fromBase64Url(b64));

/** What changed, so the caller can notify inboxes and close sockets after the transaction commits. */
export interface ChangeEffects {
  convId: string;
  /** Users to tell that they were added. */
  added?: string[];
  /** Users who lost access: their live connections to the conversation must be closed. */
  removed?: string[];
  /** Set when a new epoch (and segment) began. */
  epoch?: number;
  /** Segments that became read-only: open connections must be closed so clients re-attach. */
  closedSegments?: string[];
  /** A segment prepared ahead of the size cap ([SEG-4]): members are told so their clients attach to it. */
  preparedSegment?: string;
  /** A rotation is due and remaining members should create the next epoch. */
  keysNeeded?: boolean;
}

function toApi(detail: ConversationDetail, userId: string): Conversation {
  const me = detail.members.find((m) => m.user_id === userId);
  if (!me) throw new AppError('not_found', 'No such conversation');
  return {
    id: detail.conversation.id,
    kind: detail.conversation.kind,
    createdAt: detail.conversation.created_at.toISOString(),
    updatedAt: detail.conversation.updated_at.toISOString(),
    currentEpoch: detail.conversation.current_epoch,
    rotationDue: detail.conversation.rotation_due,
    myRole: me.role,
    members: detail.members.map((m) => ({
      userId: m.user_id,
      username: m.username,
      role: m.role,
      joinedEpoch: m.joined_epoch,
      publicKeys: { identity: toBase64Url(m.identity_key), sealing: toBase64Url(m.sealing_key), sealingSig: toBase64Url(m.sealing_sig) },
    })),
    segments: detail.segments.map((s) => ({ id: s.id, idx: s.idx, epoch: s.epoch, state: s.state })),
  };
}

/** Every conversation the user belongs to, most recently active first. */
export async function listConversations(db: Queryable, userId: string): Promise<Conversation[]> {
  const ids = await conversationIdsForUser(db, userId);
  const details = await loadConversations(db, ids);
  return details
    .map((d) => toApi(d, userId))
    .sort((a, b) => (a.updatedAt < b.updatedAt ? 1 : a.updatedAt > b.updatedAt ? -1 : 0));
}

/** One conversation the user belongs to; `not_found` otherwise (never revealing that it exists). */
export async function getConversation(db: Queryable, userId: string, convId: string): Promise<Conversation> {
  if (!(await getMembership(db, convId, userId))) throw new AppError('not_found', 'No such conversation');
  const [detail] = await loadConversations(db, [convId]);
  if (!detail) throw new AppError('not_found', 'No such conversation');
  return toApi(detail, userId);
}

function checkWrapsCover(upload: Pick<EpochUpload, 'wraps'>, expected: ReadonlySet<string>): void {
  const recipients = upload.wraps.map((w) => w.recipientId);
  const unique = new Set(recipients);
  if (unique.size !== recipients.length) throw new AppError('invalid_request', 'Invalid request: epoch.wraps: duplicate recipient');
  const missing = [...expected].filter((id) => !unique.has(id));
  const extra = recipients.filter((id) => !expected.has(id));
  if (missing.length > 0 || extra.length > 0)
    throw new AppError('invalid_request', 'Invalid request: epoch.wraps: must hold exactly one wrap per member');
}

async function insertEpoch(tx: Queryable, convId: string, creatorId: string, upload: EpochUpload): Promise<void> {
  const inserted = await tx.query(CONVERSATION_SQL.insertEpoch, [convId, upload.epoch, buf(upload.keyCommitment), creatorId]);
  if (inserted.rows.length === 0) throw new AppError('conflict', `Epoch ${upload.epoch} already exists`);
  await insertWraps(tx, convId, upload.epoch, creatorId, upload.wraps.map((w) => ({ recipientId: w.recipientId, wrap: buf(w.wrap), sig: buf(w.sig) })));
  if (upload.chain) {
    await tx.query(CONVERSATION_SQL.insertChain, [convId, upload.chain.fromEpoch, upload.epoch, creatorId, buf(upload.chain.wrapped), buf(upload.chain.sig)]);
  }
}

async function requireUsers(tx: Queryable, ids: readonly string[]): Promise<void> {
  for (const id of ids) {
    if (!(await findUserById(tx, id))) throw new AppError('not_found', 'A member does not exist');
  }
}

/**
 * Creates a direct chat or a group with its epoch-0 key wraps and first segment. A direct chat between
 * two users is created once: asking again returns the existing one (`created: false`).
 */
export async function createConversation(
  db: Database,
  creatorId: string,
  req: { id?: string | undefined; kind: 'direct' | 'group'; memberIds: string[]; epoch: EpochUpload },
): Promise<{ conversation: Conversation; created: boolean; effects: ChangeEffects }> {
  const others = [...new Set(req.memberIds)].filter((id) => id !== creatorId);
  if (req.kind === 'direct' && others.length !== 1) throw new AppError('invalid_request', 'Invalid request: memberIds: a direct chat has exactly one other member');
  if (others.length === 0) throw new AppError('invalid_request', 'Invalid request: memberIds: add at least one other member');
  if (req.epoch.epoch !== 0 || req.epoch.chain) throw new AppError('invalid_request', 'Invalid request: epoch: a new conversation starts at epoch 0 without a chain');
  checkWrapsCover(req.epoch, new Set([creatorId, ...others]));
  const dkey = req.kind === 'direct' ? directKey(creatorId, others[0]!) : null;

  const result = await db.withTransaction(async (tx) => {
    await requireUsers(tx, others);
    const id = req.id ?? randomUUID();
    if (req.id !== undefined && (await loadConversations(tx, [id])).length > 0)
      throw new AppError('conflict', 'Conversation id already in use');
    const inserted = await tx.query(CONVERSATION_SQL.insertConversation, [id, req.kind, dkey, creatorId]);
    if (inserted.rows.length === 0) {
      const existing = (await tx.query(CONVERSATION_SQL.findDirect, [dkey])).rows[0] as { id?: unknown } | undefined;
      if (typeof existing?.id !== 'string') throw new AppError('conflict', 'The direct chat is being created');
      return { id: existing.id, created: false };
    }
    await tx.query(CONVERSATION_SQL.insertMember, [id, creatorId, 'admin', 0, creatorId]);
    for (const other of others) await tx.query(CONVERSATION_SQL.insertMember, [id, other, req.kind === 'direct' ? 'admin' : 'member', 0, creatorId]);
    await insertEpoch(tx, id, creatorId, req.epoch);
    await tx.query(CONVERSATION_SQL.insertSegment, [newSegmentId(), id, 0, 0]);
    return { id, created: true };
  });
  const conversation = await getConversation(db, creatorId, result.id);
  return { conversation, created: result.created, effects: { convId: result.id, added: result.created ? others : [] } };
}

async function lockConversation(tx: Queryable, convId: string) {
  const row = (await tx.query(CONVERSATION_SQL.lockConversation, [convId])).rows[0] as
    | { id: string; kind: 'direct' | 'group'; current_epoch: number; rotation_due: boolean }
    | undefined;
  if (!row) throw new AppError('not_found', 'No such conversation');
  return row;
}

async function requireAdmin(tx: Queryable, convId: string, userId: string) {
  const m = await getMembership(tx, convId, userId);
  if (!m) throw new AppError('not_found', 'No such conversation');
  if (m.role !== 'admin') throw new AppError('forbidden', 'Only admins can do that');
  return m;
}

/** Adds a member to a group (admins only) with their wrap of the current epoch key. */
export async function addMember(db: Database, actorId: string, convId: string, req: { userId: string; role: Role; wrap: KeyWrap }): Promise<ChangeEffects> {
  if (req.wrap.recipientId !== req.userId) throw new AppError('invalid_request', 'Invalid request: wrap.recipientId: must be the new member');
  return db.withTransaction(async (tx) => {
    const conv = await lockConversation(tx, convId);
    await requireAdmin(tx, convId, actorId);
    if (conv.kind !== 'group') throw new AppError('forbidden', 'Members cannot be added to a direct chat');
    if (conv.rotation_due) throw new AppError('conflict', 'A key rotation is due; try again after it');
    await requireUsers(tx, [req.userId]);
    const inserted = await tx.query(CONVERSATION_SQL.insertMember, [convId, req.userId, req.role, conv.current_epoch, actorId]);
    if (inserted.rows.length === 0) throw new AppError('conflict', 'Already a member');
    await insertWraps(tx, convId, conv.current_epoch, actorId, [{ recipientId: req.userId, wrap: buf(req.wrap.wrap), sig: buf(req.wrap.sig) }]);
    await tx.query(CONVERSATION_SQL.touch, [convId]);
    return { convId, added: [req.userId] };
  });
}

async function currentMemberIds(tx: Queryable, convId: string): Promise<Set<string>> {
  const [detail] = await loadConversations(tx, [convId]);
  return new Set(detail?.members.map((m) => m.user_id) ?? []);
}

/** Starts the next epoch: closes the open segment, opens one at the new epoch, records key wraps. */
async function startEpoch(tx: Queryable, convId: string, creatorId: string, current: number, upload: EpochUpload): Promise<string[]> {
  if (upload.epoch !== current + 1) throw new AppError('conflict', `The next epoch is ${current + 1}`);
  if (upload.chain && upload.chain.fromEpoch !== current) throw new AppError('invalid_request', 'Invalid request: epoch.chain.fromEpoch: must be the current epoch');
  checkWrapsCover(upload, await currentMemberIds(tx, convId));
  await insertEpoch(tx, convId, creatorId, upload);
  const open = (await tx.query(CONVERSATION_SQL.openSegment, [convId])).rows[0] as { id: string; idx: number } | undefined;
  const closed: string[] = [];
  let nextIdx = 0;
  if (open) {
    await tx.query(CONVERSATION_SQL.closeSegment, [open.id]);
    closed.push(open.id);
    nextIdx = open.idx + 1;
  }
  // A segment prepared ahead ([SEG-4]) belongs to the old epoch: closed with it (empty, or holding what a writer
  // that had already switched wrote there; readable history either way).
  const next = (await tx.query(CONVERSATION_SQL.nextSegment, [convId])).rows[0] as { id: string; idx: number } | undefined;
  if (next) {
    await tx.query(CONVERSATION_SQL.closeNextSegment, [convId]);
    closed.push(next.id);
    nextIdx = Math.max(nextIdx, next.idx + 1);
  }
  await tx.query(CONVERSATION_SQL.insertSegment, [newSegmentId(), convId, nextIdx, upload.epoch]);
  await tx.query(CONVERSATION_SQL.setEpoch, [convId, upload.epoch]);
  return closed;
}

/** Removes a member (admins only) and starts the next epoch atomically, wrapped for those who remain. */
export async function removeMember(db: Database, actorId: string, convId: string, targetId: string, upload: EpochUpload): Promise<ChangeEffects> {
  if (targetId === actorId) throw new AppError('invalid_request', 'Invalid request: use leave to remove yourself');
  return db.withTransaction(async (tx) => {
    const conv = await lockConversation(tx, convId);
    await requireAdmin(tx, convId, actorId);
    if (conv.kind !== 'group') throw new AppError('forbidden', 'Members cannot be removed from a direct chat');
    const left = await tx.query(CONVERSATION_SQL.leave, [convId, targetId]);
    if ((left.rowCount ?? 0) === 0) throw new AppError('not_found', 'Not a member');
    const closedSegments = await startEpoch(tx, convId, actorId, conv.current_epoch, upload);
    return { convId, removed: [targetId], epoch: upload.epoch, closedSegments };
  });
}

/**
 * Leaves a conversation. The leaver holds the current key, so the next epoch must come from a remaining
 * member: the conversation is marked `rotationDue` and remaining members are told. If the leaver was the
 * last admin, the longest-standing remaining member becomes admin.
 */
export async function leaveConversation(db: Database, userId: string, convId: string): Promise<ChangeEffects> {
  return db.withTransaction(async (tx) => {
    await lockConversation(tx, convId);
    const m = await getMembership(tx, convId, userId);
    if (!m) throw new AppError('not_found', 'No such conversation');
    await tx.query(CONVERSATION_SQL.leave, [convId, userId]);
    const remaining = await currentMemberIds(tx, convId);
    if (remaining.size > 0) {
      await tx.query(CONVERSATION_SQL.markRotationDue, [convId]);
      const admins = (await tx.query(CONVERSATION_SQL.countAdmins, [convId])).rows[0] as { n: number };
      if (admins.n === 0) {
        const [detail] = await loadConversations(tx, [convId]);
        const heir = detail?.members[0];
        if (heir) await tx.query(CONVERSATION_SQL.setRole, [convId, heir.user_id, 'admin']);
      }
    }
    return { convId, removed: [userId], keysNeeded: remaining.size > 0 };
  });
}

/** Creates the next epoch (any member when a rotation is due, admins at any time). CAS on the epoch. */
export async function rotateEpoch(db: Database, actorId: string, convId: string, upload: EpochUpload): Promise<ChangeEffects> {
  return db.withTransaction(async (tx) => {
    const conv = await lockConversation(tx, convId);
    const m = await getMembership(tx, convId, actorId);
    if (!m) throw new AppError('not_found', 'No such conversation');
    // CAS first: a member who lost the race for a due rotation must learn "already done" (409), not 403.
    if (upload.epoch !== conv.current_epoch + 1) throw new AppError('conflict', `The next epoch is ${conv.current_epoch + 1}`);
    if (!conv.rotation_due && m.role !== 'admin') throw new AppError('forbidden', 'Only admins can rotate keys when no rotation is due');
    const closedSegments = await startEpoch(tx, convId, actorId, conv.current_epoch, upload);
    return { convId, epoch: upload.epoch, closedSegments };
  });
}

/** Peer-assisted key delivery: wraps of an existing epoch for current members who lack one (idempotent). */
export async function deliverWraps(db: Database, actorId: string, convId: string, epoch: number, req: { keyCommitment: string; wraps: KeyWrap[] }): Promise<void> {
  await db.withTransaction(async (tx) => {
    if (!(await getMembership(tx, convId, actorId))) throw new AppError('not_found', 'No such conversation');
    const row = await findEpoch(tx, convId, epoch);
    if (!row) throw new AppError('not_found', 'No such epoch');
    if (!row.key_commitment.equals(buf(req.keyCommitment))) throw new AppError('conflict', 'Key commitment does not match the epoch');
    const members = await currentMemberIds(tx, convId);
    if (req.wraps.some((w) => !members.has(w.recipientId))) throw new AppError('invalid_request', 'Invalid request: wraps: recipients must be current members');
    await insertWraps(tx, convId, epoch, actorId, req.wraps.map((w) => ({ recipientId: w.recipientId, wrap: buf(w.wrap), sig: buf(w.sig) })));
  });
}

/** Changes a member's role (admins only; the last admin cannot demote themself). */
export async function setRole(db: Database, actorId: string, convId: string, targetId: string, role: Role): Promise<void> {
  await db.withTransaction(async (tx) => {
    await lockConversation(tx, convId);
    await requireAdmin(tx, convId, actorId);
    if (!(await getMembership(tx, convId, targetId))) throw new AppError('not_found', 'Not a member');
    await tx.query(CONVERSATION_SQL.setRole, [convId, targetId, role]);
    const admins = (await tx.query(CONVERSATION_SQL.countAdmins, [convId])).rows[0] as { n: number };
    if (admins.n === 0) throw new AppError('conflict', 'A conversation needs at least one admin');
  });
}

/**
 * In a transaction: locks the conversation, checks that `actorId` is a member, and runs `fn` with the open
 * segment if it is still `fromSegmentId` (the CAS of the segment endpoints); no effects otherwise.
 */
function withOpenSegment(
  db: Database,
  actorId: string,
  convId: string,
  fromSegmentId: string,
  fn: (tx: Queryable, open: { id: string; idx: number }, currentEpoch: number) => Promise<ChangeEffects>,
): Promise<ChangeEffects> {
  return db.withTransaction(async (tx) => {
    const conv = await lockConversation(tx, convId);
    if (!(await getMembership(tx, convId, actorId))) throw new AppError('not_found', 'No such conversation');
    const open = (await tx.query(CONVERSATION_SQL.openSegment, [convId])).rows[0] as { id: string; idx: number } | undefined;
    if (!open || open.id !== fromSegmentId) return { convId };
    return fn(tx, open, conv.current_epoch);
  });
}

/**
 * Size-cap rollover within an epoch: closes `fromSegmentId` if it is still the open one (CAS; idempotent) and
 * opens the segment prepared ahead ([SEG-4]) if there is one, else a new one.
 */
export function rolloverSegment(db: Database, actorId: string, convId: string, fromSegmentId: string): Promise<ChangeEffects> {
  return withOpenSegment(db, actorId, convId, fromSegmentId, async (tx, open, currentEpoch) => {
    await tx.query(CONVERSATION_SQL.closeSegment, [open.id]);
    const next = (await tx.query(CONVERSATION_SQL.nextSegment, [convId])).rows[0] as { id: string; idx: number; epoch: number } | undefined;
    if (next && next.epoch === currentEpoch) {
      await tx.query(CONVERSATION_SQL.promoteSegment, [convId]);
      return { convId, closedSegments: [open.id] };
    }
    // (A prepared segment of an older epoch cannot outlive a rotation, which closes it; closed here too if one did.)
    if (next) await tx.query(CONVERSATION_SQL.closeNextSegment, [convId]);
    await tx.query(CONVERSATION_SQL.insertSegment, [newSegmentId(), convId, Math.max(open.idx, next?.idx ?? 0) + 1, currentEpoch]);
    return { convId, closedSegments: next ? [open.id, next.id] : [open.id] };
  });
}

/**
 * [SEG-4] Prepares the segment that follows `fromSegmentId` (state `next`) while that one is still open, so
 * members attach to it before the size-cap rollover. Idempotent: no-op when one exists or `fromSegmentId` is no
 * longer the open segment. Members are told (`conversation_changed` naming it) so their clients attach.
 */
export function prepareNextSegment(db: Database, actorId: string, convId: string, fromSegmentId: string): Promise<ChangeEffects> {
  return withOpenSegment(db, actorId, convId, fromSegmentId, async (tx, open, currentEpoch) => {
    if ((await tx.query(CONVERSATION_SQL.nextSegment, [convId])).rows.length > 0) return { convId };
    const id = newSegmentId();
    await tx.query(CONVERSATION_SQL.insertNextSegment, [id, convId, open.idx + 1, currentEpoch]);
    return { convId, preparedSegment: id };
  });
}

/** The user's key material for a conversation: every epoch, their wrap, chain wraps, and who lacks a wrap. */
export async function keyWraps(db: Queryable, userId: string, convId: string): Promise<KeyWrapsResponse> {
  if (!(await getMembership(db, convId, userId))) throw new AppError('not_found', 'No such conversation');
  const rows = await wrapsForUser(db, convId, userId);
  return {
    epochs: rows.map((r) => ({
      epoch: r.epoch,
      keyCommitment: toBase64Url(r.key_commitment),
      creatorId: r.creator_id,
      wrap: r.wrap && r.sig && r.wrapper_id ? { recipientId: userId, wrap: toBase64Url(r.wrap), sig: toBase64Url(r.sig), wrapperId: r.wrapper_id } : null,
      chain:
        r.chain_from !== null && r.chain_wrapped && r.chain_sig && r.chain_wrapper
          ? { fromEpoch: r.chain_from, wrapped: toBase64Url(r.chain_wrapped), sig: toBase64Url(r.chain_sig), wrapperId: r.chain_wrapper }
          : null,
    })),
    missing: await membersMissingWraps(db, convId),
  };
}
