/**
 * `KeyDirectory`: public keys of other users, pinned on first use (TOFU). The server's directory is
 * trusted only the first time a user is seen; afterwards a different key is refused (the pinned key stays in
 * use) and reported loudly as `key_changed`, and users compare a safety number to verify in person.
 */
import { z } from 'zod';
import { equalBytes } from '../crypto/index.ts';
import { safetyNumber } from '../crypto/safety-number.ts';
import { UserDirectoryEntry, fromBase64Url, toBase64Url, type PublicKeys } from '../protocol/index.ts';
import { verifyPublicKeys, verifyPublicKeysAsync } from './account-crypto.ts';
import { ClientError } from './errors.ts';
import { Emitter } from './events.ts';
import type { SealedStore } from './storage.ts';
import type { HttpTransport } from './transport.ts';

/** A pinned contact key set. */
export interface PinnedKeys {
  userId: string;
  username: string;
  identity: Uint8Array;
  sealing: Uint8Array;
  /** When this device first saw the keys (unix ms). */
  pinnedAt: number;
}

const PinRecord = z
  .object({ userId: z.uuid(), username: z.string().max(64), identity: z.string(), sealing: z.string(), pinnedAt: z.number().int() })
  .strict();

/** Verified key sets remembered by `KeyDirectory` (a contact list far larger than this just verifies again). */
const VERIFIED_CACHE_MAX = 4096;

/** Events of the directory. */
export interface KeyDirectoryEvents {
  [k: string]: unknown;
  /** The server offered different keys for a pinned user: possible impersonation. The pin is kept. */
  key_changed: { userId: string; username: string };
  /** A directory entry whose sealing key is not signed by its identity key was refused. */
  invalid_keys: { userId: string };
}

/** See the module comment. */
export class KeyDirectory extends Emitter<KeyDirectoryEvents> {
  readonly #pins = new Map<string, PinnedKeys>();
  readonly #changed = new Set<string>();
  /**
   * Published key sets whose sealing-key signature already verified, by their exact published strings. A
   * conversation refresh observes every member again; each verification costs ~1 ms of noble on the main
   * thread (50 members: 50 ms per refresh), and the answer for the same bytes never changes.
   */
  readonly #verified = new Map<string, { identity: Uint8Array; sealing: Uint8Array }>();
  #loaded: Promise<void> | undefined;

  constructor(
    private readonly transport: HttpTransport,
    private readonly store: SealedStore,
    private readonly self: { userId: string; username: string; publicKeys: PublicKeys },
  ) {
    super();
    const own = verifyPublicKeys(self.publicKeys);
    this.#pins.set(self.userId, { userId: self.userId, username: self.username, ...own, pinnedAt: Date.now() });
  }

  /**
   * `verifyPublicKeys` (native Ed25519 where the platform has it: a noble verification of a key seen for the
   * first time costs milliseconds on the way to a conversation's first screen), remembered per exact published
   * key set (only successes; bounded).
   */
  async #verify(published: PublicKeys): Promise<{ identity: Uint8Array; sealing: Uint8Array }> {
    const id = [published.identity, published.sealing, published.sealingSig];
    const cacheKey = id.every((x) => typeof x === 'string') ? id.join('.') : undefined;
    const hit = cacheKey === undefined ? undefined : this.#verified.get(cacheKey);
    if (hit) return { identity: hit.identity.slice(), sealing: hit.sealing.slice() };
    const keys = await verifyPublicKeysAsync(published);
    if (cacheKey !== undefined) {
      if (this.#verified.size >= VERIFIED_CACHE_MAX) this.#verified.clear();
      this.#verified.set(cacheKey, { identity: keys.identity.slice(), sealing: keys.sealing.slice() });
    }
    return keys;
  }

  /** Loads the pins persisted on this device (idempotent). */
  load(): Promise<void> {
    this.#loaded ??= (async () => {
      for (const name of await this.store.list('pin/')) {
        const rec = await this.store.getJson(name, PinRecord);
        if (!rec || rec.userId === this.self.userId) continue;
        this.#pins.set(rec.userId, {
          userId: rec.userId,
          username: rec.username,
          identity: fromBase64Url(rec.identity),
          sealing: fromBase64Url(rec.sealing),
          pinnedAt: rec.pinnedAt,
        });
      }
    })();
    return this.#loaded;
  }

  /** The pinned keys of `userId`, if this device has seen them. Synchronous (for frame resolvers). */
  pinned(userId: string): PinnedKeys | undefined {
    return this.#pins.get(userId);
  }

  /** Users whose served keys differ from their pins (a warning the UI must show). */
  get changedKeys(): string[] {
    return [...this.#changed];
  }

  /**
   * Checks a directory entry (from /api/users or a conversation's member list) and pins it on first use.
   * Returns the keys to use: always the pinned ones. Returns undefined for keys whose sealing-key signature
   * does not verify (never pinned).
   */
  async observe(entry: { userId: string; username: string; publicKeys: PublicKeys }): Promise<PinnedKeys | undefined> {
    await this.load();
    let keys;
    try {
      keys = await this.#verify(entry.publicKeys);
    } catch {
      this.emit('invalid_keys', { userId: entry.userId });
      return this.#pins.get(entry.userId);
    }
    const pinned = this.#pins.get(entry.userId);
    if (pinned) {
      if (!equalBytes(pinned.identity, keys.identity) || !equalBytes(pinned.sealing, keys.sealing)) {
        if (!this.#changed.has(entry.userId)) {
          this.#changed.add(entry.userId);
          this.emit('key_changed', { userId: entry.userId, username: pinned.username });
        }
      }
      return pinned;
    }
    const pin: PinnedKeys = { userId: entry.userId, username: entry.username, ...keys, pinnedAt: Date.now() };
    this.#pins.set(entry.userId, pin);
    await this.store.setJson(`pin/${entry.userId}`, {
      userId: pin.userId,
      username: pin.username,
      identity: toBase64Url(pin.identity),
      sealing: toBase64Url(pin.sealing),
      pinnedAt: pin.pinnedAt,
    });
    return pin;
  }

  /** Fetches (or returns the pin of) a user by id. Throws `ClientError('not_found'|'key_mismatch')`. */
  async get(userId: string): Promise<PinnedKeys> {
    await this.load();
    const known = this.#pins.get(userId);
    if (known) return known;
    const e = await this.transport.request(UserDirectoryEntry, 'GET', `/api/users/${encodeURIComponent(userId)}`, { auth: true });
    return this.#require(await this.observe({ userId: e.id, username: e.username, publicKeys: e.publicKeys }));
  }

  /** Looks a user up by username (always asks the server, then applies the pin rules). */
  async lookup(username: string): Promise<PinnedKeys> {
    const e = await this.transport.request(UserDirectoryEntry, 'POST', '/api/users/lookup', { auth: true, body: { username } });
    return this.#require(await this.observe({ userId: e.id, username: e.username, publicKeys: e.publicKeys }));
  }

  #require(p: PinnedKeys | undefined): PinnedKeys {
    if (!p) throw new ClientError('key_mismatch', 'the directory served keys that do not verify');
    return p;
  }

  /** The 60-digit safety number between this account and `userId` (pinned keys). */
  safetyNumber(userId: string): string {
    const other = this.#pins.get(userId);
    const me = this.#pins.get(this.self.userId);
    if (!other || !me) throw new ClientError('invalid_input', 'unknown user: fetch their keys first');
    return safetyNumber({ userId: me.userId, identityPublic: me.identity }, { userId: other.userId, identityPublic: other.identity });
  }
}
