/**
 * EnvelopeBinding: keeps an in-memory inner Y.Doc in step with the synced envelope doc whose only root is
 * `log: Y.Array<Uint8Array>` ([BIND-*], [COMPACT-*]).
 *
 * - Local inner updates are coalesced (default 150 ms, or `flush()`), sealed with a strictly increasing
 *   per-device counter and appended to `log`.
 * - Every frame observed in `log` (including the initial content of a persisted envelope) is verified,
 *   opened, checked for clientID ownership and applied to the inner doc with origin `REMOTE_ORIGIN`.
 *   Invalid frames are recorded and skipped; they never stop other frames from applying.
 * - Before an `update` frame is applied, the entries it carries that name its signer are reported (`vouched`,
 *   [INNER-8]): the frame signature vouches for them, so readers need not verify their own signatures. The same
 *   holds for a version-2 snapshot's entries naming its signer, minus the ones it excludes ([COMPACT-3]).
 * - Frames whose epoch key is missing wait in `pending` until `retryPending()`.
 * - `compact()` replaces covered frames with one snapshot frame in one envelope transaction; frames deleted by
 *   someone else without a covering snapshot in the same transaction are pushed back (repair rule).
 *
 * All frame processing runs on one serial queue; `whenIdle()` resolves once it has drained.
 */
import * as Y from 'yjs';
import { CONTEXT, sha256, sha256Async, signingPublicKey, verifyAsync } from '../crypto/index.ts';
import { FRAME_MAX_BYTES, FRAME_MIN_BYTES, fromBase64Url, parseFrame, toBase64Url } from '../protocol/index.ts';
import {
  deviceKey,
  encodableVouch,
  encodeSnapshotPayload,
  FrameTooLargeError,
  sealFrameAsync,
  verifyAndOpenFrame,
  type Coverage,
  type FrameErrorCode,
  type FrameResolvers,
  type OpenedFrame,
  type OpenResult,
  type FrameScope,
  type SnapshotVouch,
} from './frame.ts';
import { DeviceCounters, type CounterGap, type CounterStore } from './counters.ts';
import { ClientOwnership, deletesOthersItems, overwritesMessages, tryDecodeUpdate, writesOthersKeys } from './ownership.ts';
import { snapshotOmits, structRanges, type AppliedFrame, type StructRanges } from './snapshot-check.ts';
import { authoredValues, entrySigningBytes, parseMessageEntry, parseOpEntry, VouchedEntries } from './inner.ts';
import { LogAppender } from './log-append.ts';
import { logChanges, shouldCompact, type CompactThresholds } from './segments.ts';

/** Origin of inner-doc transactions that came from frames: never sealed again. */
export const REMOTE_ORIGIN: unique symbol = Symbol('parley.envelope.remote');
/** Origin of envelope transactions made by a binding (its own frames, compactions, repairs). */
export const BINDING_ORIGIN: unique symbol = Symbol('parley.envelope.binding');

/** Name of the single root of every envelope doc. */
export const LOG_NAME = 'log';

/** Default coalescing window for local inner updates ([BIND-1]). */
export const DEFAULT_COALESCE_MS = 150;

/** The local author. `signingKey` is the user's Ed25519 identity secret (shared by all their devices). */
export interface LocalAuthor {
  userId: string;
  deviceId: string;
  signingKey: Uint8Array;
}

/** Options of `EnvelopeBinding`. */
export interface EnvelopeBindingOptions {
  envelope: Y.Doc;
  inner: Y.Doc;
  scope: FrameScope;
  self: LocalAuthor;
  /** Epoch this device writes with (the segment's epoch). */
  epoch: number;
  resolvers: FrameResolvers;
  counters: CounterStore;
  /** Coalescing window in ms; `Infinity` means "only on flush()". Default `DEFAULT_COALESCE_MS`. */
  coalesceMs?: number;
  /**
   * Start closed (a read-only segment). Its inner doc's local updates are then not watched at all (nothing
   * can be sealed into it, and not listening spares Yjs encoding an update for every applied frame).
   */
  closed?: boolean;
}

/** A frame that was skipped, with where it sat in `log` when it was skipped (-1: no longer there). */
export interface InvalidFrame {
  index: number;
  code: FrameErrorCode;
  userId?: string;
  deviceId?: string;
  counter?: number;
}

/** Everything a binding reports. */
export type BindingEvent =
  | { type: 'applied'; userId: string; deviceId: string; counter: number; kind: 'update' | 'snapshot' }
  /**
   * [INNER-8]: an `update` frame signed by `userId` is about to be applied; `values` are the inner entry
   * objects it carries that name `userId` as author (its signature vouches for exactly these contents).
   * For snapshots only with payload version 2 ([COMPACT-3]): the entries naming `userId` that the snapshot
   * does not exclude. Never for version-1 snapshots.
   */
  | { type: 'vouched'; userId: string; values: object[] }
  | { type: 'invalid'; frame: InvalidFrame }
  | { type: 'pending'; epoch: number }
  | { type: 'gaps'; gaps: CounterGap[] }
  | { type: 'repaired'; frames: number }
  | { type: 'repair_blocked'; frames: number }
  | { type: 'sealed'; counter: number; bytes: number }
  | { type: 'compacted'; removed: number; bytes: number }
  | { type: 'local_dropped'; reason: 'too_large' | 'foreign_client'; bytes: number }
  | { type: 'error'; error: unknown };

/** Result of writing: never throws for expected conditions. */
export type WriteResult<T> = { ok: true; value: T } | { ok: false; code: 'segment_closed' | 'unknown_epoch' | 'too_large' };

type FrameRecord =
  | { status: 'applied'; userId: string; deviceId: string; counter: number; coverage: Coverage | undefined; ranges?: StructRanges }
  | { status: 'invalid'; code: FrameErrorCode }
  | { status: 'pending' };

/** Invalid codes that mean "garbage for everyone", so compaction may delete such frames ([COMPACT-2]). */
const GARBAGE: ReadonlySet<FrameErrorCode> = new Set(['malformed', 'unsupported_version', 'too_large']);

/** Frames of one batch opened (verified, decrypted) ahead of the one being applied ([BIND-2]). */
const OPEN_AHEAD = 16;

/** Per-frame overhead: header, tag, signature (snapshot payload headers are small and counted separately). */
const FRAME_OVERHEAD = 70 + 16 + 64;

/** Signature checks a compaction runs at once for entries it must vouch for ([COMPACT-3]). */
const VOUCH_VERIFY_BATCH = 64;

/**
 * Batches of more frame bytes than this hash their frame ids with the platform's native SHA-256 (`sha256Async`)
 * first: about 6x less main-thread time per byte for history, one async round trip more, so live frames, which
 * arrive alone and small, keep the synchronous hash.
 */
const NATIVE_ID_BATCH_BYTES = 64 * 1024;

/**
 * Frame ids by frame object. A log hands out the same `Uint8Array` for a frame every time and nothing here ever
 * writes into one, so the hash of its bytes is computed once (compaction asks for every frame's id again).
 */
const frameIds = new WeakMap<Uint8Array, string>();

/** Identity of a frame: hash of all its bytes (two frames differing in any byte are different frames). */
export function frameId(frame: Uint8Array): string {
  let id = frameIds.get(frame);
  if (id === undefined) frameIds.set(frame, (id = toBase64Url(sha256(frame))));
  return id;
}

/** `frameId` for many frames, with the native hash when they are large together (see `NATIVE_ID_BATCH_BYTES`). */
async function prepareFrameIds(frames: readonly unknown[]): Promise<void> {
  const todo = frames.filter((f): f is Uint8Array => f instanceof Uint8Array && !frameIds.has(f));
  if (todo.reduce((n, f) => n + f.length, 0) <= NATIVE_ID_BATCH_BYTES) return;
  await Promise.all(todo.map(async (f) => frameIds.set(f, toBase64Url(await sha256Async(f)))));
}

/** See the module comment. Construct, then `await whenIdle()` to have the initial log applied. */
export class EnvelopeBinding {
  readonly log: Y.Array<unknown>;
  /** Appends this binding's frames without walking the log (see log-append.ts). */
  private readonly appender: LogAppender;
  private readonly o: EnvelopeBindingOptions;
  private readonly records = new Map<string, FrameRecord>();
  private readonly pendingFrames = new Map<string, Uint8Array>();
  private readonly counters = new DeviceCounters();
  private readonly ownership = new ClientOwnership();
  private readonly listeners = new Set<(e: BindingEvent) => void>();
  private readonly invalidList: InvalidFrame[] = [];
  private unsent: Uint8Array[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private lastGaps = '[]';
  private isClosed: boolean;
  private destroyed = false;
  /**
   * Applied snapshot frames (by object: the log holds these very arrays), for `needsCompaction`: the ones that
   * may still be in `log` (pruned there); `inLog` says which frame objects are.
   */
  private readonly snapshotFrames = new Set<Uint8Array>();
  /** Frame objects in `log` now, kept by `onLog` (a deleted frame leaves; a re-inserted one is a new object). */
  private readonly inLog = new WeakSet<Uint8Array>();
  /** A compaction found the state too large for one frame (see `snapshotTooLarge`). */
  private tooLarge = false;
  /**
   * [COMPACT-3] Contents of entries naming the local user known to be authentic: sealed by this binding, carried
   * by an `update` frame or a version-2 snapshot signed by the local user, or whose signature a compaction
   * checked. Undefined once closed (a closed segment never compacts).
   */
  private ownAuthentic: VouchedEntries | undefined;
  private ownPublicKey: Uint8Array | undefined;
  private readonly onInner = (update: Uint8Array, origin: unknown) => {
    if (origin === REMOTE_ORIGIN || this.destroyed) return;
    this.unsent.push(update);
    this.schedule();
  };
  /** Whether `onInner` is subscribed to the inner doc's `update` event now (see `onInnerCleanup`). */
  private listening = false;
  /**
   * Subscribes `onInner` for local transactions only. While anyone listens to `update`, Yjs encodes an update
   * for every transaction, including each frame applied here (REMOTE_ORIGIN, the most common transaction on a
   * receiving device), only for `onInner` to drop it: ~3% of a full receiver's time in bench (a). Yjs emits
   * `afterTransactionCleanup` for a transaction right before it checks for `update` listeners for that same
   * transaction (also when an observer started another one), so matching the subscription to the origin
   * here decides exactly which transactions are encoded. Other `update` listeners on the inner doc would make
   * Yjs encode anyway (harmless); the conversation's view listens with `onDocChange` instead.
   */
  private readonly onInnerCleanup = (tr: Y.Transaction) => {
    const want = tr.origin !== REMOTE_ORIGIN && !this.destroyed;
    if (want === this.listening) return;
    this.listening = want;
    if (want) this.o.inner.on('update', this.onInner);
    else this.o.inner.off('update', this.onInner);
  };
  private readonly onLog = (_event: Y.YArrayEvent<unknown>, tr: Y.Transaction) => {
    const { inserted, deleted } = logChanges(this.log, tr);
    for (const f of inserted) if (f instanceof Uint8Array) this.enterLog(f);
    for (const f of deleted) if (f instanceof Uint8Array) this.leaveLog(f);
    const own = tr.origin === BINDING_ORIGIN;
    // [COMPACT-5] deleted content is readable in the observer only, hence collected now.
    this.enqueue(() => this.processBatch(inserted, own ? [] : deleted));
  };
  /** Bytes of the frames in `log`, kept up to date by `onLog` (see `logBytes`). */
  private bytes = 0;

  private enterLog(f: Uint8Array): void {
    this.bytes += f.length;
    this.inLog.add(f);
  }

  private leaveLog(f: Uint8Array): void {
    this.bytes -= f.length;
    this.inLog.delete(f);
    this.snapshotFrames.delete(f);
  }

  constructor(options: EnvelopeBindingOptions) {
    this.o = options;
    this.isClosed = options.closed ?? false;
    this.ownAuthentic = this.isClosed ? undefined : new VouchedEntries();
    this.log = options.envelope.getArray<unknown>(LOG_NAME);
    this.appender = new LogAppender(this.log);
    if (!this.isClosed) options.inner.on('afterTransactionCleanup', this.onInnerCleanup);
    this.log.observe(this.onLog);
    const initial = this.log.toArray();
    for (const f of initial) if (f instanceof Uint8Array) this.enterLog(f);
    if (initial.length > 0) this.enqueue(() => this.processBatch(initial, []));
  }

  /** Subscribes to events; returns the unsubscribe function. */
  on(listener: (e: BindingEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Total bytes of the frames in `log` now (`logStats(log).bytes` without walking the log). */
  get logBytes(): number {
    return this.bytes;
  }

  /** Frames skipped so far, in the order they were observed. */
  get invalid(): readonly InvalidFrame[] {
    return this.invalidList;
  }

  /** Current counter gaps per device: frames missing (withheld or not delivered yet) ([FRAME-8]). */
  get gaps(): CounterGap[] {
    return this.counters.gaps();
  }

  /** Number of frames waiting for their epoch key. */
  get pendingCount(): number {
    return this.pendingFrames.size;
  }

  /** Whether the segment is closed (read-only). */
  get closed(): boolean {
    return this.isClosed;
  }

  /** Bytes of local updates not yet sealed. */
  get unsentBytes(): number {
    return this.unsent.reduce((n, u) => n + u.length, 0);
  }

  /** [SEG-3]: marks the segment closed; later writes return `segment_closed` and keep local updates unsent. */
  close(): void {
    this.isClosed = true;
    this.ownAuthentic = undefined;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Takes (and forgets) unsent local updates as one merged update, so they can go to the next segment. */
  takeUnsent(): Uint8Array | undefined {
    if (this.unsent.length === 0) return undefined;
    const merged = Y.mergeUpdates(this.unsent);
    this.unsent = [];
    return merged;
  }

  /**
   * [COMPACT-1] helper: whether this log is past the compaction thresholds, not counting its largest snapshot
   * (a compaction would only write it again). False once a snapshot of this segment no longer fits in a frame:
   * the state only grows, so every later attempt would encode it for nothing.
   */
  needsCompaction(t?: CompactThresholds): boolean {
    if (this.snapshotTooLarge) return false;
    // O(snapshots in the log), not O(log): called after every frame applied or sealed.
    const frames = this.log.length;
    let snapshotBytes = 0;
    for (const f of this.snapshotFrames) {
      if (!this.inLog.has(f)) this.snapshotFrames.delete(f);
      else snapshotBytes = Math.max(snapshotBytes, f.length);
    }
    return shouldCompact({ frames: snapshotBytes > 0 ? frames - 1 : frames, bytes: this.bytes - snapshotBytes }, t);
  }

  /** Whether the last compaction found the segment state too large for one snapshot frame. */
  get snapshotTooLarge(): boolean {
    return this.tooLarge;
  }

  /** Resolves when every queued frame, flush and compaction has been processed. */
  async whenIdle(): Promise<void> {
    for (;;) {
      const q = this.queue;
      await q;
      if (q === this.queue) return;
    }
  }

  /** Retries frames that were waiting for an epoch key (call after new keys arrive) ([BIND-6]). */
  retryPending(): Promise<void> {
    const frames = [...this.pendingFrames.entries()];
    return this.enqueue(async () => {
      for (const [id, frame] of frames) {
        if (this.records.get(id)?.status !== 'pending') continue;
        this.records.delete(id);
        this.pendingFrames.delete(id);
        await this.processFrame(frame);
      }
      this.emitGaps();
    });
  }

  /** Seals unsent local updates now ([BIND-1]). Resolves with the number of frames appended. */
  flush(): Promise<WriteResult<number>> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    return this.enqueue(() => this.flushNow());
  }

  /**
   * [COMPACT-2]: replaces the frames this binding has applied (and whose counters lie in the contiguous
   * coverage prefix), plus structurally garbage frames, by ONE snapshot frame, in ONE envelope transaction.
   * Resolves with the number of frames removed (0 when fewer than `minFrames`, default 2, were removable).
   * The snapshot has payload version 2 ([COMPACT-3]): it vouches for the entries naming the local user that
   * this binding knows are authentic, and excludes the others (their signatures are checked here first).
   */
  compact(options: { minFrames?: number } = {}): Promise<WriteResult<number>> {
    const minFrames = Math.max(1, options.minFrames ?? 2);
    return this.enqueue(async (): Promise<WriteResult<number>> => {
      const flushed = await this.flushNow();
      if (!flushed.ok) return flushed;
      if (this.isClosed) return { ok: false, code: 'segment_closed' };
      if (this.deletableIndexes().length < minFrames) return { ok: true, value: 0 };
      const inner = this.o.inner;
      const update = Y.encodeStateAsUpdate(inner);
      const clients = Y.decodeStateVector(Y.encodeStateVector(inner)).keys();
      const coverage = this.counters.coverage();
      const vouch = await this.ownVouch(update);
      const plaintext = encodeSnapshotPayload({ update, coverage, owners: this.ownership.ownersOf(clients), ...(vouch ? { vouch } : {}) });
      if (plaintext.length + FRAME_OVERHEAD > FRAME_MAX_BYTES) {
        this.tooLarge = true;
        return { ok: false, code: 'too_large' };
      }
      const sealed = await this.sealOwn('snapshot', plaintext);
      if (!sealed.ok) return sealed;
      const { frame, counter } = sealed.value;
      const indexes = this.deletableIndexes();
      const id = frameId(frame);
      this.records.set(id, { status: 'applied', ...this.selfIds(), counter, coverage });
      this.counters.accept(this.o.self.userId, this.o.self.deviceId, counter, id);
      this.o.envelope.transact((tr) => {
        for (const [start, len] of runs(indexes).reverse()) this.log.delete(start, len);
        this.snapshotFrames.add(this.appender.append(tr, frame));
      }, BINDING_ORIGIN);
      this.emit({ type: 'compacted', removed: indexes.length, bytes: frame.length });
      return { ok: true, value: indexes.length };
    });
  }

  /** Stops observing both docs and cancels the coalescing timer. Unsent updates stay in `takeUnsent()`. */
  destroy(): void {
    this.destroyed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.o.inner.off('afterTransactionCleanup', this.onInnerCleanup);
    this.o.inner.off('update', this.onInner);
    this.listening = false;
    this.log.unobserve(this.onLog);
  }

  // --- internals ---

  /**
   * [COMPACT-3] The assertion of a version-2 snapshot over `update`: every entry in it naming the local user is
   * authentic unless excluded. Entries not known to be authentic are verified against the local user's own
   * public key (native Ed25519, in batches); those that fail (or do not parse) are excluded, so a forgery
   * another member planted under the local user's name is never vouched for. Undefined (payload version 1,
   * no assertion) when the exclusions do not fit the format or the update does not decode.
   */
  private async ownVouch(update: Uint8Array): Promise<SnapshotVouch | undefined> {
    const known = this.ownAuthentic;
    const decoded = tryDecodeUpdate(update);
    if (!known || !decoded) return undefined;
    const { userId, signingKey } = this.o.self;
    const excluded = new Set<string>();
    const todo: Array<{ value: object; sig: string }> = [];
    for (const value of authoredValues(decoded.structs, userId)) {
      if (!known.includes(value)) todo.push({ value, sig: (value as { sig: string }).sig });
    }
    if (todo.length > 0) this.ownPublicKey ??= signingPublicKey(signingKey);
    const publicKey = this.ownPublicKey!;
    for (let i = 0; i < todo.length; i += VOUCH_VERIFY_BATCH) {
      const batch = todo.slice(i, i + VOUCH_VERIFY_BATCH);
      const results = await Promise.all(batch.map(({ value, sig }) => this.verifyOwnEntry(publicKey, value, sig)));
      batch.forEach(({ value, sig }, k) => {
        if (results[k]) known.add([value]);
        else excluded.add(sig);
      });
    }
    const vouch = { excluded };
    return encodableVouch(vouch) ? vouch : undefined;
  }

  /** Whether `value` is an entry the local user signed ([INNER-4]). Never throws. */
  private async verifyOwnEntry(publicKey: Uint8Array, value: object, sig: string): Promise<boolean> {
    const entry = parseMessageEntry(value) ?? parseOpEntry(value);
    if (!entry || entry.author !== this.o.self.userId || entry.sig !== sig) return false;
    let signature: Uint8Array;
    try {
      signature = fromBase64Url(sig);
    } catch {
      return false;
    }
    return verifyAsync(publicKey, CONTEXT.message, entrySigningBytes(this.o.scope.convId, entry), signature);
  }

  private selfIds() {
    return { userId: this.o.self.userId, deviceId: this.o.self.deviceId };
  }

  private emit(e: BindingEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // A throwing listener must not break frame processing.
      }
    }
  }

  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task);
    this.queue = run.catch((error: unknown) => this.emit({ type: 'error', error }));
    return run;
  }

  private schedule(): void {
    const ms = this.o.coalesceMs ?? DEFAULT_COALESCE_MS;
    if (this.isClosed || this.timer !== undefined || !Number.isFinite(ms)) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, ms);
  }

  private async sealOwn(
    kind: 'update' | 'snapshot',
    plaintext: Uint8Array,
  ): Promise<WriteResult<{ frame: Uint8Array; counter: number }>> {
    const { self, scope, epoch } = this.o;
    const epochKey = await this.o.resolvers.epochKey(epoch);
    if (!epochKey) return { ok: false, code: 'unknown_epoch' };
    // Checked before a counter is taken: a counter taken for a frame that is then never sealed would show
    // every reader a permanent gap ([FRAME-8]).
    if (FRAME_MIN_BYTES + plaintext.length > FRAME_MAX_BYTES) return { ok: false, code: 'too_large' };
    const counter = await this.o.counters.next(scope.segmentId, this.counters.maxSeen(self.userId, self.deviceId) + 1);
    try {
      const frame = await sealFrameAsync({ scope, kind, epoch, epochKey, counter, plaintext, ...self, signingKey: self.signingKey });
      return { ok: true, value: { frame, counter } };
    } catch (e) {
      if (e instanceof FrameTooLargeError) return { ok: false, code: 'too_large' };
      throw e;
    }
  }

  private async flushNow(): Promise<WriteResult<number>> {
    if (this.unsent.length === 0) return { ok: true, value: 0 };
    if (this.isClosed) return { ok: false, code: 'segment_closed' };
    const batches = chunk(this.unsent, FRAME_MAX_BYTES - FRAME_OVERHEAD);
    this.unsent = [];
    let appended = 0;
    for (let i = 0; i < batches.length; i++) {
      const batch = batches[i]!;
      const update = batch.length === 1 ? batch[0]! : Y.mergeUpdates(batch);
      const check = this.ownership.checkUpdate(update, this.o.self.userId);
      if (!check.ok) {
        this.emit({ type: 'local_dropped', reason: 'foreign_client', bytes: update.length });
        continue;
      }
      const sealed = await this.sealOwn('update', update);
      if (!sealed.ok) {
        if (sealed.code === 'too_large') {
          this.emit({ type: 'local_dropped', reason: 'too_large', bytes: update.length });
          continue;
        }
        this.unsent = [...batches.slice(i).flat(), ...this.unsent];
        return sealed;
      }
      const { frame, counter } = sealed.value;
      this.ownership.commit(check.claims);
      this.ownAuthentic?.add(authoredValues(check.structs, this.o.self.userId)); // our own writes ([COMPACT-3])
      const id = frameId(frame);
      this.records.set(id, { status: 'applied', ...this.selfIds(), counter, coverage: undefined, ranges: structRanges(check.structs) });
      this.counters.accept(this.o.self.userId, this.o.self.deviceId, counter, id);
      this.o.envelope.transact((tr) => this.appender.append(tr, frame), BINDING_ORIGIN);
      this.emit({ type: 'sealed', counter, bytes: frame.length });
      appended++;
    }
    return { ok: true, value: appended };
  }

  private deletableIndexes(): number[] {
    const out: number[] = [];
    this.log.toArray().forEach((f, i) => {
      if (!(f instanceof Uint8Array)) return;
      const r = this.records.get(frameId(f));
      if (r?.status === 'applied' && this.counters.inPrefix(r.userId, r.deviceId, r.counter)) out.push(i);
      else if (r?.status === 'invalid' && GARBAGE.has(r.code)) out.push(i);
    });
    return out;
  }

  private async processBatch(inserted: unknown[], deleted: unknown[]): Promise<void> {
    const coverages: Coverage[] = [];
    await prepareFrameIds(inserted);
    // [BIND-2] Opening (signature check, decryption) has no effect on the binding, so up to OPEN_AHEAD frames
    // are opened concurrently (native signature checks run off the thread); the checks that depend on what
    // was applied before (counters, ownership) and the apply itself still run one frame at a time, in order.
    const ahead = new Map<number, { id: string; opened: Promise<OpenResult<OpenedFrame>> }>();
    // One signer-key lookup per user and batch (an unknown signer's frames would otherwise ask the directory at once).
    const keys = new Map<string, ReturnType<FrameResolvers['signerKey']>>();
    const base = this.o.resolvers;
    const resolvers: FrameResolvers = {
      signerKey: (userId) => {
        let k = keys.get(userId);
        if (k === undefined) keys.set(userId, (k = base.signerKey(userId)));
        return k;
      },
      isMember: (userId, epoch) => base.isMember(userId, epoch),
      epochKey: (epoch) => base.epochKey(epoch),
    };
    const open = (i: number) => {
      const f = inserted[i];
      if (!(f instanceof Uint8Array) || ahead.has(i)) return;
      const id = frameId(f);
      if (!this.records.has(id)) ahead.set(i, { id, opened: verifyAndOpenFrame(f, this.o.scope, resolvers) });
    };
    for (let i = 0; i < inserted.length; i++) {
      for (let k = i; k < Math.min(inserted.length, i + OPEN_AHEAD); k++) open(k);
      const record = await this.processFrame(inserted[i], ahead.get(i));
      ahead.delete(i);
      if (record?.status === 'applied' && record.coverage) coverages.push(record.coverage);
    }
    if (deleted.length > 0) this.repair(deleted, coverages);
    this.emitGaps();
  }

  /** [COMPACT-5]: frames we applied that vanished without a covering snapshot in the same transaction go back. */
  private repair(deleted: unknown[], coverages: Coverage[]): void {
    const lost: Uint8Array[] = [];
    for (const f of deleted) {
      if (!(f instanceof Uint8Array)) continue;
      const r = this.records.get(frameId(f));
      if (r?.status !== 'applied') continue;
      const key = deviceKey(r.userId, r.deviceId);
      if (coverages.some((c) => (c.get(key) ?? 0) >= r.counter)) continue;
      lost.push(f);
    }
    if (lost.length === 0) return;
    if (this.isClosed) {
      this.emit({ type: 'repair_blocked', frames: lost.length });
      return;
    }
    this.o.envelope.transact((tr) => {
      for (const f of lost) this.appender.append(tr, f.slice()); // a new object, as `inLog` expects of a re-inserted frame
    }, BINDING_ORIGIN);
    this.emit({ type: 'repaired', frames: lost.length });
  }

  /** Where `frame` sits in `log` now (-1: gone). O(log), paid for skipped frames only. */
  private indexOf(frame: unknown): number {
    return this.log.toArray().indexOf(frame);
  }

  private reject(frame: Uint8Array, code: FrameErrorCode, id: string, who?: { userId: string; deviceId: string; counter: number }) {
    this.records.set(id, { status: 'invalid', code });
    const entry: InvalidFrame = { index: this.indexOf(frame), code, ...(who ?? {}) };
    this.invalidList.push(entry);
    this.emit({ type: 'invalid', frame: entry });
    return undefined;
  }

  private async processFrame(
    frame: unknown,
    pre?: { id: string; opened: Promise<OpenResult<OpenedFrame>> },
  ): Promise<FrameRecord | undefined> {
    if (!(frame instanceof Uint8Array)) {
      const entry: InvalidFrame = { index: this.indexOf(frame), code: 'malformed' };
      this.invalidList.push(entry);
      this.emit({ type: 'invalid', frame: entry });
      return undefined;
    }
    const id = pre?.id ?? frameId(frame);
    const known = this.records.get(id);
    if (known) return known; // the same bytes again (duplicate delivery or repair): idempotent
    const opened = await (pre?.opened ?? verifyAndOpenFrame(frame, this.o.scope, this.o.resolvers));
    if (!opened.ok) {
      if (opened.code === 'unknown_epoch') {
        this.records.set(id, { status: 'pending' });
        this.pendingFrames.set(id, frame);
        const parsed = parseFrame(frame);
        this.emit({ type: 'pending', epoch: parsed.ok ? parsed.value.header.epoch : -1 });
        return undefined;
      }
      return this.reject(frame, opened.code, id);
    }
    const { header, update, snapshot } = opened.value;
    const who = { userId: header.userId, deviceId: header.deviceId, counter: header.counter };
    const status = this.counters.check(header.userId, header.deviceId, header.counter, id);
    if (status !== 'new') return this.reject(frame, 'replayed', id, who);
    const check = snapshot ? this.ownership.checkSnapshot(snapshot, header.userId) : this.ownership.checkUpdate(update, header.userId);
    if (!check.ok) return this.reject(frame, check.code, id, who);
    // [COMPACT-4] a snapshot's delete set may not delete what others own and this doc still holds.
    const ownerOf = (client: number) => this.ownership.ownerOf(client) ?? check.claims.get(client);
    if (snapshot && deletesOthersItems(check.ds, this.o.inner, ownerOf, header.userId)) return this.reject(frame, 'foreign_client', id, who);
    // [INNER-9] no frame, update or snapshot, may replace or hide an entry of `messages`.
    if (overwritesMessages(check.structs, this.o.inner)) return this.reject(frame, 'overwrite', id, who);
    // [INNER-11] an update frame creates `messages` keys only under its signer's device ids, so no member can take
    // another's key first (a snapshot re-carries everyone's entries; see [COMPACT-4] and the threat model).
    if (!snapshot && writesOthersKeys(check.structs, header.userId)) return this.reject(frame, 'overwrite', id, who);
    // [COMPACT-7] a snapshot carries, unchanged, what it claims to cover and this doc holds.
    if (snapshot && snapshotOmits(check.structs, snapshot.coverage, this.appliedFrames(), this.o.inner)) return this.reject(frame, 'incomplete_snapshot', id, who);
    // [INNER-8] before applying, so listeners know the vouched contents when the entries appear. A snapshot
    // vouches only with payload version 2, and not for the entries it excludes ([COMPACT-3]).
    const values = !snapshot
      ? authoredValues(check.structs, header.userId)
      : snapshot.vouch
        ? authoredValues(check.structs, header.userId, snapshot.vouch.excluded)
        : [];
    if (values.length > 0) this.emit({ type: 'vouched', userId: header.userId, values });
    try {
      Y.applyUpdate(this.o.inner, update, REMOTE_ORIGIN);
    } catch {
      return this.reject(frame, 'invalid_update', id, who);
    }
    if (header.userId === this.o.self.userId) this.ownAuthentic?.add(values);
    this.ownership.commit(check.claims);
    this.counters.accept(header.userId, header.deviceId, header.counter, id);
    if (snapshot) this.counters.cover(snapshot.coverage);
    const record: FrameRecord = { status: 'applied', ...who, coverage: snapshot?.coverage, ranges: structRanges(check.structs) };
    this.records.set(id, record);
    if (snapshot) this.snapshotFrames.add(frame);
    this.emit({ type: 'applied', ...who, kind: header.kind });
    return record;
  }

  /** Every frame applied (or sealed) here, with its struct ranges, for [COMPACT-7]. */
  private *appliedFrames(): Iterable<AppliedFrame> {
    for (const r of this.records.values()) if (r.status === 'applied') yield r;
  }

  private emitGaps(): void {
    const gaps = this.counters.gaps();
    const text = JSON.stringify(gaps);
    if (text === this.lastGaps) return;
    this.lastGaps = text;
    this.emit({ type: 'gaps', gaps });
  }
}

/** Groups updates into batches whose total size stays under `max` (a single oversized update is its own batch). */
function chunk(updates: Uint8Array[], max: number): Uint8Array[][] {
  const out: Uint8Array[][] = [];
  let cur: Uint8Array[] = [];
  let size = 0;
  for (const u of updates) {
    if (cur.length > 0 && size + u.length > max) {
      out.push(cur);
      cur = [];
      size = 0;
    }
    cur.push(u);
    size += u.length;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/** Sorted indexes -> [start, length] runs. */
function runs(indexes: number[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const i of indexes) {
    const last = out[out.length - 1];
    if (last && last[0] + last[1] === i) last[1]++;
    else out.push([i, 1]);
  }
  return out;
}
