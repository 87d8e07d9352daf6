/**
 * Encrypted profiles ([PROFILE-1..8] in docs/protocol.md).
 *
 * A user's profile (display name, status, avatar, updatedAt) is the inner doc of the envelope document
 * `p_<user uuid hex>`: the same frames, binding and sealed local persistence as conversation segments
 * (`EncryptedDoc`), with the owner's profile key of `version` in the role of the epoch key, and the document
 * name as both `convId` and `segmentId` of the frame scope. Only frames signed by the owner count (the
 * owner is the only "member"); the server lets the owner write and the owner's contacts read.
 *
 * `ProfileManager` keeps the profile keys (own and contacts', sealed in device storage), shares the own key
 * with contacts (`syncContacts`, called on every conversation-list refresh: only recipients not yet wrapped
 * at the current version are uploaded), opens profile documents on demand and keeps them live.
 */
import * as Y from 'yjs';
import { z } from 'zod';
import { ProfileKeysResponse, docNameFor, fromBase64Url, toBase64Url, type PutProfileKeysRequest } from '../protocol/index.ts';
import type { PublicKeys } from '../protocol/index.ts';
import type { ClientContext } from './conversation.ts';
import { EncryptedDoc } from './encrypted-doc.ts';
import { ClientError, isClientError } from './errors.ts';
import { generateProfileKey, unwrapProfileKey, wrapProfileKey } from './profile-keys.ts';
import { NoContent } from './transport.ts';
import { withTimeout } from './timeout.ts';

/** Longest display name, in Unicode code points. */
export const PROFILE_DISPLAY_NAME_MAX = 64;
/** Longest status, in Unicode code points. */
export const PROFILE_STATUS_MAX = 140;
/** Largest avatar image. */
export const PROFILE_AVATAR_MAX_BYTES = 64 * 1024;
/** Avatar image types (the bytes must start with the matching signature). */
export const PROFILE_AVATAR_MIME = ['image/png', 'image/jpeg', 'image/webp'] as const;
/** One of `PROFILE_AVATAR_MIME`. */
export type ProfileAvatarMime = (typeof PROFILE_AVATAR_MIME)[number];

/** An avatar image. */
export interface ProfileAvatar {
  mime: ProfileAvatarMime;
  bytes: Uint8Array;
}

/** A verified, decrypted profile. Fields the owner never set are undefined. */
export interface Profile {
  userId: string;
  displayName: string | undefined;
  status: string | undefined;
  avatar: ProfileAvatar | undefined;
  /** When the owner last changed the profile (the owner's clock, unix ms). */
  updatedAt: number | undefined;
}

/** A change to my profile: a value sets the field, `null` clears it, a missing field stays as it is. */
export interface ProfileUpdate {
  displayName?: string | null;
  status?: string | null;
  avatar?: ProfileAvatar | null;
}

/**
 * Whether a profile can be read: `loading` (not opened yet), `ready` (opened; the profile may still be
 * empty), `no_key` (frames exist that no held key opens: the owner has not shared a key with me, yet or at
 * all), `forbidden` (the server refuses the document: not a contact), `invalid` (the content fails its
 * schema; the last valid profile is kept).
 */
export type ProfileAccess = 'loading' | 'ready' | 'no_key' | 'forbidden' | 'invalid';

/** Why a profile key wrap from the server was refused. */
export interface ProfileKeyProblem {
  ownerId: string;
  version: number;
  code: 'bad_signature' | 'decrypt_failed' | 'malformed' | 'unknown_owner';
}

/** Result of `ProfileManager.refreshKeys`. */
export interface ProfileKeyRefresh {
  /** Owners whose key of some version this device newly holds. */
  learned: Array<{ ownerId: string; version: number }>;
  problems: ProfileKeyProblem[];
}

/** A contact to share my profile key with: a directory entry (its keys are pinned on first use). */
export interface ProfileContact {
  userId: string;
  username: string;
  publicKeys: PublicKeys;
}

// Control characters and bidirectional overrides/isolates make names that render as someone else's.
const UNSAFE_TEXT = /[\p{Cc}\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/u;

function profileText(max: number) {
  const tooLong = `at most ${max} characters`;
  // The cheap UTF-16 bound (a code point is at most 2 units) rejects huge input before it is split into code
  // points; with the same message, and aborting, so an over-long text reports one issue, not two.
  return z
    .string()
    .max(max * 2, { message: tooLong, abort: true })
    .refine((s) => [...s].length <= max, { message: tooLong, abort: true })
    .refine((s) => !UNSAFE_TEXT.test(s), { message: 'control or bidirectional-override characters' });
}

/** Which image type `bytes` is by its leading signature, or undefined. */
export function sniffImageMime(bytes: Uint8Array): ProfileAvatarMime | undefined {
  const at = (i: number, ...v: number[]) => v.every((b, k) => bytes[i + k] === b);
  if (at(0, 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return 'image/png';
  if (at(0, 0xff, 0xd8, 0xff)) return 'image/jpeg';
  if (bytes.length >= 12 && at(0, 0x52, 0x49, 0x46, 0x46) && at(8, 0x57, 0x45, 0x42, 0x50)) return 'image/webp';
  return undefined;
}

/** A display name ([PROFILE-4]). */
export const ProfileDisplayName = profileText(PROFILE_DISPLAY_NAME_MAX);
/** A status line ([PROFILE-4]). */
export const ProfileStatus = profileText(PROFILE_STATUS_MAX);
/** An avatar as stored in the inner doc ([PROFILE-4]): the bytes must match the declared type. */
export const StoredAvatar = z
  .object({ mime: z.enum(PROFILE_AVATAR_MIME), data: z.instanceof(Uint8Array) })
  .strict()
  .refine((a) => a.data.length >= 1 && a.data.length <= PROFILE_AVATAR_MAX_BYTES, { message: `avatar must be 1..${PROFILE_AVATAR_MAX_BYTES} bytes` })
  .refine((a) => sniffImageMime(a.data) === a.mime, { message: 'avatar bytes do not match the declared image type' });

/** The inner profile record ([PROFILE-4]): every key of the `profile` map, parsed strictly. */
export const ProfileRecord = z
  .object({
    displayName: ProfileDisplayName.optional(),
    status: ProfileStatus.optional(),
    avatar: StoredAvatar.optional(),
    updatedAt: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  })
  .strict();
/** See the schema. */
export type ProfileRecord = z.infer<typeof ProfileRecord>;

/** The root map of a profile inner doc. */
export function profileRoot(doc: Y.Doc): Y.Map<unknown> {
  return doc.getMap<unknown>('profile');
}

/** Result of reading a profile inner doc; never throws. `profile` is undefined for an empty doc. */
export type ReadProfileResult = { ok: true; profile: Profile | undefined } | { ok: false; issues: string[] };

/** Parses the profile map of an inner doc with `ProfileRecord` (strict: unknown keys reject the record). */
export function readProfile(doc: Y.Doc, userId: string): ReadProfileResult {
  const map = profileRoot(doc);
  if (map.size === 0) return { ok: true, profile: undefined };
  const r = ProfileRecord.safeParse(Object.fromEntries(map.entries()));
  if (!r.success) return { ok: false, issues: r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) };
  const v = r.data;
  return {
    ok: true,
    profile: {
      userId,
      displayName: v.displayName,
      status: v.status,
      avatar: v.avatar ? { mime: v.avatar.mime, bytes: v.avatar.data.slice() } : undefined,
      updatedAt: v.updatedAt,
    },
  };
}

const ProfileUpdateSchema = z
  .object({
    displayName: ProfileDisplayName.nullable().optional(),
    status: ProfileStatus.nullable().optional(),
    avatar: z
      .object({ mime: z.enum(PROFILE_AVATAR_MIME), bytes: z.instanceof(Uint8Array) })
      .strict()
      .nullable()
      .optional(),
  })
  .strict();

/**
 * Checks a profile update before anything is written. Throws `ClientError('invalid_input')` with the
 * problems in `details`.
 */
export function validateProfileUpdate(update: ProfileUpdate): ProfileUpdate {
  const r = ProfileUpdateSchema.safeParse(update);
  const issues = r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  if (r.success && r.data.avatar) {
    const a = StoredAvatar.safeParse({ mime: r.data.avatar.mime, data: r.data.avatar.bytes });
    if (!a.success) issues.push(...a.error.issues.map((i) => `avatar: ${i.message}`));
  }
  if (!r.success || issues.length > 0) throw new ClientError('invalid_input', 'invalid profile', { details: issues });
  return r.data;
}

const WrappedRecord = z.array(z.uuid()).max(100_000);
const MAX_WRAPS_PER_REQUEST = 1000;
const SYNC_WAIT_MS = 5000;

interface Entry {
  ownerId: string;
  doc: EncryptedDoc;
  profile: Profile | undefined;
  access: ProfileAccess;
  final: boolean;
  /** Resolves when the first handshake completes or the server refuses the document. */
  settled: Promise<void>;
}

/** See the module comment. Construct after the client context exists, then `load()`. */
export class ProfileManager {
  readonly #keys = new Map<string, Map<number, Uint8Array>>();
  readonly #docs = new Map<string, Promise<Entry>>();
  readonly #entries = new Map<string, Entry>();
  readonly #wrapped = new Map<number, Set<string>>();
  #fetching: Promise<ProfileKeyRefresh> | undefined;
  #fetchedOnce = false;
  #ownKeyPromise: Promise<{ version: number; key: Uint8Array }> | undefined;
  #shareChain: Promise<unknown> = Promise.resolve();
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #retryDelay = 250;
  #retryAttempts = 0;
  #closed = false;
  /** Problems seen while opening key wraps (most recent last, bounded). */
  readonly problems: ProfileKeyProblem[] = [];

  constructor(
    private readonly ctx: ClientContext,
    private readonly onChange: (e: { userId: string; profile: Profile }) => void,
  ) {}

  /** Loads the profile keys persisted on this device. */
  async load(): Promise<void> {
    for (const name of await this.ctx.store.list('pk/')) {
      const m = /^pk\/([0-9a-f-]{36})\/(\d{1,10})$/.exec(name);
      if (!m) continue;
      const key = await this.ctx.store.get(name);
      if (key && key.length === 32) this.#keyMap(m[1]!).set(Number(m[2]), key);
    }
  }

  #keyMap(ownerId: string): Map<number, Uint8Array> {
    let m = this.#keys.get(ownerId);
    if (!m) this.#keys.set(ownerId, (m = new Map()));
    return m;
  }

  async #remember(ownerId: string, version: number, key: Uint8Array): Promise<boolean> {
    const m = this.#keyMap(ownerId);
    if (m.has(version)) return false;
    m.set(version, key);
    await this.ctx.store.set(`pk/${ownerId}/${version}`, key);
    return true;
  }

  /** The newest held key of `ownerId`. */
  #newest(ownerId: string): { version: number; key: Uint8Array } | undefined {
    let best: { version: number; key: Uint8Array } | undefined;
    for (const [version, key] of this.#keys.get(ownerId) ?? []) if (!best || version > best.version) best = { version, key };
    return best;
  }

  /** Whether this device holds any profile key of `ownerId`. */
  hasKey(ownerId: string): boolean {
    return (this.#keys.get(ownerId)?.size ?? 0) > 0;
  }

  /**
   * Fetches the profile keys shared with me (GET /api/profile-keys), verifies each wrap against the owner's
   * PINNED identity key, opens and stores the new ones, and retries frames that were waiting for them.
   * Single-flight. Throws `ClientError` only for transport failures.
   */
  refreshKeys(): Promise<ProfileKeyRefresh> {
    this.#fetching ??= this.#fetchKeys().finally(() => {
      this.#fetching = undefined;
    });
    return this.#fetching;
  }

  async #fetchKeys(): Promise<ProfileKeyRefresh> {
    const ctx = this.ctx;
    const res = await ctx.transport.request(ProfileKeysResponse, 'GET', '/api/profile-keys', { auth: true });
    this.#fetchedOnce = true;
    const out: ProfileKeyRefresh = { learned: [], problems: [] };
    for (const w of res.wraps) {
      if (this.#keys.get(w.ownerId)?.has(w.version)) continue;
      const owner = ctx.directory.pinned(w.ownerId) ?? (await ctx.directory.get(w.ownerId).catch(() => undefined));
      if (!owner) {
        out.problems.push({ ownerId: w.ownerId, version: w.version, code: 'unknown_owner' });
        continue;
      }
      const r = unwrapProfileKey({
        ownerId: w.ownerId,
        recipientId: ctx.userId,
        version: w.version,
        wrap: fromBase64Url(w.wrap),
        sig: fromBase64Url(w.sig),
        ownerIdentityPublic: owner.identity,
        recipient: ctx.keys.sealing,
      });
      if (!r.ok) {
        out.problems.push({ ownerId: w.ownerId, version: w.version, code: r.code });
        continue;
      }
      if (await this.#remember(w.ownerId, w.version, r.key)) out.learned.push({ ownerId: w.ownerId, version: w.version });
    }
    this.problems.push(...out.problems);
    this.problems.splice(0, Math.max(0, this.problems.length - 100));
    for (const { ownerId } of out.learned) {
      const e = this.#entries.get(ownerId);
      if (e) await e.doc.binding.retryPending();
    }
    return out;
  }

  /**
   * My current profile key. Creating the first one is a compare-and-set on the server ([PROFILE-3]): the
   * device proposes version 0 sealed to myself only, then adopts whatever the server kept (first wins), so
   * two devices racing end up with one key. Throws `ClientError` (e.g. `network`) when no key is held and
   * the server cannot be asked.
   */
  #ownKey(): Promise<{ version: number; key: Uint8Array }> {
    const held = this.#newest(this.ctx.userId);
    if (held) return Promise.resolve(held);
    this.#ownKeyPromise ??= (async () => {
      await this.refreshKeys();
      const fetched = this.#newest(this.ctx.userId);
      if (fetched) return fetched;
      await this.#upload(0, generateProfileKey(), [this.ctx.userId]);
      await this.refreshKeys();
      const adopted = this.#newest(this.ctx.userId);
      if (!adopted) throw new ClientError('bad_response', 'the server did not keep my profile key');
      return adopted;
    })().finally(() => {
      this.#ownKeyPromise = undefined;
    });
    return this.#ownKeyPromise;
  }

  async #upload(version: number, key: Uint8Array, recipientIds: readonly string[]): Promise<void> {
    const ctx = this.ctx;
    const wraps: PutProfileKeysRequest['wraps'] = [];
    for (const id of recipientIds) {
      const pin = ctx.directory.pinned(id) ?? (await ctx.directory.get(id));
      const w = wrapProfileKey({
        ownerId: ctx.userId,
        recipientId: id,
        version,
        key,
        recipientSealingPublic: pin.sealing,
        ownerIdentitySecret: ctx.keys.identity.secretKey,
      });
      wraps.push({ recipientId: id, wrap: toBase64Url(w.wrap), sig: toBase64Url(w.sig) });
    }
    for (let i = 0; i < wraps.length; i += MAX_WRAPS_PER_REQUEST) {
      const body: PutProfileKeysRequest = { version, wraps: wraps.slice(i, i + MAX_WRAPS_PER_REQUEST) };
      await ctx.transport.request(NoContent, 'POST', '/api/profile-keys', { auth: true, body });
    }
  }

  async #wrappedSet(version: number): Promise<Set<string>> {
    let s = this.#wrapped.get(version);
    if (!s) {
      s = new Set((await this.ctx.store.getJson(`pkw/${version}`, WrappedRecord)) ?? []);
      this.#wrapped.set(version, s);
    }
    return s;
  }

  /**
   * Shares my current profile key with every contact (and myself) this device has not shared it with yet
   * ([PROFILE-3]). Contacts' keys are pinned on first use through the key directory; entries whose keys do
   * not verify are skipped. No-op while I have no profile key (nothing to read yet). Serialized; throws
   * `ClientError` for transport failures (the next refresh retries).
   */
  syncContacts(contacts: readonly ProfileContact[]): Promise<void> {
    const run = this.#shareChain.then(() => this.#syncContacts(contacts));
    this.#shareChain = run.catch(() => undefined);
    return run;
  }

  async #syncContacts(contacts: readonly ProfileContact[]): Promise<void> {
    const ctx = this.ctx;
    if (!this.hasKey(ctx.userId) && !this.#fetchedOnce && ctx.sync.online) await this.refreshKeys();
    const own = this.#newest(ctx.userId);
    if (!own) return;
    const done = await this.#wrappedSet(own.version);
    const todo = new Set<string>();
    if (!done.has(ctx.userId)) todo.add(ctx.userId);
    for (const c of contacts) {
      if (c.userId === ctx.userId || done.has(c.userId) || todo.has(c.userId)) continue;
      if (await ctx.directory.observe(c)) todo.add(c.userId);
    }
    if (todo.size === 0) return;
    const ids = [...todo];
    try {
      await this.#upload(own.version, own.key, ids);
      for (const id of ids) done.add(id);
    } catch (e) {
      // One stale recipient (no longer a contact) refuses the whole batch: retry one by one.
      if (!isClientError(e, 'invalid_request')) throw e;
      for (const id of ids) {
        try {
          await this.#upload(own.version, own.key, [id]);
          done.add(id);
        } catch (inner) {
          if (!isClientError(inner, 'invalid_request')) throw inner;
        }
      }
    }
    await ctx.store.setJson(`pkw/${own.version}`, [...done]);
  }

  /** Whether an open profile document holds frames no held key opens. */
  #anyPending(): boolean {
    for (const e of this.#entries.values()) if (!e.final && e.doc.binding.pendingCount > 0) return true;
    return false;
  }

  /** Asks for keys again soon when profile frames are waiting for one (called on conversation refreshes). */
  retryPendingSoon(): void {
    if (!this.#anyPending()) return;
    this.#retryAttempts = 0;
    this.#scheduleKeyRetry();
  }

  /** Opens (once) the profile document of `ownerId` and keeps it live. */
  #open(ownerId: string): Promise<Entry> {
    let p = this.#docs.get(ownerId);
    if (!p) {
      p = this.#load(ownerId);
      this.#docs.set(ownerId, p);
      p.catch(() => this.#docs.delete(ownerId));
    }
    return p;
  }

  async #load(ownerId: string): Promise<Entry> {
    const ctx = this.ctx;
    const mine = ownerId === ctx.userId;
    if (ctx.sync.online && !this.hasKey(ownerId)) await this.refreshKeys().catch(() => undefined);
    const name = docNameFor('p', ownerId);
    const doc = await EncryptedDoc.load({
      name,
      convId: name,
      self: { userId: ctx.userId, deviceId: ctx.deviceId, signingKey: ctx.keys.identity.secretKey },
      epoch: () => (mine ? (this.#newest(ownerId)?.version ?? 0) : 0),
      resolvers: {
        signerKey: async (u) => (u === ownerId ? (ctx.directory.pinned(u)?.identity ?? (await ctx.directory.get(u)).identity) : undefined),
        isMember: (u) => u === ownerId,
        epochKey: (v) => this.#keys.get(ownerId)?.get(v),
      },
      counters: ctx.counters,
      store: ctx.store,
      closed: !mine,
    });
    let settle!: () => void;
    const entry: Entry = { ownerId, doc, profile: undefined, access: 'loading', final: false, settled: new Promise<void>((r) => (settle = r)) };
    this.#entries.set(ownerId, entry);
    doc.inner.on('update', () => this.#recompute(entry, true));
    doc.onBinding((e) => {
      if (e.type !== 'pending') return;
      this.#retryAttempts = 0;
      this.#scheduleKeyRetry();
    });
    this.#recompute(entry, false);
    const link = doc.attach(ctx.sync, {
      onFinalClose: () => {
        entry.final = true;
        entry.access = 'forbidden';
        doc.detach();
        settle();
      },
    });
    void link.whenSynced().then(settle);
    if (this.#closed) await doc.destroy();
    return entry;
  }

  #recompute(entry: Entry, emit: boolean): void {
    const r = readProfile(entry.doc.inner, entry.ownerId);
    if (!r.ok) {
      if (!entry.final) entry.access = 'invalid';
      return;
    }
    if (!entry.final) entry.access = r.profile === undefined && entry.doc.binding.pendingCount > 0 ? 'no_key' : 'ready';
    entry.profile = r.profile;
    if (emit && r.profile) this.onChange({ userId: entry.ownerId, profile: r.profile });
  }

  #scheduleKeyRetry(): void {
    if (this.#closed || this.#retryTimer !== undefined) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      void (async () => {
        if (this.ctx.sync.online) await this.refreshKeys().catch(() => undefined);
        for (const e of this.#entries.values()) {
          await e.doc.binding.whenIdle();
          this.#recompute(e, false);
        }
        // Bounded: a key that never comes (the owner shared none with me) stops the polling after ~5 min;
        // a new pending frame or a conversation refresh starts it again.
        if (this.#anyPending() && ++this.#retryAttempts < 15) {
          this.#retryDelay = Math.min(this.#retryDelay * 2, 30_000);
          this.#scheduleKeyRetry();
        } else this.#retryDelay = 250;
      })();
    }, this.#retryDelay);
  }

  /**
   * The profile of `userId`: opens its document on first use (then keeps it live; changes arrive as
   * `onChange` calls), waits up to 5 s for the first sync when online, and resolves with the verified
   * profile, or undefined when there is none I can read (see `access`).
   */
  async profile(userId: string): Promise<Profile | undefined> {
    if (!z.uuid().safeParse(userId).success) throw new ClientError('invalid_input', 'userId must be a uuid');
    const entry = await this.#open(userId);
    if (this.ctx.sync.online && !entry.final) {
      await withTimeout(entry.settled, SYNC_WAIT_MS);
      await entry.doc.binding.whenIdle();
      if (entry.doc.binding.pendingCount > 0) {
        await this.refreshKeys().catch(() => undefined);
        await entry.doc.binding.whenIdle();
      }
      this.#recompute(entry, false);
    }
    return entry.profile;
  }

  /** The profile of `userId` if its document is open (synchronous; no network). */
  cached(userId: string): Profile | undefined {
    return this.#entries.get(userId)?.profile;
  }

  /** Whether the profile of `userId` is readable (see `ProfileAccess`). */
  access(userId: string): ProfileAccess {
    return this.#entries.get(userId)?.access ?? 'loading';
  }

  /**
   * Changes my profile ([PROFILE-5]): makes sure a profile key exists and is shared with `contacts`, then
   * writes the changed fields (and `updatedAt`) in one inner transaction, seals it and waits (up to 10 s,
   * online) for the server's acknowledgement. Resolves with the new profile. Throws
   * `ClientError('invalid_input')` for an invalid update, transport errors when the first key cannot be
   * created.
   */
  async setProfile(update: ProfileUpdate, contacts: readonly ProfileContact[]): Promise<Profile> {
    const u = validateProfileUpdate(update);
    await this.#ownKey();
    await this.syncContacts(contacts).catch(() => undefined);
    const entry = await this.#open(this.ctx.userId);
    const map = profileRoot(entry.doc.inner);
    entry.doc.inner.transact(() => {
      if (u.displayName === null) map.delete('displayName');
      else if (u.displayName !== undefined) map.set('displayName', u.displayName);
      if (u.status === null) map.delete('status');
      else if (u.status !== undefined) map.set('status', u.status);
      if (u.avatar === null) map.delete('avatar');
      else if (u.avatar !== undefined) map.set('avatar', { mime: u.avatar.mime, data: u.avatar.bytes.slice() });
      const prev = map.get('updatedAt');
      map.set('updatedAt', Math.max(Date.now(), typeof prev === 'number' ? prev + 1 : 0));
    });
    const r = await entry.doc.flush();
    if (!r.ok) throw new ClientError('invalid_input', `cannot write the profile (${r.code})`);
    if (entry.doc.binding.needsCompaction()) {
      await entry.doc.binding.compact();
      await entry.doc.save();
    }
    const link = entry.doc.link;
    if (link && this.ctx.sync.online) await withTimeout(link.whenAcked(), 10_000);
    const read = readProfile(entry.doc.inner, this.ctx.userId);
    if (!read.ok || !read.profile) throw new ClientError('invalid_input', 'the written profile does not read back', { details: read.ok ? [] : read.issues });
    return read.profile;
  }

  /** Closes every profile document (persisting them) and stops retries. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    for (const p of this.#docs.values()) await (await p.catch(() => undefined))?.doc.destroy();
    this.#docs.clear();
    this.#entries.clear();
  }
}
