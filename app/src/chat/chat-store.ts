/**
 * `ChatStore`: the chat screens' one owner of the client core. It starts a `ParleyClient` over IndexedDB for
 * the signed-in account, keeps every conversation of the list open (so unread counts, previews, typing and
 * notifications are live for all of them), and exposes Solid signals the components read. Components never
 * hold keys; they call methods here or on a `Conversation` handle.
 */
import { createSignal, type Accessor } from 'solid-js';
import { createStore, reconcile } from 'solid-js/store';
import {
  ClientError,
  ParleyClient,
  isClientError,
  type Conversation,
  type ConversationMessage,
  type ConversationSummary,
  type PinnedKeys,
  type Profile,
  type ProfileUpdate,
} from '@parley/shared/client';
import type { SignedIn } from '../session.ts';
import { IdbStorage } from './idb-storage.ts';
import { conversationRecords } from './local-names.ts';
import { flattenGaps, GapWatch, visibleInvalid, type ConversationIntegrity } from './integrity.ts';

/** A conversation-list row as the screens show it. */
export interface ChatRow extends ConversationSummary {
  /** Group name, the other person's username, or a placeholder. */
  title: string;
  /** The other member of a direct chat. */
  peerId: string | undefined;
}

/** A new message from someone else, for notifications. */
export interface IncomingMessage {
  convId: string;
  convTitle: string;
  kind: 'direct' | 'group';
  sender: string;
  message: ConversationMessage;
}

/** Hooks other parts of the chat (notifications, search) attach to. */
export interface ChatStoreHooks {
  onIncoming?: (m: IncomingMessage) => void;
  onMessages?: (convId: string, messages: readonly ConversationMessage[]) => void;
  onAddedToGroup?: (convId: string, name: string | undefined) => void;
  /** Someone removed this user from a group (not called when this device left it). */
  onRemovedFromGroup?: (convId: string, name: string | undefined) => void;
  onKeyChanged?: (username: string) => void;
  /** [ARCHIVE-1] A conversation was deleted from this device: its messages leave the search index. */
  onForgotten?: (convId: string) => void;
}

/** Why starting failed, for the screen. */
export type StartState = { status: 'starting' } | { status: 'ready' } | { status: 'error'; message: string };

/** Most conversations kept open (live) at once; older ones open on demand. */
const LIVE_LIMIT = 50;

/** Integrity events are coalesced for this long (a hostile member can send thousands of bad frames at once). */
const INTEGRITY_COALESCE_MS = 100;

/** See the module comment. Create one per mounted ChatApp; call `dispose()` on unmount. */
export class ChatStore {
  readonly client: ParleyClient;
  readonly me: { userId: string; username: string };
  readonly startedAt = Date.now();
  readonly hooks: ChatStoreHooks = {};
  readonly #storage = new IdbStorage();
  readonly #handles = new Map<string, Conversation>();
  readonly #opening = new Map<string, Promise<Conversation>>();
  readonly #offs: Array<() => void> = [];
  readonly #lastTs = new Map<string, number>();
  #rowsTimer: ReturnType<typeof setTimeout> | undefined;
  #disposed = false;
  readonly #contacts = new Set<string>();
  /** Users whose profile was asked for (once each; changes then arrive as `profile` events). */
  readonly #profileAsked = new Set<string>();
  /** Object URLs of avatar images, per user (revoked when the avatar changes and on dispose). */
  readonly #avatarUrls = new Map<string, { bytes: Uint8Array; url: string }>();
  /** Bumps when some profile changed (read it to make the profile getters reactive). */
  readonly profileVersion: Accessor<number>;
  readonly #bumpProfiles: () => void;

  readonly state: Accessor<StartState>;
  readonly #setState: (s: StartState) => void;
  readonly rows: Accessor<ChatRow[]>;
  readonly #setRows: (r: ChatRow[]) => void;
  /** Bumps on presence changes (read it to make `isOnline` reactive). */
  readonly #presence: Accessor<number>;
  readonly #bumpPresence: () => void;
  /** Users whose key changed since they were pinned. */
  readonly keyChanged: Accessor<ReadonlySet<string>>;
  readonly #setKeyChanged: (s: ReadonlySet<string>) => void;
  /** Who is typing, per conversation. */
  readonly typing: Record<string, string[]>;
  readonly #setTyping: (convId: string, ids: string[]) => void;
  /** Open conversations this user is no longer a member of (removed, left, or opened archived). */
  readonly removed: Accessor<ReadonlySet<string>>;
  readonly #setRemoved: (s: ReadonlySet<string>) => void;
  /** Bumps when a handle was dropped (re-added, or deleted from the device): a view showing it opens again. */
  readonly reopen: Accessor<number>;
  readonly #bumpReopen: () => void;
  /** The conversation on screen (notifications skip it while the page is visible). */
  readonly activeId: Accessor<string | undefined>;
  readonly setActiveId: (id: string | undefined) => void;
  /** Bumps when names/membership of some conversation changed. */
  readonly membersVersion: Accessor<number>;
  readonly #bumpMembers: () => void;
  /** Missing (persisted gaps) and rejected frames, per conversation (see integrity.ts). */
  readonly integrity: Record<string, ConversationIntegrity>;
  readonly #setIntegrity: (convId: string, value: ConversationIntegrity) => void;

  constructor(session: SignedIn) {
    this.me = { userId: session.session.userId, username: session.session.username };
    this.client = new ParleyClient({ baseUrl: location.origin, storage: this.#storage, account: session.client });
    [this.state, this.#setState] = createSignal<StartState>({ status: 'starting' });
    [this.rows, this.#setRows] = createSignal<ChatRow[]>([]);
    const [presence, setPresence] = createSignal(0);
    this.#presence = presence;
    this.#bumpPresence = () => setPresence((n) => n + 1);
    [this.keyChanged, this.#setKeyChanged] = createSignal<ReadonlySet<string>>(new Set());
    const [typing, setTyping] = createStore<Record<string, string[]>>({});
    this.typing = typing;
    this.#setTyping = (convId, ids) => setTyping(convId, reconcile(ids));
    [this.removed, this.#setRemoved] = createSignal<ReadonlySet<string>>(new Set());
    const [reopen, setReopen] = createSignal(0);
    this.reopen = reopen;
    this.#bumpReopen = () => setReopen((n) => n + 1);
    const [integrity, setIntegrity] = createStore<Record<string, ConversationIntegrity>>({});
    this.integrity = integrity;
    this.#setIntegrity = (convId, value) => setIntegrity(convId, reconcile(value));
    [this.activeId, this.setActiveId] = createSignal<string | undefined>();
    const [members, setMembers] = createSignal(0);
    this.membersVersion = members;
    this.#bumpMembers = () => setMembers((n) => n + 1);
    const [profiles, setProfiles] = createSignal(0);
    this.profileVersion = profiles;
    this.#bumpProfiles = () => setProfiles((n) => n + 1);
  }

  #started: Promise<void> | undefined;
  #markStarted: () => void = () => {};
  #failStarted: (e: unknown) => void = () => {};

  /** Resolves once the client has started (conversations can be opened); rejects if it could not start. */
  whenStarted(): Promise<void> {
    this.#started ??= new Promise<void>((resolve, reject) => {
      this.#markStarted = resolve;
      this.#failStarted = reject;
    });
    return this.#started;
  }

  /** Starts the client (offline when the browser says so) and opens the conversations of the list. */
  async start(): Promise<void> {
    this.whenStarted().catch(() => undefined);
    try {
      await this.client.start({ offline: !navigator.onLine });
    } catch (e) {
      this.#failStarted(e);
      this.#setState({ status: 'error', message: e instanceof Error ? e.message : String(e) });
      return;
    }
    if (this.#disposed) return;
    this.#markStarted();
    this.#offs.push(
      this.client.on('conversations', () => this.#scheduleRows()),
      this.client.on('presence', () => this.#bumpPresence()),
      this.client.on('profile', () => this.#bumpProfiles()),
      this.client.on('key_changed', (e) => {
        this.#setKeyChanged(new Set([...this.keyChanged(), e.userId]));
        this.hooks.onKeyChanged?.(e.username);
      }),
      this.client.on('notice', (n) => {
        if (n.type === 'member_added' && n.userId === this.me.userId) void this.#announceAdded(n.convId);
        if (n.type === 'member_added' || n.type === 'member_removed') this.#bumpMembers();
      }),
    );
    const changed = this.client.directory.changedKeys;
    if (changed.length > 0) this.#setKeyChanged(new Set(changed));
    const online = () => void this.client.goOnline().catch(() => undefined);
    const offline = () => this.client.goOffline();
    window.addEventListener('online', online);
    window.addEventListener('offline', offline);
    this.#offs.push(() => window.removeEventListener('online', online));
    this.#offs.push(() => window.removeEventListener('offline', offline));
    await this.#refreshRows();
    this.#setState({ status: 'ready' });
  }

  /** Tells the user they were added to a group (once its name is readable, or after a few seconds). */
  async #announceAdded(convId: string): Promise<void> {
    const row = (await this.client.conversations()).find((r) => r.id === convId);
    if (row && row.kind !== 'group') return;
    const name = await Promise.race([
      this.open(convId).then(
        async (c) => c.name ?? (await c.once('members', (e) => e.name !== undefined)).name, // the signed name may sync a moment later
        () => undefined,
      ),
      new Promise<undefined>((r) => setTimeout(r, 8000)),
    ]);
    if (!this.#disposed) this.hooks.onAddedToGroup?.(convId, name);
  }

  /** Whether a contact is online (reactive). */
  isOnline(userId: string | undefined): boolean {
    this.#presence();
    return userId !== undefined && this.client.isOnline(userId);
  }

  /** A username for a user id (pinned directory first, then any open conversation's member list). */
  nameOf(userId: string): string {
    return this.#usernameOf(userId) ?? 'Unknown member';
  }

  #usernameOf(userId: string): string | undefined {
    if (userId === this.me.userId) return this.me.username;
    const pinned = this.client.directory.pinned(userId);
    if (pinned) return pinned.username;
    for (const h of this.#handles.values()) {
      const m = h.info.members.find((x) => x.userId === userId);
      if (m) return m.username;
    }
    return undefined;
  }

  /**
   * The last known profile of a user (reactive). The first call asks the client for it (in the background);
   * it stays live afterwards. Undefined while unknown or unreadable.
   */
  profileOf(userId: string | undefined): Profile | undefined {
    this.profileVersion();
    if (!userId) return undefined;
    if (!this.#profileAsked.has(userId)) {
      this.#profileAsked.add(userId);
      void this.whenStarted()
        .then(() => (this.#disposed ? undefined : this.client.profile(userId)))
        .then(() => this.#bumpProfiles())
        .catch(() => {
          // Offline or not readable yet: allow another attempt on a later read.
          setTimeout(() => this.#profileAsked.delete(userId), 30_000);
        });
    }
    return this.client.cachedProfile(userId);
  }

  /** A user's display name from their profile, else their username (reactive). */
  displayNameOf(userId: string): string {
    return this.knownDisplayNameOf(userId) ?? 'Unknown member';
  }

  /** `displayNameOf`, but undefined for a user this device knows nothing about (reactive). */
  knownDisplayNameOf(userId: string): string | undefined {
    return this.profileOf(userId)?.displayName || this.#usernameOf(userId);
  }

  /** An object URL of a user's avatar image, or undefined (reactive; the store revokes it when it changes). */
  avatarUrl(userId: string | undefined): string | undefined {
    if (!userId) return undefined;
    const avatar = this.profileOf(userId)?.avatar;
    const held = this.#avatarUrls.get(userId);
    if (held && held.bytes === avatar?.bytes) return held.url;
    if (held) {
      // Revoke a little later: an <img> may still be showing it until the new URL renders.
      const old = held.url;
      setTimeout(() => URL.revokeObjectURL(old), 1000);
      this.#avatarUrls.delete(userId);
    }
    if (!avatar || this.#disposed) return undefined;
    const url = URL.createObjectURL(new Blob([avatar.bytes as Uint8Array<ArrayBuffer>], { type: avatar.mime }));
    this.#avatarUrls.set(userId, { bytes: avatar.bytes, url });
    return url;
  }

  /** Changes my profile; bumps the profile getters. */
  async setProfile(update: ProfileUpdate): Promise<Profile> {
    await this.whenStarted();
    const p = await this.client.setProfile(update);
    this.#bumpProfiles();
    return p;
  }

  /** An open handle, if this conversation is open already. */
  handle(convId: string): Conversation | undefined {
    return this.#handles.get(convId);
  }

  /** Opens (once) a conversation and wires its events. */
  open(convId: string): Promise<Conversation> {
    const existing = this.#opening.get(convId);
    if (existing) return existing;
    const p = this.whenStarted()
      .then(() => this.client.open(convId))
      .then((c) => {
      if (this.#disposed) return c;
      this.#wire(c);
      return c;
    });
    this.#opening.set(convId, p);
    p.catch(() => this.#opening.delete(convId));
    return p;
  }

  #wire(c: Conversation): void {
    if (this.#handles.has(c.id)) return;
    this.#handles.set(c.id, c);
    this.#lastTs.set(c.id, Math.max(this.startedAt, c.messages.at(-1)?.ts ?? 0));
    this.#offs.push(
      c.on('change', ({ messages }) => {
        this.#detectIncoming(c, messages);
        this.hooks.onMessages?.(c.id, messages);
        this.#scheduleRows();
      }),
      c.on('typing', ({ userIds }) => this.#setTyping(c.id, userIds)),
      c.on('members', () => {
        this.#bumpMembers();
        this.#scheduleRows();
      }),
      c.on('unverified', () => this.#bumpMembers()),
      c.on('removed', ({ left }) => {
        this.#setRemoved(new Set([...this.removed(), c.id]));
        if (!left && c.info.kind === 'group') this.hooks.onRemovedFromGroup?.(c.id, c.name);
        void this.client.refreshConversations().catch(() => undefined); // the row stays, archived ([ARCHIVE-1])
      }),
    );
    if (c.removed) this.#setRemoved(new Set([...this.removed(), c.id]));
    this.#watchIntegrity(c);
    this.hooks.onMessages?.(c.id, c.messages);
    this.#scheduleRows();
    this.#backfill(c);
  }

  /**
   * Keeps `integrity[c.id]` current: recomputed from the conversation's own `gaps()` and `invalidFrames()`
   * (never accumulated from events), with a gap shown only once it has persisted (`GapWatch`).
   */
  #watchIntegrity(c: Conversation): void {
    const gaps = new GapWatch();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let timerAt = Infinity;
    /** Refreshes at `at` (ms), unless a refresh is already due by then. */
    const schedule = (at: number) => {
      if (timer !== undefined && timerAt <= at) return;
      clearTimeout(timer);
      timerAt = at;
      timer = setTimeout(refresh, Math.max(0, at - Date.now()));
    };
    const refresh = () => {
      clearTimeout(timer);
      timer = undefined;
      if (this.#disposed) return;
      const { shown, dueAt } = gaps.update(flattenGaps(c.gaps()), Date.now());
      this.#setIntegrity(c.id, { gaps: shown, invalid: visibleInvalid(c.invalidFrames()) });
      if (dueAt !== undefined) schedule(dueAt);
    };
    const soon = () => schedule(Date.now() + INTEGRITY_COALESCE_MS);
    this.#offs.push(c.on('gaps', soon), c.on('invalid', soon), () => clearTimeout(timer));
    refresh();
  }

  /**
   * Loads older segments in the background, one at a time across all conversations, so on-device search
   * covers the whole history (segments are cached sealed after the first fetch, so this is cheap later).
   */
  #backfill(c: Conversation): void {
    this.#backfillChain = this.#backfillChain.then(async () => {
      while (!this.#disposed && c.hasOlder && !c.removed) {
        await new Promise((r) => setTimeout(r, 250));
        if (this.#disposed || !(await c.loadOlder().catch(() => false))) break;
      }
    });
  }
  #backfillChain: Promise<void> = Promise.resolve();

  #detectIncoming(c: Conversation, messages: readonly ConversationMessage[]): void {
    const since = this.#lastTs.get(c.id) ?? this.startedAt;
    let newest = since;
    const fresh: ConversationMessage[] = [];
    for (let i = messages.length - 1; i >= 0; i--) {
      const m = messages[i];
      if (!m || m.ts <= since) break;
      newest = Math.max(newest, m.ts);
      if (!m.mine && !m.deleted) fresh.unshift(m);
    }
    this.#lastTs.set(c.id, newest);
    const title = this.#title(c.info.kind, c.name);
    for (const m of fresh) this.hooks.onIncoming?.({ convId: c.id, convTitle: title, kind: c.info.kind, sender: this.displayNameOf(m.author), message: m });
  }

  #title(kind: 'direct' | 'group', name: string | undefined): string {
    return name ?? (kind === 'group' ? 'Unnamed group' : 'Direct chat');
  }

  #scheduleRows(): void {
    if (this.#rowsTimer !== undefined || this.#disposed) return;
    this.#rowsTimer = setTimeout(() => {
      this.#rowsTimer = undefined;
      void this.#refreshRows();
    }, 40);
  }

  async #refreshRows(): Promise<void> {
    if (this.#disposed) return;
    const list = await this.client.conversations();
    const rows = list.map<ChatRow>((r) => ({
      ...r,
      title: this.#title(r.kind, r.name),
      peerId: r.kind === 'direct' ? r.members.find((m) => m !== this.me.userId) : undefined,
    }));
    this.#setRows(rows);
    // [ARCHIVE-1] Re-added: the client closed the read-only handle; the next open syncs live again (after the
    // rows: a view showing it reopens once its row is no longer archived).
    for (const r of rows) {
      const h = this.#handles.get(r.id);
      if (!r.archived && h?.closed && h.removed) this.#dropHandle(r.id);
    }
    // A new contact (a chat someone just started): ask who of them is online (presence notices only
    // arrive for changes after they became a contact).
    let fresh = false;
    for (const r of rows) for (const m of r.members) if (m !== this.me.userId && !this.#contacts.has(m)) fresh = this.#contacts.add(m) !== undefined;
    if (fresh) void this.client.refreshPresence().catch(() => undefined);
    // Keep the most recent conversations live (opening is idempotent; failures are retried next time).
    for (const r of rows.slice(0, LIVE_LIMIT)) if (!this.#opening.has(r.id)) void this.open(r.id).catch(() => undefined);
  }

  /** Forgets this device's handle of a conversation (re-added, or deleted from the device). */
  #dropHandle(convId: string): void {
    this.#handles.delete(convId);
    this.#opening.delete(convId);
    const removed = new Set(this.removed());
    if (removed.delete(convId)) this.#setRemoved(removed);
    this.#bumpReopen();
  }

  /**
   * [ARCHIVE-1] Deletes a conversation this user is no longer a member of from this device: its history and
   * keys (the core's `forget`), the draft and staged files, and its messages in the search index. Throws
   * `ClientError` (`invalid_input` for a conversation this user is still in).
   */
  async forget(convId: string): Promise<void> {
    await this.whenStarted();
    await this.client.forget(convId);
    const store = this.client.context.store;
    for (const name of conversationRecords(convId)) await store.delete(name).catch(() => undefined);
    this.hooks.onForgotten?.(convId);
    await this.#refreshRows(); // the row goes first: a view still showing the conversation does not reopen it
    this.#dropHandle(convId);
  }

  /** Re-reads the list from the server. */
  refresh(): Promise<void> {
    return this.client.refreshConversations().then(() => this.#refreshRows());
  }

  /**
   * Starts (or finds) the direct chat with `username`. Throws `ClientError` with a user-facing message for
   * an unknown user or oneself.
   */
  async startDirect(username: string): Promise<Conversation> {
    const name = username.trim();
    if (name.toLowerCase() === this.me.username.toLowerCase()) throw new ClientError('invalid_input', 'That is you. Enter someone else’s username');
    await this.#checkUser(name);
    const c = await this.client.createDirect(name);
    this.#wire(c);
    this.#opening.set(c.id, Promise.resolve(c));
    await this.#refreshRows();
    return c;
  }

  /** Creates a group; every username must exist. */
  async createGroup(name: string, usernames: string[]): Promise<Conversation> {
    const others = [...new Set(usernames.map((u) => u.trim()).filter((u) => u && u.toLowerCase() !== this.me.username.toLowerCase()))];
    if (others.length === 0) throw new ClientError('invalid_input', 'Add at least one other member');
    for (const u of others) await this.#checkUser(u);
    const c = await this.client.createGroup(name.trim(), others);
    this.#wire(c);
    this.#opening.set(c.id, Promise.resolve(c));
    await this.#refreshRows();
    return c;
  }

  /** Adds a member to a group by username (admins). */
  async addMember(convId: string, username: string): Promise<void> {
    const name = username.trim();
    if (name.toLowerCase() === this.me.username.toLowerCase()) throw new ClientError('invalid_input', 'That is you: you are in this group already');
    const user = await this.#checkUser(name);
    if (this.#handles.get(convId)?.membership.members.has(user.userId)) throw new ClientError('invalid_input', `${user.username} is in this group already`);
    await this.client.addMember(convId, name);
    this.#bumpMembers();
  }

  /** The user called `username` (their pinned keys); `ClientError('not_found')` with a readable message otherwise. */
  async #checkUser(username: string): Promise<PinnedKeys> {
    try {
      return await this.client.directory.lookup(username);
    } catch (e) {
      if (isClientError(e, 'not_found', 'invalid_input')) throw new ClientError('not_found', `No user called “${username}”. Check the spelling`);
      throw e;
    }
  }

  #disposal: Promise<void> | undefined;

  /** Stops the client and closes storage. Idempotent: later calls share the first one's promise. */
  dispose(): Promise<void> {
    this.#disposal ??= this.#dispose();
    return this.#disposal;
  }

  async #dispose(): Promise<void> {
    this.#disposed = true;
    if (this.#rowsTimer !== undefined) clearTimeout(this.#rowsTimer);
    for (const off of this.#offs.splice(0)) off();
    for (const { url } of this.#avatarUrls.values()) URL.revokeObjectURL(url);
    this.#avatarUrls.clear();
    try {
      await this.client.stop();
    } finally {
      this.#storage.close();
    }
  }
}
