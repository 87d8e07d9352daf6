/**
 * Which documents a user may open, and how (docs/protocol.md [SYNC-1]):
 *
 * - `s_…` segment: current members of its conversation; read-only once the segment is closed.
 * - `m_…` conversation metadata (signed membership ops, encrypted group name): current members.
 * - `p_…` profile: its owner writes; users sharing a conversation with the owner read.
 * - `i_…` inbox: only its owner, read-only (the server speaks on it with stateless notices).
 *
 * Anything else is refused. A refusal never says whether the document exists.
 */
import { MetaDocName, ProfileDocName, InboxDocName, SegmentId, uuidFromDocName } from '@parley/shared/protocol';
import type { Queryable } from '../db/database.ts';
import { findSegment, getMembership, shareConversation } from '../db/conversations.ts';
import { SyncRejection } from './errors.ts';

/** What an authenticated connection to a document is for. */
export type DocTarget =
  | { kind: 'segment'; docName: string; convId: string; readOnly: boolean }
  | { kind: 'meta'; docName: string; convId: string; readOnly: false }
  | { kind: 'profile'; docName: string; ownerId: string; readOnly: boolean }
  | { kind: 'inbox'; docName: string; userId: string; readOnly: true };

/** Decides access for `userId` to `docName`; throws `SyncRejection('Forbidden')` when not allowed. */
export async function authorizeDocument(db: Queryable, userId: string, docName: string): Promise<DocTarget> {
  const deny = () => new SyncRejection('Forbidden', 'no access to this document');
  if (SegmentId.safeParse(docName).success) {
    const segment = await findSegment(db, docName);
    if (!segment || !(await getMembership(db, segment.conv_id, userId))) throw deny();
    return { kind: 'segment', docName, convId: segment.conv_id, readOnly: segment.state === 'closed' };
  }
  const parsed = uuidFromDocName(docName);
  if (!parsed) throw deny();
  if (parsed.prefix === 'm' && MetaDocName.safeParse(docName).success) {
    if (!(await getMembership(db, parsed.uuid, userId))) throw deny();
    return { kind: 'meta', docName, convId: parsed.uuid, readOnly: false };
  }
  if (parsed.prefix === 'p' && ProfileDocName.safeParse(docName).success) {
    if (parsed.uuid === userId) return { kind: 'profile', docName, ownerId: userId, readOnly: false };
    if (!(await shareConversation(db, userId, parsed.uuid))) throw deny();
    return { kind: 'profile', docName, ownerId: parsed.uuid, readOnly: true };
  }
  if (parsed.prefix === 'i' && InboxDocName.safeParse(docName).success && parsed.uuid === userId) {
    return { kind: 'inbox', docName, userId, readOnly: true };
  }
  throw deny();
}
