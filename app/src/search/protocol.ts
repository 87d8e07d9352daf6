/**
 * Messages between the search client (main thread) and the search worker. Everything stays on this device:
 * the worker holds a MiniSearch index of decrypted messages and persists it sealed (AES-GCM under the
 * non-extractable device key) in IndexedDB; nothing is ever sent to the server.
 */

/** One indexed message. */
export interface SearchDoc {
  id: string;
  convId: string;
  author: string;
  ts: number;
  text: string;
}

/** A search hit (stored fields plus the matched terms, for highlighting). */
export interface SearchHit extends SearchDoc {
  score: number;
  terms: string[];
}

/** Main thread -> worker. */
export type ToWorker =
  | { type: 'init'; userId: string; key: CryptoKey | null }
  | { type: 'upsert'; docs: SearchDoc[] }
  | { type: 'remove'; ids: string[] }
  | { type: 'query'; reqId: number; q: string; convId?: string; author?: string; limit: number }
  | { type: 'flush' };

/** Worker -> main thread. */
export type FromWorker =
  | { type: 'ready'; count: number; restored: boolean }
  | { type: 'results'; reqId: number; hits: SearchHit[] }
  | { type: 'saved'; count: number };

/**
 * Folds a term for indexing and querying: Unicode NFD, combining marks (accents) stripped, lower case, so
 * "Café", "cafe" and "CAFÉ" match.
 */
export function foldTerm(term: string): string {
  return term.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}
