/**
 * `EncryptedDoc`: one envelope document on this device: the synced envelope (ciphertext frames), its
 * in-memory inner doc, the `EnvelopeBinding` between them, the envelope state persisted sealed in storage
 * (so the persisted envelope is the outbox: Yjs sync is symmetric and re-uploads what the server lacks), and
 * optionally the live link to the server.
 *
 * Local persistence is incremental: the full state lives sealed under `env/<name>`, and each save appends only
 * the envelope updates since the last one (merged, sealed) under `envlog/<name>/<seq>`; after enough appends
 * (count or bytes) the state is rewritten once and the appended pieces are deleted. Yjs updates are
 * idempotent, so a crash between the rewrite and the deletes only re-applies what is already there.
 */
import * as Y from 'yjs';
import { BINDING_ORIGIN, EnvelopeBinding, type BindingEvent, type FrameResolvers, type LocalAuthor } from '../envelope/index.ts';
import type { CounterStore } from '../envelope/counters.ts';
import type { SealedStore } from './storage.ts';
import type { DocLink, OpenDocOptions, SyncConnection } from './sync-connection.ts';

/** Options of `EncryptedDoc.load`. */
export interface EncryptedDocOptions {
  name: string;
  convId: string;
  self: LocalAuthor;
  /** The epoch this device writes with; read at every seal, so it may change (meta documents). */
  epoch: () => number;
  resolvers: FrameResolvers;
  counters: CounterStore;
  store: SealedStore;
  closed?: boolean;
  /**
   * The inner doc frames are applied to (default: a new one). A closed (read-only) segment may apply straight
   * into a doc that merges several segments (the conversation's view), so its entries are integrated once.
   * Never for a writable document: compaction snapshots the inner doc.
   */
  inner?: Y.Doc;
  coalesceMs?: number;
  /**
   * Delay of the automatic save after an envelope change this device made (a frame sealed, a compaction), in ms
   * (default 50), or after a small change from the server; large changes from the server wait at least
   * `REMOTE_SAVE_DELAY_MS`. `Infinity`: only
   * `save()` and `destroy()` persist (the owner decides when, e.g. history fetched while the user waits is
   * cached once the loading is over).
   */
  saveDelayMs?: number;
  /**
   * Binding events from the start, including those of the frames already in storage, which are processed
   * during `load` (before a listener added with `onBinding` afterwards could see them).
   */
  onBinding?: (e: BindingEvent) => void;
}

/**
 * When `#persist` rewrites the full state instead of appending a piece: past `COMPACT_PIECES` pieces
 * (`COMPACT_PIECES_LARGE` once the full state exceeds `COMPACT_BYTES`), or once the pieces together outweigh
 * both `COMPACT_BYTES` and the full state. Rewriting a segment near its 1 MiB cap costs an encode and an
 * encryption of all of it; with a fixed 64-piece rule a busy conversation (a save per 50 ms) paid that every
 * few seconds, O(state) per 64 frames. Scaled with the state, the rewrites cost O(1) per appended byte,
 * and a load still reads at most a few hundred pieces.
 */
const COMPACT_PIECES = 64;
const COMPACT_PIECES_LARGE = 256;
const COMPACT_BYTES = 256 * 1024;

const logPrefix = (name: string) => `envlog/${name}/`;

/**
 * Least delay of the automatic save after a large change from the server (at least `REMOTE_SAVE_DEFER_BYTES`
 * in one update: an initial sync, a catch-up). The server holds those frames, so nothing is lost if the app
 * dies first (they sync again), while sealing them into storage costs about as much main-thread time as
 * decrypting them: a device opening a conversation applies the live segment's frames (up to the 1 MiB cap) and
 * then the history the user scrolls to, and caching the live segment at once stalled that history by tens of
 * milliseconds. Small changes (a message arriving live) and this device's own frames still save after
 * `saveDelayMs`, with everything pending, so what was shown is cached for offline use at once.
 */
export const REMOTE_SAVE_DELAY_MS = 2000;
/** See `REMOTE_SAVE_DELAY_MS`. */
export const REMOTE_SAVE_DEFER_BYTES = 64 * 1024;

/** See the module comment. */
export class EncryptedDoc {
  readonly envelope = new Y.Doc({ gc: true });
  readonly inner: Y.Doc;
  binding!: EnvelopeBinding;
  link: DocLink | undefined;
  #saveTimer: ReturnType<typeof setTimeout> | undefined;
  /** When the pending `#saveTimer` fires (`Date.now()` time). */
  #saveDue = 0;
  #saving: Promise<void> = Promise.resolve();
  #destroyed = false;
  /** Envelope updates not yet persisted. */
  #unsaved: Uint8Array[] = [];
  /** Appended pieces in storage since the last full write. */
  #pieces: string[] = [];
  #pieceBytes = 0;
  /** Bytes of the full state as last written or loaded. */
  #fullBytes = 0;
  #seq = 0;

  private constructor(readonly options: EncryptedDocOptions) {
    if (options.inner && !options.closed) throw new TypeError('only a closed document may share its inner doc');
    this.inner = options.inner ?? new Y.Doc({ gc: true });
  }

  /** Restores the persisted envelope (if any), binds it and applies its frames. */
  static async load(options: EncryptedDocOptions): Promise<EncryptedDoc> {
    const d = new EncryptedDoc(options);
    const saved = await options.store.get(`env/${options.name}`);
    if (saved) {
      d.#fullBytes = saved.length;
      try {
        Y.applyUpdate(d.envelope, saved, 'storage');
      } catch {
        // A corrupt local copy is dropped; the server still has the frames.
      }
    }
    for (const piece of await options.store.list(logPrefix(options.name)).catch(() => [] as string[])) {
      d.#pieces.push(piece);
      const seq = Number(piece.slice(logPrefix(options.name).length));
      if (Number.isSafeInteger(seq)) d.#seq = Math.max(d.#seq, seq);
      const bytes = await options.store.get(piece);
      if (!bytes) continue;
      d.#pieceBytes += bytes.length;
      try {
        Y.applyUpdate(d.envelope, bytes, 'storage');
      } catch {
        // as above
      }
    }
    const binding = new EnvelopeBinding({
      envelope: d.envelope,
      inner: d.inner,
      scope: { convId: options.convId, segmentId: options.name },
      self: options.self,
      get epoch() {
        return options.epoch();
      },
      resolvers: options.resolvers,
      counters: options.counters,
      coalesceMs: options.coalesceMs ?? 60,
      closed: options.closed ?? false,
    });
    d.binding = binding;
    if (options.onBinding) binding.on(options.onBinding); // before the queued initial frames run
    d.envelope.on('update', (u: Uint8Array, origin: unknown) => {
      if (origin === 'storage') return;
      d.#unsaved.push(u);
      d.scheduleSave(origin !== BINDING_ORIGIN && u.length >= REMOTE_SAVE_DEFER_BYTES);
    });
    await binding.whenIdle();
    return d;
  }

  /** Subscribes to binding events. */
  onBinding(listener: (e: BindingEvent) => void): () => void {
    return this.binding.on(listener);
  }

  /** Attaches the envelope to the server. */
  attach(sync: SyncConnection, options: OpenDocOptions = {}): DocLink {
    this.link = sync.open(this.options.name, this.envelope, options);
    return this.link;
  }

  /** Detaches from the server (the local copy stays). */
  detach(): void {
    this.link?.close();
    this.link = undefined;
  }

  /** Whether envelope changes are waiting to be persisted (e.g. after a failed save). */
  get unsaved(): boolean {
    return this.#unsaved.length > 0;
  }

  /**
   * Persists the envelope state soon (coalesced): after `saveDelayMs`, or for a large change that came from the
   * server (`deferred`) after at least `REMOTE_SAVE_DELAY_MS`. A sooner save replaces a later pending one.
   */
  scheduleSave(deferred = false): void {
    const base = this.options.saveDelayMs ?? 50;
    if (this.#destroyed || !Number.isFinite(base)) return;
    const delay = deferred ? Math.max(base, REMOTE_SAVE_DELAY_MS) : base;
    const due = Date.now() + delay;
    if (this.#saveTimer !== undefined) {
      if (this.#saveDue <= due) return;
      clearTimeout(this.#saveTimer);
    }
    this.#saveDue = due;
    this.#saveTimer = setTimeout(() => {
      this.#saveTimer = undefined;
      void this.save();
    }, delay);
  }

  /** Persists the envelope changes since the last save now (appended; the full state now and then). */
  save(): Promise<void> {
    this.#saving = this.#saving.then(() => this.#persist()).catch(() => undefined);
    return this.#saving;
  }

  async #persist(): Promise<void> {
    const store = this.options.store;
    const name = this.options.name;
    if (this.#unsaved.length === 0) return;
    const updates = this.#unsaved;
    this.#unsaved = [];
    try {
      const maxPieces = this.#fullBytes > COMPACT_BYTES ? COMPACT_PIECES_LARGE : COMPACT_PIECES;
      if (this.#pieces.length + 1 > maxPieces || this.#pieceBytes > Math.max(COMPACT_BYTES, this.#fullBytes)) {
        const full = Y.encodeStateAsUpdate(this.envelope);
        await store.set(`env/${name}`, full);
        this.#fullBytes = full.length;
        const old = this.#pieces;
        this.#pieces = [];
        this.#pieceBytes = 0;
        for (const piece of old) await store.delete(piece);
        return;
      }
      const merged = updates.length === 1 ? updates[0]! : Y.mergeUpdates(updates);
      const piece = `${logPrefix(name)}${String(++this.#seq).padStart(12, '0')}`;
      await store.set(piece, merged);
      this.#pieces.push(piece);
      this.#pieceBytes += merged.length;
    } catch (e) {
      this.#unsaved = [...updates, ...this.#unsaved]; // try again with the next save
      throw e;
    }
  }

  /** Seals pending local updates and persists; resolves with the binding's result. */
  async flush() {
    const r = await this.binding.flush();
    await this.save();
    return r;
  }

  /** Stops everything; saves once more. */
  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    if (this.#saveTimer !== undefined) clearTimeout(this.#saveTimer);
    this.#saveTimer = undefined;
    await this.binding.whenIdle();
    await this.save();
    this.#destroyed = true;
    this.detach();
    this.binding.destroy();
  }
}
