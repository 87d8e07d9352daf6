/**
 * The main-thread side of message search: feeds changed messages to the search worker (only the difference
 * since the last feed, batched), and runs queries. See search.worker.ts for the index and its sealed
 * persistence.
 */
import { createSignal, type Accessor } from 'solid-js';
import type { ConversationMessage } from '@parley/shared/client';
import { deviceKey } from '../keystore.ts';
import type { SearchFilters } from './engine.ts';
import { FromWorker, type SearchDoc, type SearchHit, type ToWorker } from './protocol.ts';

export type { SearchFilters };

/** The search handle the chat screens use. */
export interface Search {
  /** Feeds a conversation's current messages (cheap when nothing changed). */
  update(convId: string, messages: readonly ConversationMessage[]): void;
  /** Drops a conversation's messages from the index (the conversation was deleted from this device). */
  forget(convId: string): void;
  /** Runs a query (at most `limit` hits, best first). */
  query(q: string, filters?: SearchFilters, limit?: number): Promise<SearchHit[]>;
  /** Messages indexed (reactive; updates when the worker reports). */
  count: Accessor<number>;
  dispose(): void;
}

/** Starts the search worker for `userId`. */
export function createSearch(userId: string): Search {
  const worker = new Worker(new URL('./search.worker.ts', import.meta.url), { type: 'module', name: 'parley-search' });
  const send = (m: ToWorker) => worker.postMessage(m);
  const [count, setCount] = createSignal(0);
  const waiting = new Map<number, (hits: SearchHit[]) => void>();
  let reqId = 0;
  const sent = new Map<string, Map<string, string | null>>();
  let upserts: SearchDoc[] = [];
  let removals: Array<{ convId: string; id: string }> = [];
  let timer: ReturnType<typeof setTimeout> | undefined;

  worker.onmessage = (e: MessageEvent<unknown>) => {
    const parsed = FromWorker.safeParse(e.data);
    if (!parsed.success) return;
    const m = parsed.data;
    if (m.type === 'results') {
      waiting.get(m.reqId)?.(m.hits);
      waiting.delete(m.reqId);
    } else setCount(m.count);
  };

  void deviceKey()
    .catch(() => null)
    .then((key) => send({ type: 'init', userId, key }));

  function flush(): void {
    timer = undefined;
    if (upserts.length > 0) send({ type: 'upsert', docs: upserts });
    if (removals.length > 0) send({ type: 'remove', items: removals });
    upserts = [];
    removals = [];
  }

  return {
    count,
    update(convId, messages) {
      let known = sent.get(convId);
      if (!known) sent.set(convId, (known = new Map()));
      for (const m of messages) {
        const text = m.deleted ? null : m.text;
        if (known.get(m.id) === text) continue;
        known.set(m.id, text);
        if (text === null) removals.push({ convId, id: m.id });
        else upserts.push({ id: m.id, convId, author: m.author, ts: m.ts, text });
      }
      if ((upserts.length > 0 || removals.length > 0) && timer === undefined) timer = setTimeout(flush, 150);
    },
    forget(convId) {
      if (timer !== undefined) {
        clearTimeout(timer);
        flush();
      }
      sent.delete(convId);
      send({ type: 'remove-conversation', convId });
    },
    query(q, filters = {}, limit = 50) {
      if (timer !== undefined) {
        clearTimeout(timer);
        flush();
      }
      const id = ++reqId;
      return new Promise((resolve) => {
        waiting.set(id, resolve);
        send({ type: 'query', reqId: id, q, limit, ...(filters.convId ? { convId: filters.convId } : {}), ...(filters.author ? { author: filters.author } : {}) });
      });
    },
    dispose() {
      // No final save: on sign-out the databases are being wiped. The index is saved a moment after each
      // change, and anything missed is re-fed (and deduplicated) on the next start.
      clearTimeout(timer);
      worker.terminate();
      for (const r of waiting.values()) r([]);
      waiting.clear();
    },
  };
}
