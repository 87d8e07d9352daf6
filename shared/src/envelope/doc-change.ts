/**
 * Change notices for a Y.Doc without Yjs encoding an update per transaction.
 *
 * While a doc has an `update` listener, Yjs encodes every transaction into an update message, even when the
 * listener only wants to know that something changed. The inner docs of a receiving device apply a frame per
 * transaction, so such a listener costs an encoding per frame. `onDocChange` fires on the same transactions
 * as `update` would (Yjs's own test: a delete set, or a client whose clock moved) without encoding anything.
 */
import type * as Y from 'yjs';

/** Whether `tr` changed its doc: exactly when Yjs would emit `update` for it. */
export function transactionChanged(tr: Y.Transaction): boolean {
  if (tr.deleteSet.clients.size > 0) return true;
  for (const [client, clock] of tr.afterState) if (tr.beforeState.get(client) !== clock) return true;
  return false;
}

/** Calls `listener` after every transaction that changed `doc` (from `afterTransaction`); returns the unsubscribe. */
export function onDocChange(doc: Y.Doc, listener: (tr: Y.Transaction) => void): () => void {
  const handler = (tr: Y.Transaction) => {
    if (transactionChanged(tr)) listener(tr);
  };
  doc.on('afterTransaction', handler);
  return () => doc.off('afterTransaction', handler);
}
