/**
 * `ParleyClient`: the facade the app, tests, bots and benchmarks use. After `account.register()` or
 * `account.login()`, `start()` opens the sealed device store, the key directory, the socket and the user's
 * inbox channel (server notices: presence, membership and epoch changes), and lists conversations.
 *
 * Offline first: conversations open from storage when the server is unreachable, writes land in the local
 * envelope and outbox, and everything syncs when the socket comes back (`goOffline()` / `goOnline()`).
 */
import { z } from 'zod';
import { CreateConversationRequest, InboxNotice, PresenceResponse, docNameFor, fromHex, toHex, Conversation as ConversationSchema, ConversationListResponse, type Conversation as ConversationInfo } from '../protocol/index.ts';
import * as Y from 'yjs';
import { isDeviceIdOf, newDeviceIdFor } from '../envelope/device-id.ts';
import { AccountClient, type AccountClientOptions } from './account-client.ts';
import { Conversation, type ClientContext, type ConversationMessage } from './conversation.ts';
import { ClientError, isClientError } from './errors.ts';
import { Emitter } from './events.ts';
import { KeyDirectory } from './key-directory.ts';
import { Keyring, creatorsName } from './keyring.ts';
import { ProfileManager, type Profile, type ProfileAccess, type ProfileContact, type ProfileKeyRefresh, type ProfileUpdate } from './profile.ts';
import { SealedStore, StoredCounters, deriveLocalKey, type ClientStorage } from './storage.ts';
import { SyncConnection } from './sync-connection.ts';

/** Options of `ParleyClient`. */
export interface ParleyClientOptions extends AccountClientOptions {
  /** Device storage (IndexedDB adapter in the browser, `MemoryStorage`/`FileStorage` in Node). */
  storage: ClientStorage;
  /** WebSocket constructor (defaults to the global one). */
  WebSocket?: unknown;
  /** An existing AccountClient (already signed in) instead of a new one. */
  account?: AccountClient;
}

/** One row of the conversation list. */
export interface ConversationSummary {
  id: string;
  kind: 'direct' | 'group';
  name: string | undefined;
  members: string[];
  updatedAt: string;
  /** Unread messages (known for conversations opened on this device). */
  unread: number;
  lastMessage: Pick<ConversationMessage, 'id' | 'author' | 'text' | 'ts'> | undefined;
  /** [ARCHIVE-1] This user is no longer a member: kept on this device, read-only, until `forget`. */
  archived?: true;
}

/** Client-level events. */
export interface ParleyClientEvents {
  [k: string]: unknown;
  /** A contact came online or went offline. */
  presence: { userId: string; online: boolean };
  /** The conversation list changed. */
  conversations: { conversations: ConversationSummary[] };
  /** A pinned contact's key changed (possible impersonation). */
  key_changed: { userId: string; username: string };
  /** A server notice arrived (after it was handled). */
  notice: InboxNotice;
  /** A contact's (or my own) profile changed: verified and decrypted ([PROFILE-6]). */
  profile: { userId: string; profile: Profile };
}

const ListRecord = z.array(ConversationSchema).max(10_000);
const ConversationResponse = z.object({ conversation: ConversationSchema }).strict();

/** See the module comment. */
export class ParleyClient extends Emitter<ParleyClientEvents> {
  readonly account: AccountClient;
  #ctx: ClientContext | undefined;
  #list: ConversationInfo[] = [];
  /** [ARCHIVE-1] Conversations the server stopped listing (removed or left), as last known; newest first. */
  #archived: ConversationInfo[] = [];
  readonly #open = new Map<string, Promise<Conversation>>();
  readonly #online = new Map<string, boolean>();
  #inbox: { doc: Y.Doc; close: () => void } | undefined;
  #profiles: ProfileManager | undefined;
  /** Sequence of presence notices; `#presenceSeen` holds the sequence of the last notice per user. */
  #presenceSeq = 0;
  readonly #presenceSeen = new Map<string, number>();
  #presenceFetch: Promise<string[]> | undefined;
  #contacts = new Set<string>();

  constructor(private readonly options: ParleyClientOptions) {
    super();
    this.account = options.account ?? new AccountClient(options);
  }

  /** Client context (after `start()`). Throws `ClientError('not_signed_in')` before. */
  get context(): ClientContext {
    if (!this.#ctx) throw new ClientError('not_signed_in', 'call start() after signing in');
    return this.#ctx;
  }

  /** This device's id (random, persisted in storage). */
  get deviceId(): string {
    return this.context.deviceId;
  }

  /** The key directory (pins, safety numbers, key-change warnings). */
  get directory(): KeyDirectory {
    return this.context.directory;
  }

  /** The socket. */
  get sync(): SyncConnection {
    return this.context.sync;
  }

  #sessionCheckedAt = 0;

  /** A forced token refresh, at most every 5 s (every document of a revoked session reports `unauthorized`). */
  #checkSession(): void {
    const now = Date.now();
    if (now - this.#sessionCheckedAt < 5000) return;
    this.#sessionCheckedAt = now;
    void this.account.transport.refresh().catch(() => undefined);
  }

  /** Starts the client for the signed-in account. `offline` starts without connecting. */
  async start(options: { offline?: boolean } = {}): Promise<void> {
    const session = this.account.session;
    const keys = this.account.keys;
    if (!session || !keys) throw new ClientError('not_signed_in', 'sign in first');
    const store = new SealedStore(this.options.storage, deriveLocalKey(keys.identity.secretKey, session.userId), session.userId);
    // [INNER-11] A device id names its user; an older random one (or one of another account) is replaced.
    const stored = await store.get('device');
    let deviceId = stored?.length === 16 ? toHex(stored) : '';
    if (!isDeviceIdOf(deviceId, session.userId)) {
      deviceId = newDeviceIdFor(session.userId);
      await store.set('device', fromHex(deviceId)!);
    }
    const directory = new KeyDirectory(this.account.transport, store, session);
    await directory.load();
    directory.on('key_changed', (e) => this.emit('key_changed', e));
    const sync = new SyncConnection(this.options.baseUrl, () => this.account.accessToken(), {
      connect: !options.offline,
      // A revoked session shows as `unauthorized` on the socket long before the cached access token expires:
      // a forced refresh tells (`onSessionEnded` on the transport) whether the session is over.
      onUnauthorized: () => this.#checkSession(),
      ...(this.options.WebSocket ? { WebSocket: this.options.WebSocket } : {}),
    });
    if (options.offline) sync.disconnect();
    // Presence comes from the server: with the socket down nobody is known to be online (the next handshake
    // re-seeds it), rather than showing whoever was online when the connection went.
    sync.socket.on('disconnect', () => this.#forgetPresence());
    this.#ctx = {
      transport: this.account.transport,
      sync,
      directory,
      store,
      keys,
      userId: session.userId,
      deviceId,
      counters: new StoredCounters(store, 'ctr/'),
      messageCounters: new StoredCounters(store, 'mctr/', 64),
    };
    this.#profiles = new ProfileManager(this.#ctx, (e) => this.emit('profile', e));
    await this.#profiles.load();
    const inboxDoc = new Y.Doc();
    // Every completed inbox handshake (start and each reconnect) re-seeds presence from GET /api/presence.
    const link = sync.open(docNameFor('i', session.userId), inboxDoc, {
      onStateless: (p) => void this.#onNotice(p),
      onSynced: () => void this.refreshPresence().catch(() => undefined),
    });
    this.#inbox = { doc: inboxDoc, close: () => link.close() };
    this.#list = (await store.getJson('conversations', ListRecord)) ?? [];
    this.#archived = (await store.getJson('conversations-archived', ListRecord)) ?? [];
    if (!options.offline) {
      await this.refreshConversations().catch(() => undefined);
      await this.refreshPresence().catch(() => undefined);
    }
  }

  /**
   * Asks the server which contacts are online now (GET /api/presence) and emits `presence` for every
   * contact whose state changed. Runs on start and after every reconnect (inbox handshake); later changes
   * arrive as inbox notices. A notice that arrives while the request is in flight is newer than the answer
   * and wins. Single-flight; resolves with the online contacts; throws `ClientError` for transport failures.
   */
  refreshPresence(): Promise<string[]> {
    this.#presenceFetch ??= (async () => {
      const since = this.#presenceSeq;
      const r = await this.context.transport.request(PresenceResponse, 'GET', '/api/presence', { auth: true });
      const now = new Set(r.online);
      for (const userId of new Set([...this.#online.keys(), ...now])) {
        if ((this.#presenceSeen.get(userId) ?? -1) > since) continue;
        this.#setOnline(userId, now.has(userId));
      }
      return r.online;
    })().finally(() => {
      this.#presenceFetch = undefined;
    });
    return this.#presenceFetch;
  }

  #setOnline(userId: string, online: boolean): void {
    if ((this.#online.get(userId) ?? false) === online) return;
    this.#online.set(userId, online);
    this.emit('presence', { userId, online });
  }

  /** Whether a contact is online (from inbox presence notices since start). */
  isOnline(userId: string): boolean {
    return this.#online.get(userId) ?? false;
  }

  /** Every contact known online turns offline (the connection that told us is gone). */
  #forgetPresence(): void {
    for (const [userId, online] of this.#online) if (online) this.#setOnline(userId, false);
  }

  /** Drops the connection (writes continue locally); contacts' presence is unknown, so nobody shows online. */
  goOffline(): void {
    this.context.sync.disconnect();
    this.#forgetPresence();
  }

  /** Reconnects and refreshes every open conversation. */
  async goOnline(): Promise<void> {
    this.context.sync.connect();
    await this.refreshConversations().catch(() => undefined);
    await this.refreshPresence().catch(() => undefined);
    for (const c of this.#open.values()) await (await c).refresh().catch(() => undefined);
  }

  async #onNotice(payload: string): Promise<void> {
    let notice: InboxNotice;
    try {
      const r = InboxNotice.safeParse(JSON.parse(payload));
      if (!r.success) return;
      notice = r.data;
    } catch {
      return;
    }
    switch (notice.type) {
      case 'presence':
        // A notice is an explicit statement: it is recorded and emitted even when it repeats the known state.
        this.#presenceSeen.set(notice.userId, ++this.#presenceSeq);
        this.#online.set(notice.userId, notice.online);
        this.emit('presence', { userId: notice.userId, online: notice.online });
        break;
      case 'member_added':
      case 'member_removed':
      case 'epoch_changed':
      case 'keys_needed': {
        const open = this.#open.get(notice.convId);
        if (open) await (await open).refresh().catch(() => undefined);
        await this.refreshConversations().catch(() => undefined);
        break;
      }
      case 'conversation_changed': {
        // A conversation open here that syncs the changed document live already has the change: no REST
        // round trips (they share the conversation's queue with send()); only the list's activity time moves.
        const open = this.#open.get(notice.convId);
        const conv = open ? await open.catch(() => undefined) : undefined;
        if (conv && !conv.isLiveDoc(notice.docName)) await conv.refresh().catch(() => undefined);
        const row = this.#list.findIndex((c) => c.id === notice.convId);
        if (row >= 0 && (conv === undefined || conv.isLiveDoc(notice.docName))) {
          const info = this.#list[row]!;
          const now = new Date().toISOString();
          if (now > info.updatedAt) this.#list = this.#list.map((c, i) => (i === row ? { ...info, updatedAt: now } : c));
          this.emit('conversations', { conversations: await this.conversations() });
        } else await this.refreshConversations().catch(() => undefined);
        break;
      }
      default: {
        const never: never = notice;
        throw new TypeError(`unknown notice ${String(never)}`);
      }
    }
    this.emit('notice', notice);
  }

  /** Fetches the conversation list from the server (and caches it sealed for offline starts). */
  async refreshConversations(): Promise<ConversationSummary[]> {
    const ctx = this.context;
    const r = await ctx.transport.request(ConversationListResponse, 'GET', '/api/conversations', { auth: true });
    await this.#archiveGone(this.#list, r.conversations);
    this.#list = r.conversations;
    await ctx.store.setJson('conversations', this.#list);
    // My contact set may have grown: share my profile key with the new contacts ([PROFILE-3]).
    await this.#profiles?.syncContacts(await this.#profileContacts()).catch(() => undefined);
    this.#profiles?.retryPendingSoon();
    // New contacts: the server sent no notice for those already online, so ask.
    const contacts = new Set(this.#list.flatMap((c) => c.members.map((m) => m.userId)).filter((u) => u !== ctx.userId));
    const grew = [...contacts].some((u) => !this.#contacts.has(u));
    this.#contacts = contacts;
    if (grew) await this.refreshPresence().catch(() => undefined);
    const out = await this.conversations();
    this.emit('conversations', { conversations: out });
    return out;
  }

  /**
   * [ARCHIVE-1] Keeps the conversations that left the server's list (this user was removed, or left) on this
   * device, read-only, and takes back those listed again (re-added: a handle still open from before the
   * removal is closed, so the next `open` syncs live again).
   */
  async #archiveGone(before: readonly ConversationInfo[], now: readonly ConversationInfo[]): Promise<void> {
    const listed = new Set(now.map((c) => c.id));
    const gone = before.filter((c) => !listed.has(c.id));
    const back = this.#archived.filter((c) => listed.has(c.id));
    for (const c of back) {
      const open = this.#open.get(c.id);
      const conv = open ? await open.catch(() => undefined) : undefined;
      if (conv?.removed) {
        this.#open.delete(c.id);
        await conv.close();
      }
    }
    if (gone.length === 0 && back.length === 0) return;
    const goneIds = new Set(gone.map((c) => c.id));
    this.#archived = [...gone, ...this.#archived.filter((c) => !listed.has(c.id) && !goneIds.has(c.id))].slice(0, 10_000);
    await this.context.store.setJson('conversations-archived', this.#archived);
  }

  /**
   * [ARCHIVE-1] Deletes an archived conversation from this device: its stored documents, keys, outbox and
   * pending file references (message counters stay: they only ever grow). Throws `ClientError('invalid_input')`
   * for a conversation this user is still a member of.
   */
  async forget(convId: string): Promise<void> {
    const info = this.#archived.find((c) => c.id === convId);
    if (!info || this.#list.some((c) => c.id === convId)) throw new ClientError('invalid_input', 'only a conversation you are no longer a member of can be deleted from this device');
    const open = this.#open.get(convId);
    this.#open.delete(convId);
    await (open ? await open.catch(() => undefined) : undefined)?.close();
    this.#archived = this.#archived.filter((c) => c.id !== convId);
    const store = this.context.store;
    await store.setJson('conversations-archived', this.#archived);
    const prefixes = [`ek/${convId}/`, `outbox/${convId}/`];
    const names = [`blobrefs/${convId}`, creatorsName(convId)];
    for (const doc of [docNameFor('m', convId), ...info.segments.map((s) => s.id)]) {
      names.push(`env/${doc}`, `segdone/${doc}`);
      prefixes.push(`envlog/${doc}/`);
    }
    for (const prefix of prefixes) names.push(...(await store.list(prefix)));
    for (const name of names) await store.delete(name);
    this.emit('conversations', { conversations: await this.conversations() });
  }

  /** The conversation list, most recently active first, with unread counts and last message (opened ones). */
  async conversations(): Promise<ConversationSummary[]> {
    const rows: ConversationSummary[] = [];
    const listed = new Set(this.#list.map((c) => c.id));
    const archived = new Set(this.#archived.filter((c) => !listed.has(c.id)).map((c) => c.id));
    for (const info of [...this.#list, ...this.#archived.filter((c) => archived.has(c.id))]) {
      const open = this.#open.get(info.id);
      const c = open ? await open.catch(() => undefined) : undefined;
      const last = c?.messages.at(-1);
      rows.push({
        id: info.id,
        kind: info.kind,
        name: c?.name ?? (info.kind === 'direct' ? info.members.find((m) => m.userId !== this.context.userId)?.username : undefined),
        members: info.members.map((m) => m.userId),
        updatedAt: last && new Date(last.ts).toISOString() > info.updatedAt ? new Date(last.ts).toISOString() : info.updatedAt,
        unread: c?.unread ?? 0,
        lastMessage: last ? { id: last.id, author: last.author, text: last.text, ts: last.ts } : undefined,
        ...(archived.has(info.id) ? { archived: true as const } : {}),
      });
    }
    return rows.sort((a, b) => (a.updatedAt < b.updatedAt ? 1 : a.updatedAt > b.updatedAt ? -1 : 0));
  }

  /** Opens (or returns the already open) conversation handle. */
  async open(convId: string): Promise<Conversation> {
    let p = this.#open.get(convId);
    // A handle closed by its owner is replaced, once its documents are detached (a new handle opens the same
    // documents on the same socket, which must not find the old links still there).
    const existing = p ? await p.catch(() => undefined) : undefined;
    if (existing?.closed) {
      await existing.close();
      if (this.#open.get(convId) === p) this.#open.delete(convId);
      p = this.#open.get(convId);
    }
    if (!p) {
      const cached = this.#list.find((c) => c.id === convId);
      const archived = cached ? undefined : this.#archived.find((c) => c.id === convId);
      const ctx = this.context;
      p = (async () => {
        if (archived) return Conversation.open(ctx, convId, archived, { archived: true });
        if (ctx.sync.online || !cached) {
          try {
            return await Conversation.open(ctx, convId);
          } catch (e) {
            // Unreachable server while meant to be online (a reload without network): open from the cache.
            if (!cached || !isClientError(e, 'network')) throw e;
          }
        }
        return Conversation.open(ctx, convId, cached);
      })();
      this.#open.set(convId, p);
      p.catch(() => this.#open.delete(convId));
    }
    return p;
  }

  async #create(kind: 'direct' | 'group', usernames: string[], name?: string): Promise<Conversation> {
    const ctx = this.context;
    const others = [];
    for (const u of usernames) others.push(await ctx.directory.lookup(u));
    const ids = [...new Set(others.map((o) => o.userId))].filter((id) => id !== ctx.userId);
    const convId = crypto.randomUUID();
    const keyring = new Keyring(convId, { transport: ctx.transport, store: ctx.store, directory: ctx.directory, keys: ctx.keys, userId: ctx.userId });
    const { upload, commit } = await keyring.newEpoch(0, [ctx.userId, ...ids]);
    const body: CreateConversationRequest = { id: convId, kind, memberIds: ids, epoch: upload };
    const res = await ctx.transport.request(ConversationResponse, 'POST', '/api/conversations', { auth: true, body });
    if (res.conversation.id === convId) await commit();
    const conv = await this.open(res.conversation.id);
    if (res.conversation.id === convId) {
      const role = kind === 'direct' ? 'admin' : 'member';
      await conv.writeCreate([{ userId: ctx.userId, role: 'admin' }, ...ids.map((userId) => ({ userId, role }) as const)], name);
    }
    await this.refreshConversations().catch(() => undefined);
    return conv;
  }

  /** Opens the direct chat with `username` (created once per pair; an existing one is returned). */
  createDirect(username: string): Promise<Conversation> {
    return this.#create('direct', [username]);
  }

  /** Creates a group with an encrypted name. */
  createGroup(name: string, usernames: string[]): Promise<Conversation> {
    return this.#create('group', usernames, name);
  }

  /** Adds `username` to a group (admins). */
  async addMember(convId: string, username: string): Promise<void> {
    const user = await this.context.directory.lookup(username);
    await (await this.open(convId)).addMember(user.userId);
  }

  /** Removes a member (admins); starts a new epoch they never get. */
  async removeMember(convId: string, userId: string): Promise<void> {
    await (await this.open(convId)).removeMember(userId);
  }

  /** Leaves a conversation. */
  async leave(convId: string): Promise<void> {
    await (await this.open(convId)).leave();
    await this.refreshConversations().catch(() => undefined);
  }

  /** Renames a group (admins). */
  async rename(convId: string, name: string): Promise<void> {
    await (await this.open(convId)).rename(name);
  }

  /**
   * Contacts to share my profile key with: members of my conversations, except users that an open
   * conversation flags as unverified (listed by the server without an admin signature) and that no open
   * conversation verifies.
   */
  async #profileContacts(): Promise<ProfileContact[]> {
    const me = this.context.userId;
    const unverified = new Set<string>();
    const verified = new Set<string>();
    for (const p of this.#open.values()) {
      // Only conversations already open: never wait here for one that is still loading.
      const c = await Promise.race([p.then((x) => x, () => undefined), new Promise<undefined>((r) => setTimeout(r, 0))]);
      if (!c) continue;
      for (const u of c.unverifiedMembers) unverified.add(u);
      for (const u of c.membership.members.keys()) verified.add(u);
    }
    const out = new Map<string, ProfileContact>();
    for (const conv of this.#list)
      for (const m of conv.members)
        if (m.userId !== me && !out.has(m.userId) && (!unverified.has(m.userId) || verified.has(m.userId)))
          out.set(m.userId, { userId: m.userId, username: m.username, publicKeys: m.publicKeys });
    return [...out.values()];
  }

  /**
   * Changes my profile (end-to-end encrypted, readable by my contacts and my other devices). Fields: a value
   * sets, `null` clears, absent keeps. Display name ≤ 64 characters, status ≤ 140, avatar ≤ 64 KiB PNG, JPEG
   * or WebP (the bytes must match the type). Throws `ClientError('invalid_input')` for invalid input and a
   * transport error when my first profile key cannot be created (offline).
   */
  async setProfile(update: ProfileUpdate): Promise<Profile> {
    const profiles = this.#requireProfiles();
    return profiles.setProfile(update, await this.#profileContacts());
  }

  /**
   * The verified profile of `userId` (a contact or myself), or undefined when none is readable (see
   * `profileAccess`). The document stays open afterwards: changes arrive as `profile` events.
   */
  profile(userId: string): Promise<Profile | undefined> {
    return this.#requireProfiles().profile(userId);
  }

  /** The last known profile of `userId` without any I/O (undefined until `profile(userId)` was called). */
  cachedProfile(userId: string): Profile | undefined {
    return this.#profiles?.cached(userId);
  }

  /** Whether the profile of `userId` is readable: `ready`, `no_key`, `forbidden`, `invalid` or `loading`. */
  profileAccess(userId: string): ProfileAccess {
    return this.#profiles?.access(userId) ?? 'loading';
  }

  /** Fetches profile keys shared with me now (normally automatic); reports refused wraps. */
  refreshProfileKeys(): Promise<ProfileKeyRefresh> {
    return this.#requireProfiles().refreshKeys();
  }

  #requireProfiles(): ProfileManager {
    if (!this.#profiles) throw new ClientError('not_signed_in', 'call start() after signing in');
    return this.#profiles;
  }

  /** Closes every conversation, the inbox and the socket; persists state. */
  async stop(): Promise<void> {
    for (const p of this.#open.values()) await (await p.catch(() => undefined))?.close();
    this.#open.clear();
    await this.#profiles?.close();
    this.#inbox?.close();
    this.#ctx?.sync.destroy();
  }
}
