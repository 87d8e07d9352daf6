/**
 * `EncryptedDoc`: one envelope document on this device: the synced envelope (ciphertext frames), its
 * in-memory inner doc, the `EnvelopeBinding` between them, the envelope state persisted sealed in storage
 * (so the persisted envelope is the outbox: Yjs sync is symmetric and re-uploads what the server lacks), and
 * optionally the live link to the server.
 */
import * as Y from 'yjs';
import { EnvelopeBinding, type BindingEvent, type FrameResolvers, type LocalAuthor } from '../envelope/index.ts';
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
  coalesceMs?: number;
}

/** See the module comment. */
export class EncryptedDoc {
  readonly envelope = new Y.Doc({ gc: true });
  readonly inner = new Y.Doc({ gc: true });
  binding!: EnvelopeBinding;
  link: DocLink | undefined;
  #saveTimer: ReturnType<typeof setTimeout> | undefined;
  #saving: Promise<void> = Promise.resolve();
  #destroyed = false;

  private constructor(readonly options: EncryptedDocOptions) {}

  /** Restores the persisted envelope (if any), binds it and applies its frames. */
  static async load(options: EncryptedDocOptions): Promise<EncryptedDoc> {
    const d = new EncryptedDoc(options);
    const saved = await options.store.get(`env/${options.name}`);
    if (saved) {
      try {
        Y.applyUpdate(d.envelope, saved, 'storage');
      } catch {
        // A corrupt local copy is dropped; the server still has the frames.
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
    d.envelope.on('update', (_u: Uint8Array, origin: unknown) => {
      if (origin !== 'storage') d.scheduleSave();
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

  /** Persists the envelope state soon (coalesced). */
  scheduleSave(): void {
    if (this.#destroyed || this.#saveTimer !== undefined) return;
    this.#saveTimer = setTimeout(() => {
      this.#saveTimer = undefined;
      void this.save();
    }, 50);
  }

  /** Persists the envelope state now. */
  save(): Promise<void> {
    const state = Y.encodeStateAsUpdate(this.envelope);
    this.#saving = this.#saving.then(() => this.options.store.set(`env/${this.options.name}`, state)).catch(() => undefined);
    return this.#saving;
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
