/**
 * `Conversation`: a live, verified view of one conversation on this device.
 *
 * Opening order (time to first screen does not grow with history): server record -> keys -> meta document
 * (signed membership) -> the OPEN segment, live. Older (closed) segments load lazily with `loadOlder()`,
 * read-only, and are cached sealed in storage. Every segment has its own inner doc (so its snapshots hold
 * exactly that segment, and each entry is integrated once); one `MessageProjection` (incremental
 * `materialize`) reads all of them side by side and turns them into the message list, so edits, reactions and
 * receipts may target messages of older segments. The docs are never merged ([INNER-10]): Yjs clientIDs are
 * per document, so one segment's structs cannot collide with another's, and a `messages` key found in two
 * segments counts from the older one. Only changed entries are recomputed per render.
 *
 * Trust: frames must verify against pinned identity keys and come from members; messages, ops and receipts
 * count only from VERIFIED members (a signed `create`/`add` by an admin in the meta doc). A member the server
 * lists without such an op is `unverified`: flagged, never given a key, never rendered.
 *
 * Writes are offline-first: entries are signed, kept in a sealed outbox until their frame is sealed into the
 * open segment (the persisted envelope then carries them to the server on the next sync). The outbox is one
 * sealed record per entry (`outbox/<convId>/<entryId>`), written when the entry is added and deleted once the
 * server acknowledged the frame that carries it (so a restart in between still shows the message as sending),
 * so a send costs the same storage work however many entries wait.
 */
import { z } from 'zod';
import {
  SignedMessage,
  SignedOp,
  VerificationCache,
  ATTACH_AHEAD_JITTER_MS,
  compactionWait,
  entrySigningBytes,
  innerRoots,
  logStats,
  onDocChange,
  MessageProjection,
  VouchedEntries,
  parseMessageEntry,
  parseOpEntry,
  putMessage,
  putOp,
  rolloverDecision,
  SEGMENT_PREPARE_BYTES,
  signMessageAsync,
  signOpAsync,
  type Attachment,
  type CounterGap,
  type FrameResolvers,
  type InvalidFrame,
  type MaterializedMessage,
  type OpBody,
} from '../envelope/index.ts';
import type { CounterStore } from '../envelope/counters.ts';
import { CONTEXT, verifyAsync } from '../crypto/index.ts';
import { fromBase64Url } from '../protocol/index.ts';
import { Conversation as ConversationSchema, docNameFor, type Conversation as ConversationInfo, type KeyWrapsResponse, type Segment } from '../protocol/index.ts';
import type { AccountKeys } from './account-crypto.ts';
import { EncryptedDoc } from './encrypted-doc.ts';
import { FlushBudget } from './flush-budget.ts';
import { MessageDecorator, type ConversationMessage, type DeliveryState } from './decorate.ts';
import { attachFile, detachFile, discardFile, downloadFile, uploadFile, type DownloadResult, type FileProgress } from './files.ts';
import type { ByteSource } from '../crypto/file-chunks.ts';
import { ClientError, isClientError } from './errors.ts';
import { Emitter } from './events.ts';
import type { KeyDirectory } from './key-directory.ts';
import { Keyring, type KeyProblem } from './keyring.ts';
import { openAwareness, sealAwareness } from './awareness-crypto.ts';
import type { Awareness } from 'y-protocols/awareness';
import { computeMembership, MembershipSignatures, membershipRoot, putMembershipOp, signMembershipOp, type MembershipBody, type VerifiedMembership } from './membership.ts';
import type { SealedStore } from './storage.ts';
import type { DocCloseReason, SyncConnection } from './sync-connection.ts';
import type { HttpTransport } from './transport.ts';
import { withTimeout } from './timeout.ts';

/** What a conversation needs from the client. */
export interface ClientContext {
  transport: HttpTransport;
  sync: SyncConnection;
  directory: KeyDirectory;
  store: SealedStore;
  keys: AccountKeys;
  userId: string;
  deviceId: string;
  /** Frame counters per document ([FRAME-7]). */
  counters: CounterStore;
  /** Message-id counters per conversation. */
  messageCounters: CounterStore;
}

export type { ConversationMessage, DeliveryState } from './decorate.ts';

/** Events of a conversation. */
export interface ConversationEvents {
  [k: string]: unknown;
  /** The message list changed. */
  change: { messages: ConversationMessage[] };
  /** Members the server lists without an admin-signed add (do not trust them). */
  unverified: { userIds: string[] };
  /** This user was removed (`left`: they left themselves, on this device or another one): live state was dropped. */
  removed: { left: boolean };
  /** A frame was rejected. */
  invalid: { segmentId: string; frame: InvalidFrame };
  /** Counter gaps changed (frames withheld or in flight). */
  gaps: { segmentId: string; gaps: CounterGap[] };
  /** Key material that was refused. */
  key_problem: KeyProblem;
  /** A rotation is due but cannot be done honestly (unverified members on the server's list). */
  rotation_blocked: { unverified: string[] };
  /** Who is typing changed (verified, encrypted awareness on the open segment). */
  typing: { userIds: string[] };
  /** Membership or name changed. */
  members: { members: Map<string, 'admin' | 'member'>; name: string | undefined };
}

const OutboxEntry = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('msg'), entry: SignedMessage, segment: z.string().max(40) }).strict(),
  z.object({ kind: z.literal('op'), entry: SignedOp, segment: z.string().max(40) }).strict(),
]);
type OutboxEntry = z.infer<typeof OutboxEntry>;
/** The outbox format before per-entry records: one record `outbox/<convId>` holding every entry (migrated on open). */
const LegacyOutboxRecord = z.array(OutboxEntry).max(10_000);
/** Storage writes of outbox records in flight at once (replays and migrations of a large offline outbox). */
const OUTBOX_IO_BATCH = 64;

/**
 * Messages this device wrote that the server has not acknowledged yet, over every conversation (the outbox's
 * message records; edits, reactions and receipts are not counted). For a warning before local data is deleted.
 */
export async function unsentMessageCount(store: SealedStore): Promise<number> {
  let n = 0;
  for (const name of await store.list('outbox/')) {
    if (name.split('/').length !== 3) continue; // a legacy whole-outbox record is migrated when the conversation opens
    const e = await store.getJson(name, OutboxEntry);
    if (e?.kind === 'msg') n++;
  }
  return n;
}

/** The counter part of an entry id (`deviceId:counter`), for replaying in write order. */
function entryCounter(id: string): number {
  return Number(id.slice(id.indexOf(':') + 1));
}

const setImmediateLike = (globalThis as { setImmediate?: (callback: () => void) => unknown }).setImmediate;
/** Resolves after the event loop ran what is already queued (I/O and timers), without a fixed delay. */
function nextMacrotask(): Promise<void> {
  return new Promise((resolve) => (setImmediateLike ? setImmediateLike(resolve) : setTimeout(resolve, 0)));
}

async function inBatches<T>(items: readonly T[], run: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += OUTBOX_IO_BATCH) await Promise.all(items.slice(i, i + OUTBOX_IO_BATCH).map(run));
}
/** Blob references still to tell the server about ([FILE-7]), in order; survives reloads. */
const BlobRefTask = z.object({ op: z.enum(['attach', 'detach']), blobId: z.uuid(), msgId: z.string().max(64) }).strict();
type BlobRefTask = z.infer<typeof BlobRefTask>;
const BlobRefQueue = z.array(BlobRefTask).max(100_000);

/** A file to attach to a message: see `Conversation.uploadAttachment`. */
export interface AttachmentUpload {
  /** File name shown to recipients (1..255 characters). */
  name: string;
  /** MIME type (printable ASCII, may be empty). */
  type: string;
  /** The file: bytes, an async iterable of chunks, or a ReadableStream (`file.stream()`). */
  data: ByteSource;
  /** Plaintext size; required for streams and iterables. */
  size?: number;
  /** For images: a small preview made on this device, uploaded (encrypted) as its own blob ([FILE-9]). */
  thumbnail?: { data: Uint8Array; type: string; width: number; height: number };
  /** Progress of the file itself (the thumbnail is small and not counted). */
  onProgress?: (progress: FileProgress) => void;
  signal?: AbortSignal;
}

function blobIdsOf(attachments: readonly Attachment[]): string[] {
  return attachments.flatMap((a) => (a.thumb ? [a.file.blobId, a.thumb.blobId] : [a.file.blobId]));
}
const ConversationResponse = z.object({ conversation: ConversationSchema }).strict();

/** How far ahead of this device's clock the newest message may be for my next entry to follow it (`#nextTs`). */
const SKEW_FOLLOW_MS = 24 * 60 * 60 * 1000;

/** Older segments fetched ahead of `loadOlder` (the one asked for included). */
const PREFETCH_SEGMENTS = 3;

function thumbName(name: string): string {
  const n = `thumbnail of ${name}`;
  return n.length > 255 ? n.slice(0, 255) : n;
}

/** See the module comment. Create with `Conversation.open`. */
export class Conversation extends Emitter<ConversationEvents> {
  readonly id: string;
  readonly keyring: Keyring;
  #info: ConversationInfo;
  #meta!: EncryptedDoc;
  readonly #segments = new Map<string, { seg: Segment; doc: EncryptedDoc }>();
  #openSegment: string | undefined;
  /** [SEG-4] The segment this device asked the server for a successor of (once per segment). */
  #preparing: string | undefined;
  /** [SEG-4] The segment this device switched away from before the server closed it. */
  #rolledFrom: string | undefined;
  #finishing: string | undefined;
  #membership: VerifiedMembership;
  #messages: ConversationMessage[] = [];
  readonly #pending = new Set<string>();
  readonly #outbox = new Map<string, OutboxEntry>();
  readonly #verifyCache = new VerificationCache(1_000_000);
  /** Entry contents vouched for by their author's frame signature ([INNER-8]), not yet seen in the view. */
  readonly #vouched = new VouchedEntries();
  /** View values whose authorship is settled: true = signature verified or vouched for, false = it failed. */
  readonly #authentic = new WeakMap<object, boolean>();
  /** View values not settled yet (waiting for verification, or for their author's key). */
  readonly #unchecked = new Set<object>();
  readonly #projection: MessageProjection;
  #membershipKey = '';
  /** Membership signatures checked natively before the first screen's recomputes (see `#prepareMembership`). */
  readonly #membershipSignatures = new MembershipSignatures();
  /** What the current `#membership` was computed from (see `#recomputeMembership`). */
  #membershipInput: { ops: unknown[]; creatorId: string | undefined; keys: Map<string, Uint8Array | undefined> } | undefined;
  /** The rendered list, recomputed from the first change (see `MessageDecorator`). */
  readonly #decorator: MessageDecorator;
  #renderMs = 0;
  /** Older segments being fetched ahead of `loadOlder` (see `#prefetch`). */
  readonly #prefetched = new Map<string, Promise<EncryptedDoc>>();
  #viewPass: Promise<void> | undefined;
  #viewDirty = false;
  #renderWaiters: Array<() => void> = [];
  #deliverQueued: Promise<void> | undefined;
  /** Mirror of the server's per-connection message budget: bursts become fewer frames, never a rate-limit close. */
  readonly #budget = new FlushBudget();
  /** Timestamp of my last entry: entries of one device get strictly increasing `ts`, so a burst keeps its order. */
  #lastTs = 0;
  #fetching = new Set<string>();
  #renderTimer: ReturnType<typeof setTimeout> | undefined;
  #compactTimer: ReturnType<typeof setTimeout> | undefined;
  /** [SEG-4] A delayed attach to the `next` segment (`#attachAheadSoon`). */
  #aheadTimer: ReturnType<typeof setTimeout> | undefined;
  /** [COMPACT-1] The open segment's latest frame, and since when (and which segment) it needs compacting. */
  #lastFrameAt = 0;
  #compactRound: { segmentId: string; neededSince: number; jitter: number } | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #removed = false;
  /** This device is leaving (`leave()`): the drop that follows is not a removal by someone else. */
  #leaving = false;
  #closed = false;
  #lastUnverified = '[]';
  readonly #resolvers: FrameResolvers;
  readonly #presence = new Map<string, { userId: string; typing: boolean; ts: number; ctr: number }>();
  #presenceCtr = Date.now() * 1000;
  #typingIds = '[]';
  #blobRefs: BlobRefTask[] = [];
  #blobRefsRunning: Promise<void> | undefined;
  readonly #author;

  private constructor(
    private readonly ctx: ClientContext,
    info: ConversationInfo,
  ) {
    super();
    this.id = info.id;
    this.#info = info;
    this.keyring = new Keyring(info.id, { transport: ctx.transport, store: ctx.store, directory: ctx.directory, keys: ctx.keys, userId: ctx.userId });
    this.#membership = computeMembership([], { convId: info.id, creatorId: undefined, identityKey: () => undefined });
    this.#author = { userId: ctx.userId, deviceId: ctx.deviceId, signingKey: ctx.keys.identity.secretKey };
    this.#decorator = new MessageDecorator(ctx.userId);
    this.#resolvers = {
      signerKey: async (userId) => ctx.directory.pinned(userId)?.identity ?? (await ctx.directory.get(userId)).identity,
      isMember: (userId) => this.#knownMember(userId),
      epochKey: (epoch) => this.keyring.key(epoch),
    };
    // [INNER-10] Every loaded segment's inner doc joins the projection on its own (never merged into one doc).
    this.#projection = new MessageProjection(undefined, {
      authentic: (value) => this.#authentic.get(value) === true,
      isMember: (userId) => this.#verifiedMember(userId),
      onEntry: (value) => this.#settle(value),
    });
  }

  /**
   * Opens a conversation: fetches its record (unless given), keys, the meta document and the open segment.
   * Works offline from storage when the record is given. Throws `ClientError` for transport failures when no
   * record is given. `archived`: this user is no longer a member ([ARCHIVE-1]): the record is the last one this
   * device had, and the conversation opens read-only from storage, `removed` from the start, without a
   * request or a sync link.
   */
  static async open(ctx: ClientContext, convId: string, info?: ConversationInfo, opts: { archived?: boolean } = {}): Promise<Conversation> {
    if (opts.archived && !info) throw new TypeError('an archived conversation opens from its stored record');
    const record = info ?? (await ctx.transport.request(ConversationResponse, 'GET', `/api/conversations/${convId}`, { auth: true })).conversation;
    const c = new Conversation(ctx, record);
    c.#removed = opts.archived === true;
    await c.#start();
    return c;
  }

  /** The server's record (members, segments, epoch). */
  get info(): ConversationInfo {
    return this.#info;
  }

  /** The materialized, verified message list (oldest first). */
  get messages(): readonly ConversationMessage[] {
    return this.#messages;
  }

  /** Verified membership (from admin-signed ops). */
  get membership(): VerifiedMembership {
    return this.#membership;
  }

  /** Group name (encrypted in the meta document), or for a direct chat the other member's username. */
  get name(): string | undefined {
    if (this.#info.kind === 'direct') return this.#info.members.find((m) => m.userId !== this.ctx.userId)?.username;
    return this.#membership.name;
  }

  /** Members the server lists that no admin signed for. */
  get unverifiedMembers(): string[] {
    // Removed, the server's member list here is the last one fetched (still naming this user), not a claim.
    if (!this.#membership.created || this.#removed) return [];
    return this.#info.members.map((m) => m.userId).filter((u) => !this.#membership.members.has(u));
  }

  /** True once this user was removed or left. */
  get removed(): boolean {
    return this.#removed;
  }

  /** Whether `docName` (the meta document or the open segment) is synced live here, so its changes arrive without a refresh. */
  isLiveDoc(docName: string): boolean {
    if (this.#closed || this.#removed) return false;
    const live = docName === this.#openSegment || this.#segments.get(docName)?.seg.state === 'next';
    const doc = docName === this.#meta?.options.name ? this.#meta : live ? this.#segments.get(docName)?.doc : undefined;
    return doc?.link?.synced === true;
  }

  /** Whether older segments remain unloaded. */
  get hasOlder(): boolean {
    return this.#info.segments.some((s) => s.state !== 'next' && !this.#segments.has(s.id));
  }

  /** Frames rejected so far, per segment. */
  invalidFrames(): Array<{ segmentId: string; frame: InvalidFrame }> {
    const out: Array<{ segmentId: string; frame: InvalidFrame }> = [];
    for (const [id, doc] of this.#integrityDocs()) for (const f of doc.binding.invalid) out.push({ segmentId: id, frame: f });
    return out;
  }

  /** The documents whose frames `invalidFrames` and `gaps` report: the meta document, then every loaded segment. */
  #integrityDocs(): Array<[string, EncryptedDoc]> {
    const out: Array<[string, EncryptedDoc]> = this.#meta ? [[this.#meta.options.name, this.#meta]] : [];
    for (const [id, s] of this.#segments) out.push([id, s.doc]);
    return out;
  }

  /** Size of each loaded segment's envelope log (frames and ciphertext bytes). */
  segmentStats(): Array<{ segmentId: string; frames: number; bytes: number; closed: boolean }> {
    return [...this.#segments].map(([id, s]) => ({ segmentId: id, ...logStats(s.doc.binding.log), closed: s.doc.binding.closed }));
  }

  /** Current counter gaps, per segment. */
  gaps(): Array<{ segmentId: string; gaps: CounterGap[] }> {
    return this.#integrityDocs()
      .map(([id, doc]) => ({ segmentId: id, gaps: doc.binding.gaps }))
      .filter((g) => g.gaps.length > 0);
  }

  #knownMember(userId: string): boolean {
    return this.#membership.everMembers.has(userId) || this.#info.members.some((m) => m.userId === userId);
  }

  #verifiedMember(userId: string): boolean {
    return this.#membership.created ? this.#membership.everMembers.has(userId) : this.#info.members.some((m) => m.userId === userId);
  }

  #serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #start(): Promise<void> {
    await this.#loadOutbox();
    this.#blobRefs = (await this.ctx.store.getJson(`blobrefs/${this.id}`, BlobRefQueue)) ?? [];
    await Promise.all(this.#info.members.map((m) => this.ctx.directory.observe(m)));
    await this.keyring.load();
    // Keys are fetched while the meta document loads and syncs (first screen: two round trips overlap); meta
    // frames that arrive before their key wait as pending and are retried below ([BIND-6]).
    const keys = this.#live ? this.#refreshKeys().catch(() => undefined) : undefined;
    this.#meta = await EncryptedDoc.load({
      name: docNameFor('m', this.id),
      convId: this.id,
      self: this.#author,
      epoch: () => Math.max(0, this.keyring.newest),
      resolvers: { ...this.#resolvers, isMember: (u) => this.#knownMember(u) },
      counters: this.ctx.counters,
      store: this.ctx.store,
    });
    this.#meta.inner.on('update', () => this.#recomputeMembership());
    // The membership document's frames can be withheld or forged like a segment's: reported the same way.
    const metaName = this.#meta.options.name;
    for (const f of this.#meta.binding.invalid) this.emit('invalid', { segmentId: metaName, frame: f });
    this.#meta.onBinding((e) => {
      if (e.type === 'invalid') this.emit('invalid', { segmentId: metaName, frame: e.frame });
      else if (e.type === 'gaps') this.emit('gaps', { segmentId: metaName, gaps: e.gaps });
    });
    await this.#prepareMembership();
    this.#recomputeMembership();
    if (!this.#removed) {
      const metaLink = this.#meta.attach(this.ctx.sync, { onFinalClose: (r) => this.#onFinalClose(r) });
      if (this.ctx.sync.online) await Promise.all([keys, withTimeout(metaLink.whenSynced().then(() => this.#meta.binding.whenIdle()), 5000)]);
    }
    if (this.#meta.binding.pendingCount > 0) await this.#meta.binding.retryPending();
    await this.#prepareMembership();
    this.#recomputeMembership();
    const open = this.#currentOpenSegment();
    if (open) await this.#openSegmentLive(open);
    if (this.#live && this.#info.rotationDue) await this.#rotate().catch(() => undefined);
    if (this.#live) void this.#flushBlobRefs();
    await this.#refreshView(); // first screen: the newest entries verified; the rest continues in the background
  }

  /** Whether this conversation talks to the server now: online and still a member. */
  get #live(): boolean {
    return this.ctx.sync.online && !this.#removed;
  }

  #currentOpenSegment(): Segment | undefined {
    const segs = [...this.#info.segments].filter((s) => s.state !== 'next').sort((a, b) => b.idx - a.idx);
    return segs.find((s) => s.state === 'open') ?? segs[0];
  }

  /**
   * Restores a segment's envelope from storage and applies its frames to the segment's own inner doc, which joins
   * the projection when the segment joins the conversation (`#loadSegment`). `history`: a closed segment fetched
   * for history, cached only once loading pauses (`#saveWhenIdle`).
   */
  #openDoc(seg: Segment, history = false): Promise<EncryptedDoc> {
    return EncryptedDoc.load({
      name: seg.id,
      convId: this.id,
      self: this.#author,
      epoch: () => seg.epoch,
      resolvers: this.#resolvers,
      counters: this.ctx.counters,
      store: this.ctx.store,
      closed: seg.state === 'closed',
      ...(history && seg.state === 'closed' ? { saveDelayMs: Number.POSITIVE_INFINITY } : {}),
      onBinding: (e) => {
        if (e.type === 'vouched') this.#vouched.add(e.values); // [INNER-8]
      },
    });
  }

  async #loadSegment(seg: Segment): Promise<EncryptedDoc> {
    const existing = this.#segments.get(seg.id);
    if (existing) return existing.doc;
    const fetched = this.#prefetched.get(seg.id);
    const doc = fetched ? await fetched : await this.#openDoc(seg);
    const again = this.#segments.get(seg.id);
    if (again) return again.doc; // loaded meanwhile (two callers awaited the same prefetch)
    this.#prefetched.delete(seg.id);
    this.#segments.set(seg.id, { seg, doc });
    // [INNER-10] The segment's entries count from now on, ranked by the segment's age.
    this.#projection.addDoc(doc.inner, seg.idx);
    onDocChange(doc.inner, () => this.#scheduleRender()); // no update encoded per applied frame (see onDocChange)
    this.#scheduleRender();
    // Frames rejected before the segment joined the view (stored frames, prefetch) are reported now.
    for (const f of doc.binding.invalid) this.emit('invalid', { segmentId: seg.id, frame: f });
    if (doc.binding.gaps.length > 0) this.emit('gaps', { segmentId: seg.id, gaps: doc.binding.gaps });
    doc.onBinding((e) => {
      if (e.type === 'invalid') this.emit('invalid', { segmentId: seg.id, frame: e.frame });
      else if (e.type === 'gaps') this.emit('gaps', { segmentId: seg.id, gaps: e.gaps });
      if (e.type === 'sealed' && seg.id === this.#openSegment) this.#budget.take(1); // every frame pushed is one sync message
      if ((e.type === 'applied' || e.type === 'sealed') && seg.id === this.#openSegment) this.#maybeCompact();
    });
    return doc;
  }

  async #openSegmentLive(seg: Segment): Promise<void> {
    const doc = await this.#loadSegment(seg);
    if (this.#openSegment === seg.id) return;
    const entry = this.#segments.get(seg.id);
    if (entry) entry.seg = seg; // a segment attached ahead ([SEG-4]) now has its current state
    const previous = this.#openSegment ? this.#segments.get(this.#openSegment) : undefined;
    this.#openSegment = seg.id;
    if (previous && previous.seg.id !== seg.id) {
      previous.doc.binding.close();
      previous.doc.binding.takeUnsent(); // the outbox re-sends these entries in the new segment
      previous.doc.detach();
      // Not awaited: writing the closed segment's cache (up to a full 1 MiB state) held the send path at every
      // size-cap rollover; saves of one document run in order, and close() waits for them.
      void previous.doc.save();
    }
    if (this.#removed) return; // archived: read from storage only
    if (!doc.link) this.#attachLive(doc, seg);
    await this.#replayOutbox();
  }

  #attachLive(doc: EncryptedDoc, seg: Segment): void {
    doc.attach(this.ctx.sync, { onFinalClose: (r) => this.#onFinalClose(r, seg.id), onAwareness: (a) => this.#onAwareness(seg, a) });
  }

  /**
   * [SEG-4] Attaches the segment prepared ahead of the size cap (state `next`): its frames, if any, join the view,
   * and the rollover only has to switch the writer to a document every member already syncs.
   */
  async #attachAhead(seg: Segment): Promise<void> {
    if (this.#segments.has(seg.id) || !this.#live || this.#closed) return;
    const doc = await this.#loadSegment(seg);
    if (!doc.link && !this.#closed) this.#attachLive(doc, seg);
  }

  /**
   * [SEG-4] Attaches the `next` segment after a random delay (up to `ATTACH_AHEAD_JITTER_MS`), if it is still
   * the prepared segment of the current epoch then; a rollover in between opens it as the live segment anyway.
   */
  #attachAheadSoon(segmentId: string): void {
    if (this.#segments.has(segmentId) || this.#aheadTimer !== undefined) return;
    this.#aheadTimer = setTimeout(() => {
      this.#aheadTimer = undefined;
      void this.#serial(async () => {
        const seg = this.#info.segments.find((x) => x.id === segmentId);
        if (!this.#closed && seg?.state === 'next' && seg.epoch === this.#info.currentEpoch) await this.#attachAhead(seg);
      }).catch(() => undefined); // offline or failed: attached as the live segment at the rollover
    }, Math.random() * ATTACH_AHEAD_JITTER_MS);
  }

  /** The segment attached ahead ([SEG-4]), once synced: the size-cap rollover can switch to it at once. */
  #readyAhead(): { seg: Segment; doc: EncryptedDoc } | undefined {
    const next = this.#info.segments.find((x) => x.state === 'next');
    const s = next ? this.#segments.get(next.id) : undefined;
    return s && s.doc.link?.synced && next!.epoch === this.#info.currentEpoch ? { seg: next!, doc: s.doc } : undefined;
  }

  /**
   * Loads the next older segment (read-only; from the device cache when it was fetched before). Resolves
   * false when there is none left.
   */
  async loadOlder(): Promise<boolean> {
    this.#historyBusy++;
    try {
      return await this.#loadOlder();
    } finally {
      this.#historyDone();
    }
  }

  async #loadOlder(): Promise<boolean> {
    const older = [...this.#info.segments].sort((a, b) => b.idx - a.idx).filter((s) => s.state !== 'next' && !this.#segments.has(s.id));
    const next = older[0];
    if (!next) return false;
    // The next few older segments are fetched ahead (network and frame processing overlap with this render);
    // segments that are already fetched join the view in this call, so a loop of loadOlder renders per batch.
    for (const s of older.slice(0, PREFETCH_SEGMENTS)) this.#prefetch(s);
    const batch = [next];
    for (const s of older.slice(1, PREFETCH_SEGMENTS)) {
      if (!this.#fetchedNow.has(s.id)) break;
      batch.push(s);
    }
    for (const s of batch) await this.#loadSegment(s);
    await this.#refreshView();
    return true;
  }

  /** Prefetches whose fetch has finished (their `#prefetched` promise resolved). */
  readonly #fetchedNow = new Set<string>();
  /** Every document a prefetch opened (destroyed by `close` unless it joined the view). */
  readonly #prefetchDocs = new Set<EncryptedDoc>();

  /**
   * Fetches an older segment: from storage, and when it was never completely fetched, from the server (synced,
   * frames applied, saved; closed segments are then marked complete). A closed segment's frames apply straight
   * into the view as they arrive (see `#openDoc`); `loadOlder` joins it (events, gaps) when its turn comes.
   */
  #prefetch(seg: Segment): void {
    if (this.#prefetched.has(seg.id) || this.#segments.has(seg.id)) return;
    const run = (async () => {
      const doc = await this.#openDoc(seg, true);
      this.#prefetchDocs.add(doc);
      const complete = (await this.ctx.store.get(`segdone/${seg.id}`)) !== undefined;
      if (!complete && this.#live && !this.#closed) {
        const link = doc.attach(this.ctx.sync);
        await withTimeout(link.whenSynced(), 10_000);
        if (this.#closed) return doc;
        await doc.binding.whenIdle();
        const synced = link.synced;
        doc.detach();
        // Saved once history loading pauses (the segment can join the view now); marked complete only once
        // saved, so a crash in between means a refetch, never a segment taken as cached while storage lacks it.
        this.#saveWhenIdle(async () => {
          await doc.save();
          if (synced && seg.state === 'closed' && !doc.unsaved) await this.ctx.store.set(`segdone/${seg.id}`, new Uint8Array([1]));
        });
      }
      this.#fetchedNow.add(seg.id);
      return doc;
    })();
    this.#historyBusy++;
    void run.then(
      () => this.#historyDone(),
      () => this.#historyDone(),
    );
    run.catch(() => this.#prefetched.delete(seg.id)); // a failed fetch is retried by the next loadOlder
    this.#prefetched.set(seg.id, run);
  }

  /** Prefetches and `loadOlder` calls in progress: fetched history is cached only when this is 0. */
  #historyBusy = 0;
  /** Caching work for fetched history segments, run by `#runIdleSaves` (one at a time, oldest first). */
  #idleSaves: Array<() => Promise<void>> = [];
  #idleSaveTimer: ReturnType<typeof setTimeout> | undefined;
  #idleSaving = false;

  /**
   * Queues `save` (sealing a fetched history segment into storage costs about as much as decrypting it) to
   * run once history loading pauses, so rendering the history the user waits for comes first. `close()` runs
   * whatever is still queued.
   */
  #saveWhenIdle(save: () => Promise<void>): void {
    this.#idleSaves.push(save);
    this.#scheduleIdleSaves();
  }

  #historyDone(): void {
    this.#historyBusy--;
    this.#scheduleIdleSaves();
  }

  #scheduleIdleSaves(): void {
    if (this.#historyBusy > 0 || this.#idleSaving || this.#idleSaveTimer !== undefined || this.#idleSaves.length === 0) return;
    this.#idleSaveTimer = setTimeout(() => {
      this.#idleSaveTimer = undefined;
      void this.#runIdleSaves(() => this.#historyBusy === 0 && !this.#closed);
    }, 200);
  }

  /** Runs queued saves one by one while `go()` holds (between saves the event loop runs). */
  async #runIdleSaves(go: () => boolean): Promise<void> {
    if (this.#idleSaving) return;
    this.#idleSaving = true;
    try {
      while (this.#idleSaves.length > 0 && go()) {
        await this.#idleSaves.shift()!().catch(() => undefined);
        await new Promise((r) => setTimeout(r, 0));
      }
    } finally {
      this.#idleSaving = false;
      if (!this.#closed) this.#scheduleIdleSaves();
    }
  }

  /** Loads every older segment (fetched a few at a time, rendered per batch). */
  async loadAll(): Promise<void> {
    while (await this.loadOlder()) {
      /* keep going */
    }
  }

  #onFinalClose(reason: DocCloseReason, segmentId?: string): void {
    if (reason === 'segment-closed') {
      if (segmentId === this.#openSegment) void this.refresh().catch(() => undefined);
      return;
    }
    void this.#dropLive();
  }

  async #dropLive(): Promise<void> {
    if (this.#removed) return;
    this.#removed = true;
    this.#meta.detach();
    for (const s of this.#segments.values()) s.doc.detach();
    this.emit('removed', { left: this.#leaving || this.#leftMyself() });
  }

  /** Whether the latest verified change about this user is their own leave (from any of their devices). */
  #leftMyself(): boolean {
    const me = this.ctx.userId;
    for (let i = this.#membership.events.length - 1; i >= 0; i--) {
      const e = this.#membership.events[i]!;
      if (e.type === 'leave' && e.actor === me) return true;
      if (e.type === 'remove' && e.target === me) return false;
    }
    return false;
  }

  async #refreshKeys(fetched?: KeyWrapsResponse): Promise<void> {
    const r = await this.keyring.refresh((u, epoch) => this.#knownMember(u) || u === this.keyring.creator(epoch), fetched);
    for (const p of r.problems) this.emit('key_problem', p);
    await this.#meta?.binding.retryPending();
    for (const s of this.#segments.values()) await s.doc.binding.retryPending();
    // Peer-assisted delivery: wrap the current key for VERIFIED members who lack it (idempotent server-side).
    const epoch = this.#info.currentEpoch;
    const deliver = r.missing.filter((u) => u !== this.ctx.userId && this.#membership.created && this.#membership.members.has(u));
    if (deliver.length > 0 && this.keyring.key(epoch)) {
      const body = await this.keyring.wrapFor(epoch, deliver);
      await this.ctx.transport.request(z.unknown(), 'POST', `/api/conversations/${this.id}/epochs/${epoch}/wraps`, { auth: true, body }).catch(() => undefined);
    }
  }

  /**
   * Refetches the record and keys, follows a new open segment, rotates when due, delivers missing wraps.
   * A 404 means this user is no longer a member: live state is dropped.
   */
  async refresh(): Promise<void> {
    if (this.#closed || this.#removed) return; // removed: the handle is read-only; a re-add opens a new one
    // The round trips run outside the conversation's queue, so sends keep flowing meanwhile; only applying
    // the answers is queued. Keys after the record: they cover every epoch the record names.
    let info: ConversationInfo;
    let keys: KeyWrapsResponse;
    try {
      info = (await this.ctx.transport.request(ConversationResponse, 'GET', `/api/conversations/${this.id}`, { auth: true })).conversation;
      keys = await this.keyring.fetch();
    } catch (e) {
      if (isClientError(e, 'not_found')) await this.#serial(() => this.#dropLive());
      throw e;
    }
    return this.#serial(async () => {
      if (this.#closed) return;
      await this.#apply(info, { keys });
    });
  }

  /**
   * Applies the server's record: members, keys, rotation, the open segment. `keys`: key material fetched
   * with the record, or `false` to keep the keyring as it is (a size-cap rollover: same epoch, same members).
   */
  async #apply(info: ConversationInfo, opts: { keys?: KeyWrapsResponse | false } = {}): Promise<void> {
    this.#info = info;
    for (const m of info.members) await this.ctx.directory.observe(m);
    if (opts.keys !== false || !this.keyring.key(info.currentEpoch)) await this.#refreshKeys(opts.keys || undefined);
    this.#recomputeMembership();
    if (info.rotationDue) await this.#rotate();
    const open = this.#currentOpenSegment();
    if (open && open.id === this.#rolledFrom) {
      // This device already writes to the next segment; the server has not closed this one yet ([SEG-4]).
      void this.#finishRollover(open.id);
    } else if (open && open.id !== this.#openSegment) await this.#openSegmentLive(open);
    else if (open) {
      const s = this.#segments.get(open.id);
      if (s) s.seg = open;
    }
    const next = info.segments.find((x) => x.state === 'next');
    if (next && next.epoch === info.currentEpoch) {
      // The device that asked for it attaches now (it writes there at the cap); the others a moment later.
      if (this.#preparing !== undefined && this.#preparing === this.#openSegment) await this.#attachAhead(next);
      else this.#attachAheadSoon(next.id);
    }
    void this.#refreshView();
  }

  /** Checks the membership log's signatures natively, so the recompute that follows verifies none with noble. */
  async #prepareMembership(): Promise<void> {
    if (!this.#meta) return;
    await this.#membershipSignatures.prepare(membershipRoot(this.#meta.inner).toArray(), { convId: this.id, identityKey: (u) => this.ctx.directory.pinned(u)?.identity });
  }

  #recomputeMembership(): void {
    if (!this.#meta) return;
    const ops = membershipRoot(this.#meta.inner).toArray();
    const creatorId = this.keyring.creator(0);
    const before = this.#membership;
    const memo = this.#membershipInput;
    // computeMembership verifies every op's signature not checked ahead (noble, synchronous): skip it when
    // nothing it reads changed (the same op objects, creator and pinned keys), as on most meta updates.
    const same =
      memo !== undefined &&
      memo.creatorId === creatorId &&
      memo.ops.length === ops.length &&
      memo.ops.every((o, i) => o === ops[i]) &&
      [...memo.keys].every(([u, k]) => this.ctx.directory.pinned(u)?.identity === k);
    if (!same) {
      const keys = new Map<string, Uint8Array | undefined>();
      const identityKey = (u: string) => {
        const k = this.ctx.directory.pinned(u)?.identity;
        keys.set(u, k);
        if (!k) this.#fetchKey(u);
        return k;
      };
      this.#membership = computeMembership(ops, { convId: this.id, creatorId, identityKey, signatures: this.#membershipSignatures });
      this.#membershipInput = { ops, creatorId, keys };
    }
    const changed =
      before.name !== this.#membership.name || JSON.stringify([...before.members]) !== JSON.stringify([...this.#membership.members]);
    if (changed) this.emit('members', { members: this.#membership.members, name: this.#membership.name });
    const unverified = JSON.stringify(this.unverifiedMembers);
    if (unverified !== this.#lastUnverified) {
      this.#lastUnverified = unverified;
      if (this.unverifiedMembers.length > 0) this.emit('unverified', { userIds: this.unverifiedMembers });
    }
    this.#scheduleRender();
  }

  #fetchKey(userId: string): void {
    if (this.#fetching.has(userId)) return;
    this.#fetching.add(userId);
    void this.ctx.directory
      .get(userId)
      .then(() => {
        this.#recomputeMembership();
        this.#scheduleRender();
      })
      .catch(() => undefined);
  }

  // --- rendering ---

  /**
   * Renders soon: in the next timer turn after a cheap render, later after an expensive one (the delay is
   * 4× what the last render cost, at most 250 ms), so a stream of frames spends at most ~20% of the time
   * rendering while a single message shows without an added wait. Rendering is O(changes) plus copying
   * the list (`MessageProjection`, `MessageDecorator`).
   */
  #scheduleRender(): void {
    if (this.#renderTimer !== undefined) return;
    this.#renderTimer = setTimeout(
      () => {
        this.#renderTimer = undefined;
        void this.#refreshView();
      },
      Math.min(250, 4 * this.#renderMs),
    );
  }

  /** An entry just appeared in the view: vouched for by a frame ([INNER-8]), or queued for verification. */
  #settle(value: object): void {
    if (this.#authentic.has(value)) return;
    if (this.#vouched.take(value)) this.#authentic.set(value, true);
    else this.#unchecked.add(value);
  }

  /**
   * Verifies the view's entries that are not settled yet (neither vouched for by a frame, [INNER-8], nor
   * verified), newest first, then renders. Resolves at the next render: the first screen (newest
   * `FIRST_SCREEN` entries) renders before the older ones are verified, in batches that yield to the event
   * loop ([INNER-6], DESIGN §5); results are kept per entry, so re-renders never re-verify. One pass runs at a
   * time; changes during a pass start another after it.
   */
  #refreshView(): Promise<void> {
    this.#viewDirty = true;
    const rendered = new Promise<void>((resolve) => this.#renderWaiters.push(resolve));
    if (!this.#viewPass) {
      this.#viewPass = (async () => {
        try {
          while (this.#viewDirty && !this.#closed) {
            this.#viewDirty = false;
            await this.#verifyPass();
          }
        } finally {
          this.#viewPass = undefined;
          this.#render(); // also releases waiters if a pass failed or the conversation closed
        }
      })();
    }
    return rendered;
  }

  async #verifyPass(): Promise<void> {
    const FIRST_SCREEN = 200;
    const BATCH = 256;
    type Todo = { value: object; author: string; ts: number; id: string; key: Uint8Array; bytes: Uint8Array; sig: Uint8Array };
    const settle = (value: object, ok: boolean) => {
      this.#authentic.set(value, ok);
      this.#unchecked.delete(value);
      this.#projection.invalidate(value);
    };
    const todo: Todo[] = [];
    for (const value of this.#unchecked) {
      if (this.#authentic.has(value)) {
        this.#unchecked.delete(value);
        continue;
      }
      if (this.#vouched.take(value)) {
        settle(value, true); // its frame arrived after the entry did (e.g. after another member's snapshot)
        continue;
      }
      const e = parseMessageEntry(value) ?? parseOpEntry(value);
      if (!e) {
        this.#unchecked.delete(value);
        continue;
      }
      const key = this.ctx.directory.pinned(e.author)?.identity;
      if (!key) {
        this.#fetchKey(e.author); // stays unchecked; verified once the key is pinned (#fetchKey re-renders)
        continue;
      }
      let sig: Uint8Array;
      try {
        sig = fromBase64Url(e.sig);
      } catch {
        settle(value, false);
        continue;
      }
      const bytes = entrySigningBytes(this.id, e);
      const hit = this.#verifyCache.peek(e.author, bytes, sig);
      if (hit !== undefined) settle(value, hit);
      else todo.push({ value, author: e.author, ts: e.ts, id: e.id, key, bytes, sig });
    }
    todo.sort((a, b) => b.ts - a.ts || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
    let lastRender = Date.now();
    for (let i = 0; i < todo.length && !this.#closed; ) {
      const batch = todo.slice(i, (i += i === 0 ? FIRST_SCREEN : BATCH));
      const results = await Promise.all(batch.map((t) => verifyAsync(t.key, CONTEXT.message, t.bytes, t.sig)));
      batch.forEach((t, k) => {
        this.#verifyCache.set(t.author, t.bytes, t.sig, results[k] === true);
        settle(t.value, results[k] === true);
      });
      if (i === FIRST_SCREEN || Date.now() - lastRender > Math.max(250, 4 * this.#renderMs)) {
        this.#render();
        lastRender = Date.now();
      }
      if (i < todo.length) await new Promise((r) => setTimeout(r, 0));
    }
    this.#render();
  }

  #membershipSource: unknown;

  /** Membership decides which entries count: when it changes, the projection recomputes everything. */
  #syncMembership(): void {
    const m = this.#membership;
    // Both sources are replaced, never mutated, when they change: the same objects mean the same key.
    const source = m.created ? m : this.#info;
    if (source === this.#membershipSource) return;
    this.#membershipSource = source;
    const key = m.created ? `c:${[...m.everMembers].sort().join(',')}` : `i:${this.#info.members.map((x) => x.userId).sort().join(',')}`;
    if (key === this.#membershipKey) return;
    this.#membershipKey = key;
    this.#projection.invalidateAll();
  }

  #renderedVersion = -1;

  /**
   * Publishes the list: the projection applies only what changed since the last render, and the decorator
   * rebuilds rendered objects only from the first position whose message, delivery state or readers changed.
   * Emits `change` every time.
   */
  #render(): void {
    const t0 = performance.now();
    this.#syncMembership();
    const { messages, receipts, version } = this.#projection.update();
    if (version !== this.#renderedVersion || this.#decorator.pendingChanged(this.#pending)) {
      this.#renderedVersion = version;
      const marks = new Map<string, number>();
      for (const r of receipts) {
        const pos = this.#projection.indexOf(r.msgId);
        if (pos >= 0) marks.set(r.userId, pos);
      }
      this.#messages = this.#decorator.decorate(messages, marks, this.#pending, (id) => this.#projection.indexOf(id), this.#projection.takeChangedFrom());
    }
    this.#renderMs = performance.now() - t0;
    const waiters = this.#renderWaiters;
    this.#renderWaiters = [];
    this.emit('change', { messages: this.#messages });
    for (const w of waiters) w();
  }

  // --- presence in awareness (encrypted) ---

  #onAwareness(seg: Segment, awareness: Awareness): void {
    const now = Date.now();
    for (const [clientId, state] of awareness.getStates()) {
      if (clientId === awareness.clientID) continue;
      const r = openAwareness(state, {
        convId: this.id,
        segmentId: seg.id,
        epochKey: (e) => this.keyring.key(e),
        identityKey: (u) => this.ctx.directory.pinned(u)?.identity,
        now,
      });
      if (!r.ok || !this.#verifiedMember(r.body.userId)) continue;
      const key = `${r.body.userId}:${r.body.deviceId}`;
      const prev = this.#presence.get(key);
      if (prev && r.body.ctr < prev.ctr) continue; // replayed older state
      this.#presence.set(key, { userId: r.body.userId, typing: r.body.typing, ts: r.body.ts, ctr: r.body.ctr });
    }
    this.#emitTyping();
  }

  #emitTyping(): void {
    const ids = JSON.stringify(this.typing);
    if (ids === this.#typingIds) return;
    this.#typingIds = ids;
    this.emit('typing', { userIds: this.typing });
  }

  /** Other verified members currently typing (states younger than 10 s). */
  get typing(): string[] {
    const now = Date.now();
    const out = new Set<string>();
    for (const p of this.#presence.values()) if (p.typing && now - p.ts < 10_000 && p.userId !== this.ctx.userId) out.add(p.userId);
    return [...out].sort();
  }

  /** Announces (encrypted, signed) whether this device is typing. No-op offline or without a key. */
  setTyping(typing: boolean): void {
    const s = this.#openSegment ? this.#segments.get(this.#openSegment) : undefined;
    const epochKey = s ? this.keyring.key(s.seg.epoch) : undefined;
    if (!s?.doc.link || !epochKey) return;
    const state = sealAwareness({
      convId: this.id,
      segmentId: s.seg.id,
      epoch: s.seg.epoch,
      epochKey,
      signingKey: this.ctx.keys.identity.secretKey,
      body: { userId: this.ctx.userId, deviceId: this.ctx.deviceId, typing, lastRead: null, ts: Date.now(), ctr: ++this.#presenceCtr },
    });
    s.doc.link.awareness.setLocalState(state);
  }

  // --- writing ---

  #entryName(entryId: string): string {
    return `outbox/${this.id}/${entryId}`;
  }

  /**
   * Reads the outbox: one record per entry, plus the old single-record format (`outbox/<convId>`), which is
   * rewritten as per-entry records and then deleted (a crash in between only rewrites the same records).
   */
  async #loadOutbox(): Promise<void> {
    const store = this.ctx.store;
    const prefix = this.#entryName('');
    const found = new Map<string, OutboxEntry>();
    for (const name of await store.list(prefix)) {
      const e = await store.getJson(name, OutboxEntry);
      if (e && name === this.#entryName(e.entry.id)) found.set(e.entry.id, e);
    }
    const legacyName = `outbox/${this.id}`;
    const legacy = await store.getJson(legacyName, LegacyOutboxRecord);
    if (legacy) {
      const missing = legacy.filter((e) => !found.has(e.entry.id));
      await inBatches(missing, (e) => store.setJson(this.#entryName(e.entry.id), e));
      for (const e of missing) found.set(e.entry.id, e);
      await store.delete(legacyName);
    }
    const ordered = [...found.values()].sort((a, b) => entryCounter(a.entry.id) - entryCounter(b.entry.id));
    for (const e of ordered) this.#outbox.set(e.entry.id, e);
  }

  #requireWritable(): { seg: Segment; doc: EncryptedDoc } {
    if (this.#removed) throw new ClientError('forbidden', 'you are no longer a member of this conversation');
    const s = this.#openSegment ? this.#segments.get(this.#openSegment) : undefined;
    if (!s) throw new ClientError('invalid_input', 'the conversation has no open segment');
    return s;
  }

  /** Message counters are reserved in blocks by the store: a send rarely waits for a storage write here. */
  async #nextCounter(): Promise<number> {
    return this.ctx.messageCounters.next(`msg/${this.id}`, 1);
  }

  /**
   * The `ts` of my next entry: my clock, but never before the newest message I have seen (plus 1 ms), so a
   * reply from a device whose clock is behind does not sort above the message it answers ([INNER-5] orders by
   * `(ts, id)`). A newest message more than a day ahead of my clock is not followed (a far-future `ts`, by a
   * broken clock or on purpose, must not drag every later message with it).
   */
  #nextTs(): number {
    const now = Date.now();
    const newest = this.#messages.at(-1)?.ts ?? 0;
    const seen = newest <= now + SKEW_FOLLOW_MS ? newest + 1 : 0;
    this.#lastTs = Math.max(now, this.#lastTs + 1, seen);
    return this.#lastTs;
  }

  /**
   * Puts a signed entry in the outbox (its own sealed record, durable first), then into the open segment's
   * inner doc, and asks for delivery. From the outbox write to the put nothing awaits, so every outbox
   * entry naming the open segment is in its inner doc ([#deliverNow] relies on it).
   */
  async #enqueue(e: OutboxEntry): Promise<void> {
    e.segment = this.#requireWritable().doc.options.name;
    await this.ctx.store.setJson(this.#entryName(e.entry.id), e);
    const { doc } = this.#requireWritable();
    e.segment = doc.options.name; // a rollover during the write: the stored name is only a hint for replays
    this.#outbox.set(e.entry.id, e);
    this.#vouched.add([e.entry]); // [INNER-8] my own entry: vouched for before the projection sees it
    if (e.kind === 'msg') {
      putMessage(doc.inner, e.entry);
      this.#pending.add(e.entry.id);
    } else putOp(doc.inner, e.entry);
    this.#scheduleRender();
    void this.#deliver();
  }

  /**
   * Sends a message; resolves with its id once it is in the local outbox (delivery continues async).
   * `attachments` (from `uploadAttachment`, at most `MAX_ATTACHMENTS`) travel inside the signed, encrypted
   * message ([INNER-7]); once the server has the message, their blobs are attached ([FILE-7]) so garbage
   * collection keeps them (queued across reloads). Sends may overlap (a caller need not await one before
   * the next); their messages keep call order. Throws `TypeError` for invalid local input.
   */
  async send(text: string, options: { replyTo?: string; attachments?: readonly Attachment[] } = {}): Promise<string> {
    this.#requireWritable();
    for (;;) {
      const counter = await this.#nextCounter();
      const m = await signMessageAsync(this.id, this.#author, { counter, ts: this.#nextTs(), text, ...options });
      if (this.#projection.hasKey(m.id)) continue; // id taken (squatted) in a loaded segment: next counter
      if (m.attachments) {
        // Queued before the message exists in the outbox: a crash in between leaks a blob, never loses one.
        this.#blobRefs.push(...blobIdsOf(m.attachments).map((blobId) => ({ op: 'attach' as const, blobId, msgId: m.id })));
        await this.#saveBlobRefs();
      }
      await this.#enqueue({ kind: 'msg', entry: m, segment: '' });
      return m.id;
    }
  }

  async #op(target: string, op: OpBody): Promise<void> {
    this.#requireWritable();
    const counter = await this.#nextCounter();
    const o = await signOpAsync(this.id, this.#author, { counter, ts: this.#nextTs(), target, op });
    await this.#enqueue({ kind: 'op', entry: o, segment: '' });
  }

  /** Replaces the text of one of my messages. */
  edit(msgId: string, text: string): Promise<void> {
    return this.#op(msgId, { type: 'edit', text });
  }

  /** Deletes one of my messages (final); withdraws my references to its files ([FILE-7]). */
  async delete(msgId: string): Promise<void> {
    const files = this.#messages.find((m) => m.id === msgId && m.mine)?.attachments ?? [];
    await this.#op(msgId, { type: 'delete' });
    if (files.length === 0) return;
    this.#blobRefs.push(...blobIdsOf(files).map((blobId) => ({ op: 'detach' as const, blobId, msgId })));
    await this.#saveBlobRefs();
    void this.#flushBlobRefs();
  }

  /**
   * Encrypts and uploads a file (and its thumbnail, if given) into this conversation and returns the
   * `Attachment` to pass to `send`. Nothing is shared until the message is sent; an attachment never sent
   * is garbage-collected by the server after its grace period. Throws `ClientError` like `uploadFile`
   * (`payload_too_large`, `quota_exceeded`, `invalid_input`, `network`, ...); rejects with `signal.reason`
   * when aborted.
   */
  async uploadAttachment(upload: AttachmentUpload): Promise<Attachment> {
    const transport = this.ctx.transport;
    const signal = upload.signal;
    // Blobs created so far: an attachment that fails or is cancelled can never be sent, so they are
    // discarded at once (best effort; the server's GC takes whatever this misses).
    const created: string[] = [];
    const onBlobCreated = ({ blobId }: { blobId: string }) => void created.push(blobId);
    try {
      const file = await uploadFile({
        transport,
        convId: this.id,
        name: upload.name,
        type: upload.type,
        data: upload.data,
        onBlobCreated,
        ...(upload.size !== undefined ? { size: upload.size } : {}),
        ...(upload.onProgress ? { onProgress: upload.onProgress } : {}),
        ...(signal ? { signal } : {}),
      });
      const t = upload.thumbnail;
      if (!t) return { file };
      const thumb = await uploadFile({ transport, convId: this.id, name: thumbName(upload.name), type: t.type, data: t.data, onBlobCreated, ...(signal ? { signal } : {}) });
      return { file, thumb, width: t.width, height: t.height };
    } catch (e) {
      await Promise.allSettled(created.map((blobId) => discardFile({ transport, blobId })));
      throw e;
    }
  }

  /**
   * Deletes the uploaded blobs of an attachment that will not be sent (the user removed it from the
   * composer), freeing the user's quota now. Already-deleted blobs count as done; `conflict` if a sent
   * message carries it (delete the message instead).
   */
  async discardAttachment(attachment: Attachment): Promise<void> {
    for (const blobId of blobIdsOf([attachment])) await discardFile({ transport: this.ctx.transport, blobId });
  }

  /** Uploads one file and sends it as a message (with optional text and reply); resolves with the message id. */
  async sendFile(upload: AttachmentUpload & { text?: string; replyTo?: string }): Promise<string> {
    const attachment = await this.uploadAttachment(upload);
    return this.send(upload.text ?? '', { attachments: [attachment], ...(upload.replyTo !== undefined ? { replyTo: upload.replyTo } : {}) });
  }

  /**
   * Downloads and verifies a file of a message (`attachment.file` or `attachment.thumb`). Integrity
   * failures are results (`blob_tampered`, `blob_truncated`, `hash_mismatch`, `invalid_ref`), never
   * plaintext; throws `ClientError` like `downloadFile` (`not_found` for a removed member or a deleted blob).
   */
  downloadAttachment(ref: unknown, options: { onProgress?: (p: FileProgress) => void; signal?: AbortSignal; sink?: (chunk: Uint8Array) => void | Promise<void> } = {}): Promise<DownloadResult> {
    return downloadFile({ transport: this.ctx.transport, ref, ...options });
  }

  async #saveBlobRefs(): Promise<void> {
    await this.ctx.store.setJson(`blobrefs/${this.id}`, this.#blobRefs);
  }

  /** A message is on the server once it left both the outbox and the pending (unacknowledged) set. */
  #onServer(msgId: string): boolean {
    return !this.#pending.has(msgId) && this.#outbox.get(msgId)?.kind !== 'msg';
  }

  /**
   * Tells the server about queued attaches and detaches, in order, one runner at a time. An attach waits
   * until its message is acknowledged; `not_found` (blob gone, no longer a member) drops a task; other
   * failures leave it for the next delivery or start.
   */
  #flushBlobRefs(): Promise<void> {
    if (this.#blobRefsRunning) return this.#blobRefsRunning;
    const run = async () => {
      while (!this.#closed) {
        const task = this.#blobRefs.find((t) => t.op === 'detach' || this.#onServer(t.msgId));
        if (!task) return;
        try {
          await (task.op === 'attach' ? attachFile : detachFile)({ transport: this.ctx.transport, blobId: task.blobId });
        } catch (e) {
          if (!isClientError(e, 'not_found')) return;
        }
        this.#blobRefs = this.#blobRefs.filter((t) => t !== task);
        await this.#saveBlobRefs();
      }
    };
    this.#blobRefsRunning = run()
      .catch(() => undefined)
      .finally(() => (this.#blobRefsRunning = undefined));
    return this.#blobRefsRunning;
  }

  /** Resolves when every queued attach/detach reached the server (or after `timeoutMs`); for tests and shutdown. */
  async whenFilesSettled(timeoutMs = 10_000): Promise<boolean> {
    const start = Date.now();
    while (this.#blobRefs.length > 0) {
      if (Date.now() - start > timeoutMs) return false;
      await this.#flushBlobRefs();
      await new Promise((r) => setTimeout(r, 20));
    }
    return true;
  }

  /** Adds (on) or removes (off) my reaction. */
  react(msgId: string, emoji: string, on = true): Promise<void> {
    return this.#op(msgId, { type: 'react', emoji, on });
  }

  /** Sends a reply. */
  reply(msgId: string, text: string): Promise<string> {
    return this.send(text, { replyTo: msgId });
  }

  /** Marks everything up to `msgId` (default: the newest message) as read; no-op when already read. */
  async markRead(msgId?: string): Promise<void> {
    if (this.#removed) return; // no longer a member: receipts cannot be written
    const target = msgId ?? this.#messages.at(-1)?.id;
    if (!target) return;
    const idx = this.#messages.findIndex((m) => m.id === target);
    if (idx >= 0 && this.#lastReadIndex() >= idx) return;
    await this.#op(target, { type: 'read' });
  }

  #lastReadIndex(): number {
    const r = this.#projection.update().receipts.find((x) => x.userId === this.ctx.userId);
    if (!r) return -1;
    return this.#messages.findIndex((x) => x.id === r.msgId);
  }

  /** Number of messages from others after my last read receipt. */
  get unread(): number {
    if (this.#removed) return 0; // nothing can be marked read any more
    const last = this.#lastReadIndex();
    return this.#messages.slice(last + 1).filter((m) => !m.mine && !m.deleted).length;
  }

  /**
   * Puts outbox entries that are not yet in the open segment into it (after a start, or a rollover: the
   * closed segment's unsealed updates were dropped). Entries already there (sealed before a crash, not yet
   * removed from the outbox) stay pending until the next delivery confirms them.
   */
  async #replayOutbox(): Promise<void> {
    const s = this.#openSegment ? this.#segments.get(this.#openSegment) : undefined;
    if (!s || this.#outbox.size === 0) return;
    const name = s.doc.options.name;
    const { messages, ops } = innerRoots(s.doc.inner);
    let opSigs: Set<unknown> | undefined;
    const inDoc = (e: OutboxEntry) => {
      if (e.kind === 'msg') return messages.has(e.entry.id);
      opSigs ??= new Set(ops.toArray().map((o) => (typeof o === 'object' && o !== null ? (o as { sig?: unknown }).sig : undefined)));
      return opSigs.has(e.entry.sig);
    };
    const moved: OutboxEntry[] = [];
    for (const e of this.#outbox.values()) {
      if (!inDoc(e)) {
        this.#vouched.add([e.entry]); // [INNER-8] as in #enqueue
        if (e.kind === 'msg') putMessage(s.doc.inner, e.entry);
        else putOp(s.doc.inner, e.entry);
      }
      if (e.kind === 'msg') this.#pending.add(e.entry.id);
      if (e.segment !== name) {
        e.segment = name;
        moved.push(e);
      }
    }
    await inBatches(moved, (e) => this.ctx.store.setJson(this.#entryName(e.entry.id), e));
    void this.#deliver();
  }

  /**
   * Seals what is waiting into the open segment and lets it go to the server. No fixed delay: with no flush
   * running, a message goes at once; calls made while one runs join the next flush (natural batching, as
   * sealing is async). Flushes also wait for the client-side budget (`FlushBudget`), so a sustained fast
   * sender batches more per frame instead of outrunning the server's per-connection message budget.
   */
  #deliver(): Promise<void> {
    if (this.#deliverQueued) return this.#deliverQueued;
    const run = this.#serial(async () => {
      // One macrotask first: signatures and storage writes of concurrent sends that already finished land in
      // this flush instead of each getting a frame of its own (sealing itself never yields to them).
      await nextMacrotask();
      for (let wait = this.#budget.delay(); wait > 0 && !this.#closed; wait = this.#budget.delay()) await new Promise((r) => setTimeout(r, wait));
      this.#deliverQueued = undefined;
      await this.#deliverNow();
    });
    const guarded: Promise<void> = run
      .catch(() => undefined)
      .finally(() => {
        if (this.#deliverQueued === guarded) this.#deliverQueued = undefined;
      });
    this.#deliverQueued = guarded;
    return run;
  }

  /**
   * One flush: every outbox entry naming the open segment is in its inner doc (see `#enqueue`), so once the
   * flush (seal + local save) succeeds those entries are in the persisted envelope and leave the in-memory
   * outbox; their messages turn `sent` when the server acknowledges. Their stored outbox records stay until
   * then: a restart before the acknowledgement (a reload while offline) finds them, sees them in the doc
   * already (`#replayOutbox` does not add them again) and shows those messages as sending, not sent.
   */
  async #deliverNow(): Promise<void> {
    const s = this.#openSegment ? this.#segments.get(this.#openSegment) : undefined;
    if (!s) return;
    const name = s.doc.options.name;
    const batch = [...this.#outbox.values()].filter((e) => e.segment === name);
    const r = await s.doc.flush();
    if (!r.ok) return; // closed (a new segment will take the outbox) or no key yet (retried on refresh)
    const ids: string[] = [];
    const sealed: string[] = [];
    for (const e of batch) {
      if (this.#outbox.get(e.entry.id) !== e || e.segment !== name) continue;
      this.#outbox.delete(e.entry.id);
      sealed.push(e.entry.id);
      if (e.kind === 'msg') ids.push(e.entry.id);
    }
    const forget = () => inBatches(sealed, (id) => this.ctx.store.delete(this.#entryName(id)));
    const link = s.doc.link;
    if (!link) await forget();
    else if (sealed.length > 0)
      void link.whenAcked().then(async () => {
        for (const id of ids) this.#pending.delete(id);
        this.#scheduleRender();
        if (this.#blobRefs.length > 0) void this.#flushBlobRefs();
        if (!this.#closed) await forget().catch(() => undefined); // a later start sends them again if need be
      });
    await this.#maybeRollover(s);
  }

  /** Resolves true once every message of mine is acknowledged by the server and `messages` shows it (false after `timeoutMs`). */
  async whenDelivered(timeoutMs = 10_000): Promise<boolean> {
    const start = Date.now();
    while (this.#pending.size > 0 || this.#outbox.size > 0) {
      if (Date.now() - start > timeoutMs) return false;
      await new Promise((r) => setTimeout(r, 20));
    }
    // `messages` shows the delivery too: wait for the render the last acknowledgement scheduled.
    if (this.#decorator.pendingChanged(this.#pending) && !this.#closed) {
      await new Promise<void>((r) => {
        this.#renderWaiters.push(r);
        this.#scheduleRender();
      });
    }
    return true;
  }

  async #maybeRollover(s: { seg: Segment; doc: EncryptedDoc }): Promise<void> {
    const bytes = s.doc.binding.logBytes;
    if (!this.ctx.sync.online) return;
    // [SEG-4] Past SEGMENT_PREPARE_BYTES the next segment is created, so members attach to it before the cap.
    if (bytes > SEGMENT_PREPARE_BYTES && this.#preparing !== s.seg.id && !this.#info.segments.some((x) => x.state === 'next')) {
      this.#preparing = s.seg.id;
      void this.#prepareNext(s.seg.id);
    }
    const d = rolloverDecision({ segmentEpoch: s.seg.epoch, currentEpoch: this.#info.currentEpoch, segmentBytes: bytes });
    if (!d.rollover || d.reason !== 'size_cap') return;
    // Close the segment only once the server holds every frame sealed into it: a frame still in flight when
    // the rollover lands would be refused by the now read-only segment and its messages would wait for a
    // re-seal into the new one (seconds, measured in bench (a)). Bounded: offline or stuck, roll over anyway.
    if (s.doc.link) await withTimeout(s.doc.link.whenAcked(), 5_000);
    const ahead = this.#readyAhead();
    if (ahead) {
      // Every member already syncs the next segment: write there now, and close this one in the background.
      this.#rolledFrom = s.seg.id;
      await this.#openSegmentLive(ahead.seg);
      void this.#finishRollover(s.seg.id);
      return;
    }
    const res = await this.ctx.transport.request(ConversationResponse, 'POST', `/api/conversations/${this.id}/segments/rollover`, {
      auth: true,
      body: { fromSegmentId: s.seg.id },
    });
    await this.#apply(res.conversation, this.#sameKeys(res.conversation));
  }

  /** Same epoch and members (a size-cap rollover, a prepared segment): no key round trip on the send path. */
  #sameKeys(next: ConversationInfo): { keys?: false } {
    return sameUserIds(next.members, this.#info.members) && next.currentEpoch === this.#info.currentEpoch ? { keys: false } : {};
  }

  /** [SEG-4] Asks the server for the next segment (idempotent) and attaches to it. */
  async #prepareNext(fromSegmentId: string): Promise<void> {
    try {
      const res = await this.ctx.transport.request(ConversationResponse, 'POST', `/api/conversations/${this.id}/segments/next`, { auth: true, body: { fromSegmentId } });
      await this.#serial(async () => {
        if (!this.#closed) await this.#apply(res.conversation, this.#sameKeys(res.conversation));
      });
    } catch {
      if (this.#preparing === fromSegmentId) this.#preparing = undefined; // asked again at the next flush
    }
  }

  /** [SEG-4] After switching to the next segment: closes `fromSegmentId` on the server (retried by `#apply`). */
  async #finishRollover(fromSegmentId: string): Promise<void> {
    if (this.#finishing === fromSegmentId) return;
    this.#finishing = fromSegmentId;
    try {
      const res = await this.ctx.transport.request(ConversationResponse, 'POST', `/api/conversations/${this.id}/segments/rollover`, {
        auth: true,
        body: { fromSegmentId },
      });
      if (!res.conversation.segments.some((x) => x.id === fromSegmentId && x.state === 'open')) this.#rolledFrom = undefined;
      await this.#serial(async () => {
        if (!this.#closed) await this.#apply(res.conversation, this.#sameKeys(res.conversation));
      });
    } catch {
      /* the next record this device applies still shows it open: #apply asks again */
    } finally {
      this.#finishing = undefined;
    }
  }


  /** A frame was applied to or sealed into the open segment: compact it when it needs it, at a quiet moment. */
  #maybeCompact(): void {
    this.#lastFrameAt = Date.now();
    this.#scheduleCompaction();
  }

  /**
   * [COMPACT-1] Schedules the open segment's compaction for `compactionWait` (the first quiet moment, or at the
   * latest `COMPACT_MAX_DEFER_MS` after it first needed it). The timer re-checks on firing: frames that came in
   * meanwhile push it back. Jitter: usually only one device compacts; concurrent compactions are safe anyway
   * ([COMPACT-6]).
   */
  #scheduleCompaction(): void {
    const segmentId = this.#openSegment;
    const s = segmentId ? this.#segments.get(segmentId) : undefined;
    if (!s || !segmentId || this.#compactTimer !== undefined || this.#closed) return;
    if (!s.doc.binding.needsCompaction()) {
      this.#compactRound = undefined;
      return;
    }
    if (this.#compactRound?.segmentId !== segmentId) this.#compactRound = { segmentId, neededSince: Date.now(), jitter: 300 + Math.random() * 2000 };
    const { neededSince, jitter } = this.#compactRound;
    const wait = () => compactionWait({ now: Date.now(), lastFrameAt: this.#lastFrameAt, neededSince, jitter });
    this.#compactTimer = setTimeout(() => {
      this.#compactTimer = undefined;
      if (this.#closed || this.#openSegment !== segmentId) return;
      if (wait() > 0) {
        this.#scheduleCompaction(); // frames came in meanwhile
        return;
      }
      this.#compactRound = undefined;
      if (s.doc.binding.needsCompaction()) void s.doc.binding.compact().then(() => s.doc.save());
    }, wait());
  }

  // --- membership (admins) ---

  async #writeMembership(...ops: MembershipBody[]): Promise<void> {
    const ts = Date.now();
    ops.forEach((op, i) => putMembershipOp(this.#meta.inner, signMembershipOp(this.id, this.#author, op, ts + i)));
    const r = await this.#meta.flush();
    if (!r.ok) throw new ClientError('invalid_input', `cannot write the membership change (${r.code})`);
    if (this.#meta.link) await withTimeout(this.#meta.link.whenAcked(), 10_000);
    this.#recomputeMembership();
  }

  /** Writes the initial signed membership (the creator does this right after creating). */
  async writeCreate(members: Array<{ userId: string; role: 'admin' | 'member' }>, name?: string): Promise<void> {
    const create: MembershipBody = { type: 'create', kind: this.#info.kind, members };
    await this.#writeMembership(...(name !== undefined ? [create, { type: 'rename' as const, name }] : [create]));
  }

  /** Renames the group (admins). The name is only in the encrypted meta document. */
  rename(name: string): Promise<void> {
    return this.#writeMembership({ type: 'rename', name });
  }

  /** Adds a member (admins): signed add op first, then the server call carrying their key wrap. */
  async addMember(userId: string, role: 'admin' | 'member' = 'member'): Promise<void> {
    if (this.#membership.members.has(userId)) throw new ClientError('invalid_input', 'already a member of this conversation');
    await this.ctx.directory.get(userId);
    await this.#writeMembership({ type: 'add', userId, role });
    const epoch = this.#info.currentEpoch;
    const { wraps } = await this.keyring.wrapFor(epoch, [userId]);
    const res = await this.ctx.transport.request(ConversationResponse, 'POST', `/api/conversations/${this.id}/members`, {
      auth: true,
      body: { userId, role, wrap: wraps[0] },
    });
    await this.#serial(() => this.#apply(res.conversation));
  }

  /** Removes a member (admins): signed remove op, then the next epoch (wrapped for those who remain). */
  async removeMember(userId: string): Promise<void> {
    await this.#writeMembership({ type: 'remove', userId });
    const remaining = this.#info.members.map((m) => m.userId).filter((u) => u !== userId);
    this.#assertAllVerified(remaining);
    const { upload, commit } = await this.keyring.newEpoch(this.#info.currentEpoch + 1, remaining);
    const res = await this.ctx.transport.request(ConversationResponse, 'POST', `/api/conversations/${this.id}/members/${userId}/remove`, {
      auth: true,
      body: { epoch: upload },
    });
    await commit();
    await this.#serial(() => this.#apply(res.conversation));
  }

  #assertAllVerified(userIds: string[]): void {
    const bad = userIds.filter((u) => this.#membership.created && !this.#membership.members.has(u));
    if (bad.length > 0) {
      this.emit('rotation_blocked', { unverified: bad });
      throw new ClientError('forbidden', 'the server lists members no admin signed for; refusing to give them a key', { details: bad });
    }
  }

  /** Leaves: a signed leave op, then the server call; a remaining member rotates the key. */
  async leave(): Promise<void> {
    this.#leaving = true;
    await this.#writeMembership({ type: 'leave' }).catch(() => undefined);
    await this.ctx.transport.request(z.unknown(), 'POST', `/api/conversations/${this.id}/leave`, { auth: true, body: {} });
    await this.#dropLive();
  }

  /** Creates the next epoch when a rotation is due (any member); a lost race (409) just refetches. */
  async #rotate(): Promise<void> {
    const members = this.#info.members.map((m) => m.userId);
    try {
      this.#assertAllVerified(members);
    } catch {
      return;
    }
    const { upload, commit } = await this.keyring.newEpoch(this.#info.currentEpoch + 1, members);
    try {
      const res = await this.ctx.transport.request(ConversationResponse, 'POST', `/api/conversations/${this.id}/epochs`, { auth: true, body: upload });
      await commit();
      this.#info = res.conversation;
      await this.#refreshKeys();
    } catch (e) {
      if (!isClientError(e, 'conflict', 'forbidden')) throw e;
      this.#info = (await this.ctx.transport.request(ConversationResponse, 'GET', `/api/conversations/${this.id}`, { auth: true })).conversation;
      await this.#refreshKeys();
    }
  }

  /** Whether `close()` was called (the handle is unusable; `ParleyClient.open` gives a new one). */
  get closed(): boolean {
    return this.#closed;
  }

  #closing: Promise<void> | undefined;

  /** Detaches from the server and persists; the handle is unusable afterwards. Idempotent (same promise). */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#closed = true;
    if (this.#renderTimer !== undefined) clearTimeout(this.#renderTimer);
    if (this.#compactTimer !== undefined) clearTimeout(this.#compactTimer);
    if (this.#aheadTimer !== undefined) clearTimeout(this.#aheadTimer);
    await this.#queue;
    if (this.#idleSaveTimer !== undefined) clearTimeout(this.#idleSaveTimer);
    this.#idleSaveTimer = undefined;
    while (this.#idleSaving) await new Promise((r) => setTimeout(r, 5));
    await this.#runIdleSaves(() => true); // fetched history is cached before the documents go
    await this.#meta.destroy();
    for (const s of this.#segments.values()) await s.doc.destroy();
    for (const d of this.#prefetchDocs) if (!this.#segments.has(d.options.name)) await d.destroy();
  }
}

/** Whether two member lists name the same users (order aside). */
function sameUserIds(a: ReadonlyArray<{ userId: string }>, b: ReadonlyArray<{ userId: string }>): boolean {
  if (a.length !== b.length) return false;
  const ids = new Set(a.map((m) => m.userId));
  return b.every((m) => ids.has(m.userId));
}
