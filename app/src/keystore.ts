/**
 * Keys at rest. A non-extractable AES-GCM key (the "device key") is generated with WebCrypto and kept in
 * IndexedDB as a CryptoKey (structured clone): script on this origin can use it but never read its bytes.
 * It wraps the account secrets (`encodeAccountSecrets`, bundle format v1) so a reload can resume the
 * session without the password. The record also keeps the non-secret session description and the
 * password slot (salt, KDF, sealed bundle) that `changePassword` needs.
 *
 * Every record read back is parsed with a zod schema; anything unexpected is treated as absent.
 * Databases named `parley*` are this app's local data; `wipeLocalData` deletes all of them.
 */
import { z } from 'zod';
import { AccountSecrets, encodeAccountSecrets, type ResumeState } from '@parley/shared/client';
import { KdfParams, PublicKeys, utf8 } from '@parley/shared/protocol';

const DB_NAME = 'parley-keystore';
const STORE = 'kv';
const DEVICE_KEY = 'device-key';
const RESUME = 'resume';
/** AAD prefix for the wrapped secrets; the user id is appended so a record cannot be moved to another account. */
const AAD_CONTEXT = 'parley/keystore-resume/v1';
/** Every IndexedDB database of this app starts with this (the chat screens' stores included). */
export const LOCAL_DB_PREFIX = 'parley';

const Bytes = z.instanceof(Uint8Array);

const ResumeRecord = z
  .object({
    v: z.literal(1),
    session: z
      .object({
        sessionId: z.uuid(),
        userId: z.uuid(),
        username: z.string().min(1).max(128),
        accessTokenExpiresAt: z.number().int(),
        publicKeys: PublicKeys,
      })
      .strict(),
    salt: Bytes,
    kdf: KdfParams,
    accountBundle: Bytes,
    iv: Bytes.refine((b) => b.length === 12, 'iv must be 12 bytes'),
    wrapped: Bytes,
  })
  .strict();
type ResumeRecord = z.infer<typeof ResumeRecord>;

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
}

function openDb(): Promise<IDBDatabase> {
  const req = indexedDB.open(DB_NAME, 1);
  req.onupgradeneeded = () => {
    if (!req.result.objectStoreNames.contains(STORE)) req.result.createObjectStore(STORE);
  };
  return request(req);
}

async function withStore<T>(mode: IDBTransactionMode, fn: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await openDb();
  try {
    const tx = db.transaction(STORE, mode);
    const result = await request(fn(tx.objectStore(STORE)));
    await new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
      tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
    });
    return result;
  } finally {
    db.close();
  }
}

/** The device key, created on first use (non-extractable; usable only for encrypt/decrypt). Also seals the search index (app/src/search). */
export async function deviceKey(): Promise<CryptoKey> {
  const existing = await withStore<unknown>('readonly', (s) => s.get(DEVICE_KEY));
  if (existing instanceof CryptoKey && !existing.extractable) return existing;
  const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
  await withStore('readwrite', (s) => s.put(key, DEVICE_KEY));
  return key;
}

function aad(userId: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(utf8(`${AAD_CONTEXT}|${userId}`));
}

/** Wraps the account secrets under the device key and stores the resume record (replacing any). */
export async function saveResumeState(state: ResumeState): Promise<void> {
  const key = await deviceKey();
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const secrets = new Uint8Array(encodeAccountSecrets(state.keys));
  let wrapped: Uint8Array<ArrayBuffer>;
  try {
    wrapped = new Uint8Array(
      await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: aad(state.session.userId) }, key, secrets),
    );
  } finally {
    secrets.fill(0);
  }
  const record: ResumeRecord = {
    v: 1,
    session: { ...state.session },
    salt: new Uint8Array(state.salt),
    kdf: state.kdf,
    accountBundle: new Uint8Array(state.accountBundle),
    iv,
    wrapped,
  };
  await withStore('readwrite', (s) => s.put(record, RESUME));
}

/**
 * The stored resume state with its secrets unwrapped, or null when there is none or it does not open
 * (another device key, tampering, an old format): such a record is deleted.
 */
export async function loadResumeState(): Promise<ResumeState | null> {
  // Do not create the database just to look (after a wipe it should stay gone).
  if (typeof indexedDB.databases === 'function' && !(await indexedDB.databases()).some((d) => d.name === DB_NAME)) return null;
  const raw = await withStore<unknown>('readonly', (s) => s.get(RESUME));
  if (raw === undefined) return null;
  const parsed = ResumeRecord.safeParse(raw);
  if (!parsed.success) {
    await forgetResumeState();
    return null;
  }
  const r = parsed.data;
  let secrets: Uint8Array;
  try {
    const key = await deviceKey();
    secrets = new Uint8Array(
      await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: new Uint8Array(r.iv), additionalData: aad(r.session.userId) },
        key,
        new Uint8Array(r.wrapped),
      ),
    );
  } catch {
    await forgetResumeState();
    return null;
  }
  const keys = AccountSecrets.safeParse(secrets);
  secrets.fill(0);
  if (!keys.success) {
    await forgetResumeState();
    return null;
  }
  return { session: r.session, keys: keys.data, salt: r.salt, kdf: r.kdf, accountBundle: r.accountBundle };
}

/** Deletes the wrapped secrets (the session cannot be resumed without the password afterwards). */
export async function forgetResumeState(): Promise<void> {
  await withStore('readwrite', (s) => s.delete(RESUME));
}

/**
 * Deletes every `parley*` IndexedDB database (keystore, conversation caches, search index) and this
 * app's localStorage entries except the theme choice. Databases another tab holds open are deleted when
 * it lets go (IndexedDB "blocked"); we do not wait for that.
 */
export async function wipeLocalData(keepLocalStorage: readonly string[]): Promise<void> {
  const dbs = typeof indexedDB.databases === 'function' ? await indexedDB.databases() : [{ name: DB_NAME }];
  await Promise.all(
    dbs
      .map((d) => d.name)
      .filter((name): name is string => typeof name === 'string' && name.startsWith(LOCAL_DB_PREFIX))
      .map(
        (name) =>
          new Promise<void>((resolve) => {
            const req = indexedDB.deleteDatabase(name);
            req.onsuccess = () => resolve();
            req.onerror = () => resolve();
            req.onblocked = () => resolve();
          }),
      ),
  );
  for (let i = localStorage.length - 1; i >= 0; i--) {
    const k = localStorage.key(i);
    if (k !== null && k.startsWith(LOCAL_DB_PREFIX) && !keepLocalStorage.includes(k)) localStorage.removeItem(k);
  }
}
