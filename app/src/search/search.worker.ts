/// <reference lib="webworker" />
/**
 * The search worker: the `MessageIndex` of engine.ts (prefix, typo-tolerant and accent-folded matching)
 * over decrypted messages, built on this device. It is persisted as one AES-GCM-sealed record in the
 * `parley-search` IndexedDB database (key: the non-extractable device key handed over at init; AAD binds the
 * account), and loaded back on the next start so history is not re-fed. Nothing leaves the device.
 */
import '../zod-config.ts';
import { z } from 'zod';
import { MessageIndex } from './engine.ts';
import { ToWorker, type FromWorker, type SearchDoc, type SearchHit } from './protocol.ts';

declare const self: DedicatedWorkerGlobalScope;

const DB_NAME = 'parley-search';
const STORE = 'kv';
const AAD_CONTEXT = 'parley/search-index/v1';
/**
 * 2: the sealed JSON is engine.ts's `PersistedIndex` (1 was a MiniSearch index; such a record is dropped).
 * It holds message texts only, and the postings are rebuilt from them on load with the current folding and
 * tokenising (text.ts), so changing those needs no new format; only a change to the record's shape does.
 */
const FORMAT = 2;

/** The sealed index as stored in IndexedDB: `PersistedIndex` JSON under AES-GCM. */
const SealedRecord = z.object({ v: z.literal(FORMAT), iv: z.instanceof(Uint8Array), data: z.instanceof(Uint8Array) }).strict();

let index = new MessageIndex();
let userId = '';
let key: CryptoKey | null = null;
let saveTimer: ReturnType<typeof setTimeout> | undefined;
let dirty = false;
let ready: Promise<void> = new Promise(() => {});
/** The database is being deleted (sign-out wipe): never write it again. */
let gone = false;

function post(m: FromWorker): void {
  self.postMessage(m);
}

function req<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error ?? new Error('IndexedDB request failed'));
  });
}

let dbp: Promise<IDBDatabase> | undefined;
function db(): Promise<IDBDatabase> {
  dbp ??= (() => {
    const r = indexedDB.open(DB_NAME, 1);
    r.onupgradeneeded = () => {
      if (!r.result.objectStoreNames.contains(STORE)) r.result.createObjectStore(STORE);
    };
    return req(r).then((d) => {
      d.onversionchange = () => {
        d.close();
        gone = true;
      };
      return d;
    });
  })();
  return dbp;
}

function aad(): Uint8Array<ArrayBuffer> {
  return new Uint8Array(new TextEncoder().encode(`${AAD_CONTEXT}|${userId}`));
}

async function load(): Promise<boolean> {
  if (!key) return false;
  const d = await db();
  const rec: unknown = await req(d.transaction(STORE, 'readonly').objectStore(STORE).get(userId));
  const parsed = SealedRecord.safeParse(rec);
  if (!parsed.success) return false; // absent, or written by something else: start over
  const { iv, data } = parsed.data;
  try {
    const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: new Uint8Array(iv), additionalData: aad() }, key, new Uint8Array(data));
    const loaded = MessageIndex.fromJSON(JSON.parse(new TextDecoder().decode(plain)));
    if (loaded === null) return false;
    index = loaded;
    return true;
  } catch {
    return false; // another device key, tampering or an old format: start over
  }
}

async function save(): Promise<void> {
  if (!key || !dirty || gone) return;
  dirty = false;
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const plain = new TextEncoder().encode(JSON.stringify(index));
  const data = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: aad() }, key, plain));
  const d = await db();
  const tx = d.transaction(STORE, 'readwrite');
  tx.objectStore(STORE).put({ v: FORMAT, iv, data }, userId);
  await new Promise<void>((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error ?? new Error('IndexedDB write failed'));
  });
  post({ type: 'saved', count: index.documentCount });
}

function scheduleSave(): void {
  dirty = true;
  clearTimeout(saveTimer);
  saveTimer = setTimeout(() => void save().catch(() => (dirty = true)), 1500);
}

function upsert(docs: SearchDoc[]): void {
  let changed = false;
  for (const doc of docs) {
    if (index.get(doc.convId, doc.id)?.text === doc.text) continue; // unchanged (add would replace it)
    index.add(doc);
    changed = true;
  }
  if (changed) scheduleSave();
}

function remove(items: Array<{ convId: string; id: string }>): void {
  let changed = false;
  for (const { convId, id } of items) {
    if (index.remove(convId, id)) changed = true;
  }
  if (changed) scheduleSave();
}

function query(q: string, limit: number, convId?: string, author?: string): SearchHit[] {
  return index.search(q, { ...(convId === undefined ? {} : { convId }), ...(author === undefined ? {} : { author }) }, limit).hits;
}

self.onmessage = (e: MessageEvent<unknown>) => {
  const parsed = ToWorker.safeParse(e.data);
  if (!parsed.success) return; // not ours: the search client only sends ToWorker
  const m = parsed.data;
  if (m.type === 'init') {
    userId = m.userId;
    key = m.key;
    ready = load()
      .catch(() => false)
      .then((restored) => post({ type: 'ready', count: index.documentCount, restored }));
    return;
  }
  void ready.then(() => {
    switch (m.type) {
      case 'upsert':
        upsert(m.docs);
        break;
      case 'remove':
        remove(m.items);
        break;
      case 'remove-conversation':
        if (index.removeConversation(m.convId) > 0) scheduleSave();
        break;
      case 'query':
        post({ type: 'results', reqId: m.reqId, hits: query(m.q, m.limit, m.convId, m.author) });
        break;
      case 'flush':
        clearTimeout(saveTimer);
        void save().catch(() => undefined);
        break;
      default: {
        const never: never = m;
        throw new TypeError(`unknown message ${JSON.stringify(never)}`);
      }
    }
  });
};
