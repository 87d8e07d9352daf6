/**
 * `IdbStorage`: the browser's `ClientStorage` for the client core, one IndexedDB object store of bytes.
 * The core writes only through its `SealedStore` (values sealed under a key derived from the identity
 * secret, the record name bound as AAD), so nothing here is readable without the account's keys. The
 * database is named `parley-client` so the shell's sign-out wipe (every `parley*` database) deletes it.
 */
import type { ClientStorage } from '@parley/shared/client';

const DB_NAME = 'parley-client';
const STORE = 'kv';

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
}

/** See the module comment. One connection is opened lazily and kept until `close()`. */
export class IdbStorage implements ClientStorage {
  #db: Promise<IDBDatabase> | undefined;
  /** Set once the database is being deleted (sign-out wipe): later writes are dropped, not resurrected. */
  #gone = false;

  constructor(private readonly name = DB_NAME) {}

  #open(): Promise<IDBDatabase> {
    this.#db ??= new Promise<IDBDatabase>((resolve, reject) => {
      const req = indexedDB.open(this.name, 1);
      req.onupgradeneeded = () => {
        if (!req.result.objectStoreNames.contains(STORE)) req.result.createObjectStore(STORE);
      };
      req.onsuccess = () => {
        const db = req.result;
        // Another tab deleting the database (sign-out wipe) must not be blocked by this connection.
        db.onversionchange = () => {
          db.close();
          this.#gone = true;
        };
        resolve(db);
      };
      req.onerror = () => reject(req.error ?? new Error('IndexedDB open failed'));
    });
    const p = this.#db;
    p.catch(() => {
      if (this.#db === p) this.#db = undefined;
    });
    return p;
  }

  async #tx<T>(mode: IDBTransactionMode, fn: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
    const db = await this.#open();
    const tx = db.transaction(STORE, mode, { durability: 'strict' });
    const done = new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
      tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
    });
    const result = await request(fn(tx.objectStore(STORE)));
    await done; // `set` resolves only once the write is durable (the ClientStorage contract)
    return result;
  }

  /** See `ClientStorage.get`. */
  async get(key: string): Promise<Uint8Array | undefined> {
    if (this.#gone) return undefined;
    const v = await this.#tx<unknown>('readonly', (s) => s.get(key));
    if (v instanceof Uint8Array) return v;
    if (v instanceof ArrayBuffer) return new Uint8Array(v);
    return undefined;
  }

  /** See `ClientStorage.set`. */
  async set(key: string, value: Uint8Array): Promise<void> {
    if (this.#gone) return;
    await this.#tx('readwrite', (s) => s.put(value.slice(), key));
  }

  /** See `ClientStorage.delete`. */
  async delete(key: string): Promise<void> {
    if (this.#gone) return;
    await this.#tx('readwrite', (s) => s.delete(key));
  }

  /** See `ClientStorage.list`. Keys come back sorted (IndexedDB orders string keys by code unit). */
  async list(prefix: string): Promise<string[]> {
    if (this.#gone) return [];
    const range = IDBKeyRange.bound(prefix, `${prefix}\uffff`, false, false);
    const keys = await this.#tx<IDBValidKey[]>('readonly', (s) => s.getAllKeys(range));
    return keys.filter((k): k is string => typeof k === 'string' && k.startsWith(prefix)).sort();
  }

  /** Closes the connection (the chat screens unmount on sign-out). */
  close(): void {
    void this.#db?.then((db) => db.close()).catch(() => undefined);
    this.#gone = true;
  }
}
