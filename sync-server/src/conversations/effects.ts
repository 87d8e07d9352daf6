/**
 * Applying the side effects of a membership or key change after its transaction committed: closing the
 * sockets of users who lost access, closing connections to segments that became read-only, and telling
 * members on their inbox channel. Metadata only; the server has no content to share.
 */
import { CLOSE } from '@parley/shared/protocol';
import type { Queryable } from '../db/database.ts';
import { loadConversations } from '../db/conversations.ts';
import type { SyncServer } from '../sync/sync-server.ts';
import type { ChangeEffects } from './service.ts';

/** Something that can deliver effects (this instance's sync server; later also other instances). */
export interface EffectSink {
  notify: SyncServer['notify'];
  closeUserConnections: SyncServer['closeUserConnections'];
  closeDocuments: SyncServer['closeDocuments'];
}

/** Applies `effects` through `sink`; never throws (a failed notice must not fail the request). */
export async function applyEffects(db: Queryable, sink: EffectSink | null, effects: ChangeEffects): Promise<void> {
  if (!sink) return;
  const { convId } = effects;
  for (const userId of effects.removed ?? []) {
    sink.closeUserConnections(userId, CLOSE.Removed, convId);
    sink.notify(userId, { v: 1, type: 'member_removed', convId, userId });
  }
  if (effects.closedSegments?.length) sink.closeDocuments(effects.closedSegments, CLOSE.SegmentClosed);
  const [detail] = await loadConversations(db, [convId]);
  const members = detail?.members.map((m) => m.user_id) ?? [];
  for (const userId of members) {
    for (const added of effects.added ?? []) sink.notify(userId, { v: 1, type: 'member_added', convId, userId: added });
    for (const removed of effects.removed ?? []) sink.notify(userId, { v: 1, type: 'member_removed', convId, userId: removed });
    if (effects.epoch !== undefined) sink.notify(userId, { v: 1, type: 'epoch_changed', convId, epoch: effects.epoch });
    if (effects.keysNeeded && detail) sink.notify(userId, { v: 1, type: 'keys_needed', convId, epoch: detail.conversation.current_epoch + 1 });
    if (effects.preparedSegment) sink.notify(userId, { v: 1, type: 'conversation_changed', convId, docName: effects.preparedSegment });
  }
}
