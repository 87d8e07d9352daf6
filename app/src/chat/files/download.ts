/**
 * Verified downloads for the file UI: bytes reach the screen or the disk only after the client core opened
 * and verified the whole blob against its FileRef ([FILE-6]); every failure becomes display text.
 */
import { isClientError, type Conversation, type FileProgress } from '@parley/shared/client';
import type { FileRef } from '@parley/shared/protocol';

/**
 * A finished download: the verified bytes, or why there are none. `cancelled` marks the caller's own abort,
 * which is not a failure to show as an error.
 */
export type VerifiedDownload = { ok: true; data: Uint8Array } | { ok: false; error: string; cancelled?: true };

const FAILURE: Record<string, string> = {
  blob_tampered: 'This file was altered on the server or in transit. It was not opened.',
  blob_truncated: 'This file is incomplete on the server. It was not opened.',
  hash_mismatch: 'This file does not match what the sender sent. It was not opened.',
  invalid_ref: 'This message refers to a file in a format this app cannot read.',
};

/** Display text for a download that threw (not a verification result). */
export function downloadErrorText(e: unknown): string {
  if (isClientError(e, 'not_found')) return 'This file is no longer available (deleted, or you are no longer a member).';
  if (isClientError(e, 'network')) return 'Download failed: no connection to the server.';
  if (isClientError(e, 'invalid_input')) return 'This file is too large to open in the browser.';
  return 'Download failed. Try again.';
}

/** Downloads and verifies `ref`. Never throws (aborts included: they yield `{ok: false}`). */
export async function downloadVerified(conv: Conversation, ref: FileRef, options: { onProgress?: (p: FileProgress) => void; signal?: AbortSignal } = {}): Promise<VerifiedDownload> {
  try {
    const r = await conv.downloadAttachment(ref, options);
    if (!r.ok) return { ok: false, error: FAILURE[r.code] ?? r.message };
    return r.data ? { ok: true, data: r.data } : { ok: false, error: 'Download failed. Try again.' };
  } catch (e) {
    return options.signal?.aborted ? { ok: false, error: 'Download cancelled.', cancelled: true } : { ok: false, error: downloadErrorText(e) };
  }
}

// Verified thumbnails, so a message scrolling back into view does not fetch its thumbnail again.
const THUMB_CACHE_BYTES = 24 * 1024 * 1024;
const thumbCache = new Map<string, Uint8Array>();
let thumbCacheBytes = 0;

/** A verified thumbnail from the cache or the server (cached on success). */
export async function verifiedThumbnail(conv: Conversation, ref: FileRef, signal?: AbortSignal): Promise<VerifiedDownload> {
  const key = `${ref.blobId}:${ref.sha256}`;
  const hit = thumbCache.get(key);
  if (hit) return { ok: true, data: hit };
  const r = await downloadVerified(conv, ref, signal ? { signal } : {});
  if (r.ok && r.data.length <= THUMB_CACHE_BYTES / 8) {
    thumbCache.set(key, r.data);
    thumbCacheBytes += r.data.length;
    for (const [k, v] of thumbCache) {
      if (thumbCacheBytes <= THUMB_CACHE_BYTES) break;
      thumbCache.delete(k);
      thumbCacheBytes -= v.length;
    }
  }
  return r;
}

/** Saves bytes as a file through a temporary `blob:` URL and `<a download>` (the name is only a suggestion). */
export function saveBytes(data: Uint8Array, name: string): void {
  // octet-stream: the browser saves the bytes and never renders them on our origin.
  const url = URL.createObjectURL(new Blob([data as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.rel = 'noopener';
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
