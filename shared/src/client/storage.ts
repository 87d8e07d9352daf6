/**
 * Device storage for the client core. The runtime injects a `ClientStorage` (IndexedDB in the browser, a
 * file or memory in Node); the core only ever writes through a `SealedStore`, which encrypts every value
 * under a local key derived from the account's identity secret (HKDF, CONTEXT.localStore), so nothing
 * sensitive (keys, pins, drafts, envelope states) sits in the clear at rest. The record name is bound in as
 * AAD, so a value moved to another name does not open.
 */
import type { z } from 'zod';
import { CONTEXT, hkdf, open, seal } from '../crypto/index.ts';
import { fromUtf8, utf8 } from '../protocol/encoding.ts';
import type { CounterStore } from '../envelope/counters.ts';

/** A flat async key-value store of bytes. Implementations must make `set` durable before resolving. */
export interface ClientStorage {
  get(key: string): Promise<Uint8Array | undefined>;
  set(key: string, value: Uint8Array): Promise<void>;
  delete(key: string): Promise<void>;
  /** Every key that starts with `prefix`, in lexicographic order. */
  list(prefix: string): Promise<string[]>;
}

/** In-memory `ClientStorage` (tests, bots, a "fresh device"). Values are copied in and out. */
export class MemoryStorage implements ClientStorage {
  readonly #map = new Map<string, Uint8Array>();
  /** See `ClientStorage.get`. */
  async get(key: string): Promise<Uint8Array | undefined> {
    const v = this.#map.get(key);
    return v ? v.slice() : undefined;
  }
  /** See `ClientStorage.set`. */
  async set(key: string, value: Uint8Array): Promise<void> {
    this.#map.set(key, value.slice());
  }
  /** See `ClientStorage.delete`. */
  async delete(key: string): Promise<void> {
    this.#map.delete(key);
  }
  /** See `ClientStorage.list`. */
  async list(prefix: string): Promise<string[]> {
    return [...this.#map.keys()].filter((k) => k.startsWith(prefix)).sort();
  }
  /** Every raw stored value (tests use it to prove nothing is stored in the clear). */
  rawValues(): Uint8Array[] {
    return [...this.#map.values()];
  }
}

/** The minimal fs surface `FileStorage` needs (Node's `fs/promises` fits); injected to stay runtime-neutral. */
export interface FsLike {
  readFile(path: string): Promise<Uint8Array>;
  writeFile(path: string, data: Uint8Array): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  readdir(path: string): Promise<string[]>;
  mkdir(path: string, options: { recursive: true }): Promise<unknown>;
}

/**
 * A `ClientStorage` over a directory: one file per key (name hex-encoded), written to a temp file and
 * renamed, so a crash never leaves a torn value.
 */
export class FileStorage implements ClientStorage {
  #ready: Promise<unknown> | undefined;
  constructor(
    private readonly fs: FsLike,
    private readonly dir: string,
  ) {}
  #path(key: string): string {
    let hex = '';
    for (const b of utf8(key)) hex += b.toString(16).padStart(2, '0');
    return `${this.dir}/${hex}`;
  }
  #mkdir(): Promise<unknown> {
    this.#ready ??= this.fs.mkdir(this.dir, { recursive: true });
    return this.#ready;
  }
  /** See `ClientStorage.get`. */
  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      return new Uint8Array(await this.fs.readFile(this.#path(key)));
    } catch (e) {
      if ((e as { code?: unknown }).code === 'ENOENT') return undefined;
      throw e;
    }
  }
  /** See `ClientStorage.set`. */
  async set(key: string, value: Uint8Array): Promise<void> {
    await this.#mkdir();
    const p = this.#path(key);
    const tmp = `${p}.tmp${Math.random().toString(16).slice(2)}`;
    await this.fs.writeFile(tmp, value);
    await this.fs.rename(tmp, p);
  }
  /** See `ClientStorage.delete`. */
  async delete(key: string): Promise<void> {
    try {
      await this.fs.unlink(this.#path(key));
    } catch (e) {
      if ((e as { code?: unknown }).code !== 'ENOENT') throw e;
    }
  }
  /** See `ClientStorage.list`. */
  async list(prefix: string): Promise<string[]> {
    await this.#mkdir();
    const out: string[] = [];
    for (const name of await this.fs.readdir(this.dir)) {
      if (!/^([0-9a-f]{2})+$/.test(name)) continue;
      const bytes = new Uint8Array(name.length / 2);
      for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(name.slice(2 * i, 2 * i + 2), 16);
      const key = new TextDecoder().decode(bytes);
      if (key.startsWith(prefix)) out.push(key);
    }
    return out.sort();
  }
}

/** Derives the at-rest key of one account on this device (HKDF of the identity secret, salted by userId). */
export function deriveLocalKey(identitySecret: Uint8Array, userId: string): Uint8Array {
  return hkdf(identitySecret, CONTEXT.localStore, 32, utf8(userId));
}

/**
 * Encrypting view of a `ClientStorage` for one account: names are prefixed with `u/<userId>/`, values are
 * sealed with the local key and the full name as AAD. A value that fails to open reads as missing (and is
 * reported through `onCorrupt`), never as garbage.
 */
export class SealedStore {
  readonly #prefix: string;
  constructor(
    readonly storage: ClientStorage,
    private readonly key: Uint8Array,
    userId: string,
    private readonly onCorrupt: (name: string) => void = () => {},
  ) {
    this.#prefix = `u/${userId}/`;
  }
  /** Reads and opens a value, or undefined when missing or corrupt. */
  async get(name: string): Promise<Uint8Array | undefined> {
    const full = this.#prefix + name;
    const raw = await this.storage.get(full);
    if (!raw) return undefined;
    try {
      return open(this.key, raw, utf8(full));
    } catch {
      this.onCorrupt(name);
      return undefined;
    }
  }
  /** Seals and writes a value. */
  async set(name: string, value: Uint8Array): Promise<void> {
    const full = this.#prefix + name;
    await this.storage.set(full, seal(this.key, value, utf8(full)));
  }
  /** Removes a value. */
  async delete(name: string): Promise<void> {
    await this.storage.delete(this.#prefix + name);
  }
  /** Names (without the account prefix) starting with `prefix`. */
  async list(prefix: string): Promise<string[]> {
    const keys = await this.storage.list(this.#prefix + prefix);
    return keys.map((k) => k.slice(this.#prefix.length));
  }
  /** Reads a JSON value and parses it with `schema` (strict schemas: storage is an edge too). */
  async getJson<T>(name: string, schema: z.ZodType<T>): Promise<T | undefined> {
    const bytes = await this.get(name);
    if (!bytes) return undefined;
    try {
      const r = schema.safeParse(JSON.parse(fromUtf8(bytes)));
      if (r.success) return r.data;
    } catch {
      // fall through: unreadable JSON is treated as corrupt
    }
    this.onCorrupt(name);
    return undefined;
  }
  /** Writes a JSON value. */
  async setJson(name: string, value: unknown): Promise<void> {
    await this.set(name, utf8(JSON.stringify(value)));
  }
}

/**
 * A `CounterStore` ([FRAME-7]) over a `SealedStore`: calls are serialised so two concurrent `next` calls never
 * hand out the same counter, and a counter is covered by a durable record before it is returned.
 *
 * With `reserve` = 1 (the default, and what frame counters use: a gap in a device's FRAME counters reads as a
 * withheld frame) every answer is written before it is returned. With `reserve` = n > 1 the store writes a
 * ceiling n - 1 above the answer once per n calls and hands out the counters below it from memory: a crash
 * then skips the unused rest of the block, and never reuses a counter. Message ids use this (they only need
 * to be unique per device; nothing reads their gaps).
 */
export class StoredCounters implements CounterStore {
  /** Last counter handed out and the durable ceiling, per id. */
  readonly #cache = new Map<string, { last: number; ceiling: number }>();
  #chain: Promise<unknown> = Promise.resolve();
  readonly #reserve: number;
  constructor(
    private readonly store: SealedStore,
    private readonly namespace = 'ctr/',
    reserve = 1,
  ) {
    if (!Number.isSafeInteger(reserve) || reserve < 1) throw new RangeError('reserve must be a positive integer');
    this.#reserve = reserve;
  }
  /** See `CounterStore.next`. */
  next(segmentId: string, atLeast: number): Promise<number> {
    const cached = this.#cache.get(segmentId);
    if (cached) {
      const value = Math.max(cached.last + 1, atLeast);
      if (value <= cached.ceiling) {
        // Inside the durable block: no write, and nothing queued can hand out this value (the chain only
        // ever raises `last` through this same synchronous step or after writing a higher ceiling).
        cached.last = value;
        return this.#chain.then(() => value);
      }
    }
    const run = this.#chain.then(async () => {
      let c = this.#cache.get(segmentId);
      if (!c) {
        const raw = await this.store.get(this.namespace + segmentId);
        const stored = raw && raw.length === 8 ? new DataView(raw.buffer, raw.byteOffset).getFloat64(0) : 0;
        c = { last: stored, ceiling: stored };
      }
      const value = Math.max(c.last + 1, atLeast);
      if (value > c.ceiling) {
        const ceiling = value + this.#reserve - 1;
        const bytes = new Uint8Array(8);
        new DataView(bytes.buffer).setFloat64(0, ceiling);
        await this.store.set(this.namespace + segmentId, bytes);
        c.ceiling = ceiling;
      }
      c.last = value;
      this.#cache.set(segmentId, c);
      return value;
    });
    this.#chain = run.catch(() => undefined);
    return run;
  }
}
