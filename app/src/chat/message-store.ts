/**
 * The open conversation's messages as a Solid store that owns its objects.
 *
 * `reconcile` updates a changed message by writing the new values into the object the store already holds,
 * arrays included. The store therefore never holds the client core's objects: the core shares some of them
 * between messages (one empty `readBy` for every unread message, one `readBy` per author for a run of
 * messages, frozen empty file and reaction lists) and keeps the ones it rendered last to compare against. When
 * the store held them, Bob's first read receipt was written into the shared empty `readBy`, and from then on
 * every unread message in every conversation of that tab showed "Read" until a reload.
 *
 * So each message enters the store as a copy (its lists copied too). The core hands out the same object for
 * an unchanged message; it maps to the object the store holds for it, which `reconcile` skips at once.
 */
import { createStore, reconcile, unwrap } from 'solid-js/store';
import type { ConversationMessage } from '@parley/shared/client';

/** A copy of `m` that shares no object or array with it. */
function ownCopy(m: ConversationMessage): ConversationMessage {
  return {
    ...m,
    readBy: [...m.readBy],
    reactions: m.reactions.map((r) => ({ emoji: r.emoji, users: [...r.users] })),
    attachments: m.attachments.map((a) => structuredClone(a)),
  };
}

/** The store's list (reactive, read-only for views) and `sync`, which takes each new list from the core. */
export interface MessageStore {
  readonly list: readonly ConversationMessage[];
  sync(messages: readonly ConversationMessage[]): void;
}

/** See the module comment. One per conversation view. */
export function createMessageStore(): MessageStore {
  const [state, setState] = createStore<{ list: ConversationMessage[] }>({ list: [] });
  /** Message id → the core's current object of it and the store's object with the same values. */
  const held = new Map<string, { core: ConversationMessage; own: ConversationMessage }>();
  return {
    get list() {
      return state.list;
    },
    sync(messages) {
      const changed: number[] = [];
      const next = messages.map((m, i) => {
        const h = held.get(m.id);
        if (h?.core === m) return h.own;
        changed.push(i);
        return ownCopy(m);
      });
      setState('list', reconcile(next, { key: 'id' }));
      if (changed.length === 0) return;
      // The store keeps its earlier object of a changed message (now holding the new values) or takes the copy.
      const stored = unwrap(state.list);
      for (const i of changed) held.set(messages[i]!.id, { core: messages[i]!, own: stored[i]! });
    },
  };
}
