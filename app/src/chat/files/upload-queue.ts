/**
 * Files staged in the composer of one conversation: each is thumbnailed (images), encrypted and uploaded at
 * once through the client core (`Conversation.uploadAttachment`), with progress and cancel; the next message
 * sent takes the finished ones as its attachments. One queue per conversation, kept while the app runs, so
 * switching conversations does not lose uploads in flight. Finished files are also kept in the device's sealed
 * store (`keepIn`, record `staged/<convId>`: file references and keys, encrypted at rest like the draft), so a
 * reload brings them back with the draft; a file still uploading at a reload is lost (its bytes are not kept),
 * and one kept longer than `STAGED_MAX_AGE_MS` is dropped and discarded on the server, which deletes uploads
 * no message took after a grace period (`BLOB_GRACE_SECONDS`, a day by default).
 */
import { createSignal, type Accessor } from 'solid-js';
import { z } from 'zod';
import { isClientError, type Conversation, type SealedStore } from '@parley/shared/client';
import { Attachment, MAX_ATTACHMENTS } from '@parley/shared/envelope';
import { makeThumbnail } from './thumbnails.ts';
import { stagedName } from '../local-names.ts';

/** Where one staged file is. */
export type UploadState = 'uploading' | 'ready' | 'failed';

/** A staged file as the tray shows it. */
export interface UploadItem {
  key: string;
  name: string;
  size: number;
  state: UploadState;
  /** Plaintext bytes the server holds. */
  loaded: number;
  /** Why it failed (display text). */
  error?: string;
  attachment?: Attachment;
  /** When it finished uploading (ms since the epoch). */
  readyAt?: number;
}

/** How long a finished, unsent file is kept across reloads (half the server's default grace period). */
export const STAGED_MAX_AGE_MS = 12 * 60 * 60 * 1000;

/** The kept finished files of one conversation (storage is an edge: parsed strictly). */
const StagedRecord = z
  .object({
    v: z.literal(1),
    items: z
      .array(z.object({ name: z.string().max(255), size: z.number().int().min(0), readyAt: z.number().int().min(0), attachment: Attachment }).strict())
      .max(MAX_ATTACHMENTS),
  })
  .strict();

/** Display text for a failed upload. */
export function uploadErrorText(e: unknown): string {
  if (isClientError(e, 'payload_too_large')) return 'This file is larger than the server accepts.';
  if (isClientError(e, 'quota_exceeded')) return 'Your storage quota is full. Delete messages with files, or ask the server administrator.';
  if (isClientError(e, 'network')) return 'Upload failed: no connection to the server. Remove the file and try again.';
  if (isClientError(e, 'not_found', 'forbidden')) return 'You can no longer share files in this conversation.';
  if (isClientError(e, 'invalid_input')) return `This file cannot be sent: ${e.message}`;
  if (isClientError(e, 'rate_limited')) return 'Too many uploads at once. Try again in a minute.';
  return 'Upload failed. Remove the file and try again.';
}

let seq = 0;

/** See the module comment. */
export class UploadQueue {
  readonly items: Accessor<UploadItem[]>;
  readonly #set: (fn: (prev: UploadItem[]) => UploadItem[]) => void;
  readonly #controllers = new Map<string, AbortController>();
  #store: SealedStore | undefined;
  #saving: Promise<void> = Promise.resolve();

  constructor(private readonly conv: Conversation) {
    const [items, setItems] = createSignal<UploadItem[]>([]);
    this.items = items;
    this.#set = (fn) => setItems((prev) => fn(prev));
  }

  #update(key: string, patch: Partial<UploadItem>): void {
    this.#set((list) => list.map((i) => (i.key === key ? { ...i, ...patch } : i)));
  }

  /** Stages files and starts uploading them. Returns how many were refused for the per-message limit. */
  add(files: readonly File[]): number {
    const room = Math.max(0, MAX_ATTACHMENTS - this.items().length);
    const taken = files.slice(0, room);
    for (const file of taken) {
      const key = `u${++seq}`;
      const name = (file.name || 'file').slice(0, 255);
      this.#set((list) => [...list, { key, name, size: file.size, state: 'uploading', loaded: 0 }]);
      void this.#upload(key, name, file);
    }
    return files.length - taken.length;
  }

  async #upload(key: string, name: string, file: File): Promise<void> {
    const ctl = new AbortController();
    this.#controllers.set(key, ctl);
    try {
      const thumbnail = await makeThumbnail(file);
      ctl.signal.throwIfAborted();
      const type = /^[\x20-\x7e]{0,255}$/.test(file.type) ? file.type : '';
      const attachment = await this.conv.uploadAttachment({
        name,
        type,
        data: file.stream(),
        size: file.size,
        ...(thumbnail ? { thumbnail } : {}),
        onProgress: (p) => this.#update(key, { loaded: p.loaded }),
        signal: ctl.signal,
      });
      this.#update(key, { state: 'ready', loaded: file.size, attachment, readyAt: Date.now() });
      this.#save();
    } catch (e) {
      if (ctl.signal.aborted) return; // cancelled: already removed from the list
      this.#update(key, { state: 'failed', error: uploadErrorText(e) });
    } finally {
      this.#controllers.delete(key);
    }
  }

  /**
   * Cancels an upload in flight, or removes a staged or failed file. The server deletes what was uploaded
   * at once (the client core discards a cancelled upload; a finished one is discarded here), so the user's
   * quota is freed now; if that request fails, the server's garbage collection removes it later.
   */
  remove(key: string): void {
    const item = this.items().find((i) => i.key === key);
    this.#controllers.get(key)?.abort(new DOMException('cancelled by the user', 'AbortError'));
    this.#set((list) => list.filter((i) => i.key !== key));
    if (item?.state === 'ready' && item.attachment) {
      void this.conv.discardAttachment(item.attachment).catch(() => undefined);
      this.#save();
    }
  }

  get #name(): string {
    return stagedName(this.conv.id);
  }

  /**
   * Keeps this queue's finished files in `store` from now on and brings back the ones an earlier run kept
   * (once per queue; later calls do nothing). Kept files older than `STAGED_MAX_AGE_MS` are discarded instead.
   */
  async keepIn(store: SealedStore): Promise<void> {
    if (this.#store) return;
    this.#store = store;
    const kept = await store.getJson(this.#name, StagedRecord).catch(() => undefined);
    if (!kept) return;
    const now = Date.now();
    const staged = new Set(this.items().flatMap((i) => (i.attachment ? [i.attachment.file.blobId] : [])));
    const back: UploadItem[] = [];
    for (const k of kept.items) {
      if (staged.has(k.attachment.file.blobId)) continue;
      if (now - k.readyAt >= STAGED_MAX_AGE_MS || back.length + staged.size >= MAX_ATTACHMENTS) {
        void this.conv.discardAttachment(k.attachment).catch(() => undefined);
        continue;
      }
      back.push({ key: `u${++seq}`, name: k.name, size: k.size, state: 'ready', loaded: k.size, attachment: k.attachment, readyAt: k.readyAt });
    }
    this.#set((list) => [...back, ...list]);
    this.#save();
  }

  /** Writes the finished files to the store (in order; the last write wins). */
  #save(): void {
    const store = this.#store;
    if (!store) return;
    this.#saving = this.#saving.then(async () => {
      const items = this.items().flatMap((i) =>
        i.state === 'ready' && i.attachment ? [{ name: i.name, size: i.size, readyAt: i.readyAt ?? Date.now(), attachment: i.attachment }] : [],
      );
      await (items.length > 0 ? store.setJson(this.#name, { v: 1, items }) : store.delete(this.#name)).catch(() => undefined);
    });
  }

  /** True while a staged file is still uploading. */
  busy(): boolean {
    return this.items().some((i) => i.state === 'uploading');
  }

  /** Finished attachments, in the order they were added. */
  ready(): Attachment[] {
    return this.items().flatMap((i) => (i.state === 'ready' && i.attachment ? [i.attachment] : []));
  }

  /** Drops the finished files (call after the message carrying them was sent). */
  clearSent(sent: readonly Attachment[]): void {
    const ids = new Set(sent.map((a) => a.file.blobId));
    this.#set((list) => list.filter((i) => !(i.attachment && ids.has(i.attachment.file.blobId))));
    this.#save();
  }
}

const queues = new WeakMap<Conversation, UploadQueue>();

/** The queue of a conversation handle (created on first use, kept as long as the handle). */
export function uploadQueueFor(conv: Conversation): UploadQueue {
  let q = queues.get(conv);
  if (!q) queues.set(conv, (q = new UploadQueue(conv)));
  return q;
}
