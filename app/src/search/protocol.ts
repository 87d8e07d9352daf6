/**
 * Messages between the search client (main thread) and the search worker. Everything stays on this device:
 * the worker holds a MiniSearch index of decrypted messages and persists it sealed (AES-GCM under the
 * non-extractable device key) in IndexedDB; nothing is ever sent to the server. A worker is another realm,
 * so each side parses what it receives with these schemas (parse, don't cast).
 */
import { z } from 'zod';

/** One indexed message. */
export const SearchDoc = z
  .object({ id: z.string(), convId: z.string(), author: z.string(), ts: z.number(), text: z.string() })
  .strict();
export type SearchDoc = z.infer<typeof SearchDoc>;

/** A search hit (stored fields plus the matched terms, for highlighting). */
export const SearchHit = z
  .object({ id: z.string(), convId: z.string(), author: z.string(), ts: z.number(), text: z.string(), score: z.number(), terms: z.array(z.string()) })
  .strict();
export type SearchHit = z.infer<typeof SearchHit>;

/** Main thread -> worker. `key` is the device's non-extractable AES-GCM key (null: do not persist). */
export const ToWorker = z.discriminatedUnion('type', [
  z.object({ type: z.literal('init'), userId: z.string(), key: z.custom<CryptoKey | null>((k) => k === null || (typeof CryptoKey !== 'undefined' && k instanceof CryptoKey)) }).strict(),
  z.object({ type: z.literal('upsert'), docs: z.array(SearchDoc) }).strict(),
  z.object({ type: z.literal('remove'), items: z.array(z.object({ convId: z.string(), id: z.string() }).strict()) }).strict(),
  z.object({ type: z.literal('remove-conversation'), convId: z.string() }).strict(),
  z
    .object({ type: z.literal('query'), reqId: z.number().int(), q: z.string(), convId: z.string().optional(), author: z.string().optional(), limit: z.number().int().min(0).max(500) })
    .strict(),
  z.object({ type: z.literal('flush') }).strict(),
]);
export type ToWorker = z.infer<typeof ToWorker>;

/** Worker -> main thread. */
export const FromWorker = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), count: z.number().int(), restored: z.boolean() }).strict(),
  z.object({ type: z.literal('results'), reqId: z.number().int(), hits: z.array(SearchHit) }).strict(),
  z.object({ type: z.literal('saved'), count: z.number().int() }).strict(),
]);
export type FromWorker = z.infer<typeof FromWorker>;

/** Folding (accents, case, ß…) is text.ts's; re-exported for the benchmark's scan baseline, which folds the same way. */
export { foldTerm } from './text.ts';
