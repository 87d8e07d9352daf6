/**
 * Encrypted file sharing for the client core (docs/protocol.md "Files", docs/api.md "Blobs").
 * Runtime-neutral: no Node or DOM-only APIs; data comes as a Uint8Array, an async iterable of
 * Uint8Array (Node streams, generators) or a WHATWG ReadableStream (`File.stream()`), and is processed one
 * 64 KiB chunk at a time, so large files never sit in memory whole.
 *
 * Lifecycle of a file in a message:
 * 1. `uploadFile` encrypts and uploads it, returning a `FileRef` (blob id, key, name, type, size, hash).
 * 2. The sender puts the FileRef inside the message (in the encrypted document; never anywhere else), sends
 *    it, then calls `attachFile`, so the server keeps the blob. An upload never attached is deleted after
 *    the grace period; so is one whose every attachment was withdrawn with `detachFile`.
 * 3. Receivers (current members of the conversation) call `downloadFile` with the FileRef they decrypted.
 *
 * Peer data is never trusted: a FileRef from a message is parsed with the `FileRef` schema, and a blob
 * that fails authentication, ends early or hashes wrong yields a result code, not plaintext.
 */
import { z } from 'zod';
import { CryptoError } from '../crypto/errors.ts';
import { type ByteSource, type FileOpenCode, FileOpener, generateFileKey, openFileChunks, sealFileChunks } from '../crypto/file-chunks.ts';
import { fromBase64Url, toBase64Url } from '../protocol/encoding.ts';
import {
  BlobStatus,
  blobSizeFor,
  CreateBlobResponse,
  FILE_CHUNK_BYTES,
  FILE_NAME_MAX,
  FileRef,
  fileChunkCount,
  type FileRef as FileRefType,
  parseContentRange,
} from '../protocol/blobs.ts';
import { ClientError } from './errors.ts';
import { NoContent, type HttpTransport } from './transport.ts';

/** Paths of the blob API, in one place. */
export const BLOB_ROUTES = {
  create: '/api/blobs',
  chunk: (id: string, index: number) => `/api/blobs/${encodeURIComponent(id)}/chunks/${index}`,
  status: (id: string) => `/api/blobs/${encodeURIComponent(id)}/status`,
  complete: (id: string) => `/api/blobs/${encodeURIComponent(id)}/complete`,
  attach: (id: string) => `/api/blobs/${encodeURIComponent(id)}/attach`,
  detach: (id: string) => `/api/blobs/${encodeURIComponent(id)}/detach`,
  download: (id: string) => `/api/blobs/${encodeURIComponent(id)}`,
  discard: (id: string) => `/api/blobs/${encodeURIComponent(id)}`,
} as const;

/** Progress of an upload or download, in plaintext bytes. */
export interface FileProgress {
  loaded: number;
  total: number;
}

/** How transient failures (network, 429, 5xx) are retried: exponential backoff with jitter. */
export interface RetryPolicy {
  /** Attempts per request, the first included (default 8). */
  attempts: number;
  /** First delay in ms (default 250), doubled each time up to `maxDelayMs` (default 10 000). */
  baseDelayMs: number;
  maxDelayMs: number;
}

/** Default retry policy (about a minute of trying before giving up on one chunk). */
export const DEFAULT_RETRY: Readonly<RetryPolicy> = Object.freeze({ attempts: 8, baseDelayMs: 250, maxDelayMs: 10_000 });

/** Chunk uploads kept in flight by default: enough to hide a round trip, few enough to stay gentle. */
export const DEFAULT_UPLOAD_CONCURRENCY = 4;

/** Options of `uploadFile`. */
export interface UploadFileOptions {
  transport: HttpTransport;
  /** The conversation the file is shared in (only its current members can download it). */
  convId: string;
  /** File name shown to recipients (1..255 characters); travels only inside the FileRef. */
  name: string;
  /** MIME type (printable ASCII, may be empty). */
  type: string;
  /** The file: bytes, an async iterable of chunks, or a ReadableStream (e.g. `file.stream()`). */
  data: ByteSource;
  /** Plaintext size; required for streams and iterables (e.g. `file.size`), checked for Uint8Array. */
  size?: number;
  onProgress?: (progress: FileProgress) => void;
  /** Cancels the upload; the promise rejects with `signal.reason`. Resume later with `resume`. */
  signal?: AbortSignal;
  /**
   * Continue an earlier upload of the SAME file (after a crash or reload): the blob id and key from that
   * attempt (keep them with the outbox). The data is read again from the start (to hash it), and only the
   * chunks the server lacks are encrypted and sent.
   */
  resume?: { blobId: string; key: Uint8Array };
  retry?: Partial<RetryPolicy>;
  /** Chunk uploads in flight at once (default `DEFAULT_UPLOAD_CONCURRENCY`, at most 16). */
  concurrency?: number;
  /** Called once the blob id and key exist (before any chunk is sent), so a caller can persist them for `resume`. */
  onBlobCreated?: (blob: { blobId: string; key: Uint8Array }) => void | Promise<void>;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Network failures, rate limits and server-side failures are worth retrying; nothing else is. */
function isTransient(e: unknown): e is ClientError {
  return e instanceof ClientError && (e.code === 'network' || e.code === 'rate_limited' || e.code === 'unavailable' || e.code === 'internal');
}

async function withRetry<T>(policy: RetryPolicy, signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted();
    try {
      return await fn();
    } catch (e) {
      if (!isTransient(e) || attempt >= policy.attempts) throw e;
      const backoff = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
      const wait = e.retryAfter !== undefined ? Math.max(e.retryAfter * 1000, backoff) : backoff * (0.5 + Math.random() / 2);
      await sleep(wait, signal);
    }
  }
}

function checkUploadInput(options: UploadFileOptions): number {
  const { name, type, data } = options;
  if (typeof name !== 'string' || name.length < 1 || name.length > FILE_NAME_MAX) throw new ClientError('invalid_input', `file name must be 1..${FILE_NAME_MAX} characters`);
  if (typeof type !== 'string' || type.length > 255 || !/^[\x20-\x7e]*$/.test(type)) throw new ClientError('invalid_input', 'file type must be printable ASCII (at most 255 characters)');
  if (!z.uuid().safeParse(options.convId).success) throw new ClientError('invalid_input', 'convId must be a UUID');
  const size = data instanceof Uint8Array ? data.length : options.size;
  if (size === undefined) throw new ClientError('invalid_input', 'size is required when data is a stream');
  if (!Number.isSafeInteger(size) || size < 0) throw new ClientError('invalid_input', 'size must be a non-negative integer');
  if (data instanceof Uint8Array && options.size !== undefined && options.size !== size) throw new ClientError('invalid_input', 'size does not match the data');
  return size;
}

/**
 * Encrypts `data` on this device and uploads it as a blob of `convId`, chunk by chunk, retrying transient
 * failures with backoff and resuming from what the server already holds. Returns the `FileRef` to put in
 * the message. Throws `ClientError`: `invalid_input` (bad name/type/size, or `data` shorter or longer than
 * `size`), `payload_too_large` (over the server's BLOB_MAX_BYTES), `quota_exceeded`, `not_found` (not a
 * member of `convId`, or an unknown `resume` blob), `network` after the retries; rejects with
 * `signal.reason` when aborted.
 */
export async function uploadFile(options: UploadFileOptions): Promise<FileRefType> {
  const { transport, signal } = options;
  const policy: RetryPolicy = { ...DEFAULT_RETRY, ...options.retry };
  const size = checkUploadInput(options);
  signal?.throwIfAborted();
  const blobSize = blobSizeFor(size);
  const chunks = fileChunkCount(size);

  let blobId: string;
  let key: Uint8Array;
  let present = new Set<number>();
  if (options.resume) {
    blobId = options.resume.blobId;
    key = options.resume.key;
    if (key.length !== 32) throw new ClientError('invalid_input', 'resume key must be 32 bytes');
    const status = await withRetry(policy, signal, () => transport.request(BlobStatus, 'GET', BLOB_ROUTES.status(blobId), { auth: true, ...(signal ? { signal } : {}) }));
    if (status.size !== blobSize || status.chunks !== chunks || status.convId !== options.convId)
      throw new ClientError('invalid_input', 'the blob to resume was created for a different file or conversation');
    present = new Set(status.received);
    if (status.state === 'complete') present = new Set(Array.from({ length: chunks }, (_, i) => i));
  } else {
    key = generateFileKey();
    const created = await withRetry(policy, signal, () =>
      transport.request(CreateBlobResponse, 'POST', BLOB_ROUTES.create, { auth: true, body: { convId: options.convId, size: blobSize, chunks }, ...(signal ? { signal } : {}) }),
    );
    blobId = created.blobId;
  }
  await options.onBlobCreated?.({ blobId, key });

  // Progress counts plaintext bytes whose chunk the server holds.
  let loaded = 0;
  const report = (index: number) => {
    loaded += Math.min(FILE_CHUNK_BYTES, size - index * FILE_CHUNK_BYTES);
    options.onProgress?.({ loaded, total: size });
  };
  // Up to `concurrency` chunk uploads in flight hide the per-request latency; memory stays bounded at
  // that many sealed chunks. The first failure (after its retries) stops the upload.
  const concurrency = Math.max(1, Math.min(16, options.concurrency ?? DEFAULT_UPLOAD_CONCURRENCY));
  const inflight = new Set<Promise<void>>();
  // A holder object: the failure is set from callbacks, which control-flow narrowing cannot see.
  const run: { failure: { error: unknown } | null } = { failure: null };
  const rethrowFailure = (): void => {
    if (run.failure) throw run.failure.error;
  };
  const put = (index: number, bytes: Uint8Array): Promise<void> =>
    withRetry(policy, signal, async () => {
      const res = await transport.requestBytes('PUT', BLOB_ROUTES.chunk(blobId, index), { auth: true, body: bytes, ...(signal ? { signal } : {}) });
      await res.body?.cancel();
    });
  let sealed: { sha256: Uint8Array };
  try {
    sealed = await sealFileChunks(
      { fileKey: key, blobId, size },
      options.data,
      async ({ index, sealed: bytes }) => {
        rethrowFailure();
        const p: Promise<void> = put(index, bytes).then(
          () => report(index),
          (error: unknown) => {
            run.failure ??= { error };
          },
        );
        const tracked = p.finally(() => inflight.delete(tracked));
        inflight.add(tracked);
        if (inflight.size >= concurrency) await Promise.race(inflight);
        rethrowFailure();
      },
      (index) => {
        if (!present.has(index)) return false;
        report(index);
        return true;
      },
    );
    await Promise.all(inflight);
    rethrowFailure();
  } catch (e) {
    await Promise.allSettled(inflight);
    const error = run.failure ? run.failure.error : e;
    if (error instanceof CryptoError) throw new ClientError('invalid_input', `the file data does not match its size: ${error.message}`, { cause: error });
    throw error;
  }
  await withRetry(policy, signal, () => transport.request(NoContent, 'POST', BLOB_ROUTES.complete(blobId), { auth: true, body: {}, ...(signal ? { signal } : {}) }));
  options.onProgress?.({ loaded: size, total: size });
  return FileRef.parse({ v: 1, blobId, key: toBase64Url(key), name: options.name, type: options.type, size, sha256: toBase64Url(sealed.sha256) });
}

/** Options of `attachFile` / `detachFile`. */
export interface BlobRefOptions {
  transport: HttpTransport;
  blobId: string;
  signal?: AbortSignal;
}

/**
 * Marks the blob as referenced by the caller (call it once the message carrying the FileRef is sent), so
 * garbage collection keeps it. Idempotent. Throws `ClientError('not_found')` when the caller is not a
 * current member of the blob's conversation or the blob is gone, `conflict` when its upload is incomplete.
 */
export async function attachFile(options: BlobRefOptions): Promise<void> {
  await withRetry(DEFAULT_RETRY, options.signal, () =>
    options.transport.request(NoContent, 'POST', BLOB_ROUTES.attach(options.blobId), { auth: true, body: {}, ...(options.signal ? { signal: options.signal } : {}) }),
  );
}

/**
 * Withdraws the caller's reference (call it when the caller deletes the message). When no member
 * references the blob any more, the next garbage-collection pass deletes it. Idempotent; throws like
 * `attachFile`.
 */
export async function detachFile(options: BlobRefOptions): Promise<void> {
  await withRetry(DEFAULT_RETRY, options.signal, () =>
    options.transport.request(NoContent, 'POST', BLOB_ROUTES.detach(options.blobId), { auth: true, body: {}, ...(options.signal ? { signal: options.signal } : {}) }),
  );
}

/**
 * Deletes an upload of the caller that was never sent (cancelled midway, or finished but removed from the
 * composer), freeing its storage and quota now rather than after the server's grace period. Already gone
 * counts as done. Throws `ClientError('conflict')` when a sent message carries the blob (use `detachFile`),
 * `network` after the retries.
 */
export async function discardFile(options: BlobRefOptions): Promise<void> {
  try {
    await withRetry(DEFAULT_RETRY, options.signal, () =>
      options.transport.request(NoContent, 'DELETE', BLOB_ROUTES.discard(options.blobId), { auth: true, ...(options.signal ? { signal: options.signal } : {}) }),
    );
  } catch (e) {
    if (e instanceof ClientError && e.code === 'not_found') return;
    throw e;
  }
}

/** Why a download was refused: the blob failed verification, or the FileRef itself is malformed. */
export type FileErrorCode = FileOpenCode | 'invalid_ref';

/** Largest file `downloadFile` collects in memory when no `sink` is given (default 256 MiB). */
export const DEFAULT_MAX_IN_MEMORY_BYTES = 256 * 1024 * 1024;

/** Options of `downloadFile`. */
export interface DownloadFileOptions {
  transport: HttpTransport;
  /** The FileRef from a decrypted message (parsed here again: it is peer data). */
  ref: unknown;
  onProgress?: (progress: FileProgress) => void;
  signal?: AbortSignal;
  /**
   * Receives the plaintext chunk by chunk (each authenticated), for files too large to hold in memory
   * (e.g. a WritableStream writer, or a file handle). The file is whole and right only when the result is
   * `ok`; on a failure, discard what the sink received. Without a sink the file is returned as `data`.
   */
  sink?: (chunk: Uint8Array) => void | Promise<void>;
  /** Without a sink, refuse files larger than this (default `DEFAULT_MAX_IN_MEMORY_BYTES`). */
  maxInMemoryBytes?: number;
  /** Retry policy of each request (default `DEFAULT_RETRY`); its `baseDelayMs` also paces resumes. */
  retry?: Partial<RetryPolicy>;
}

/** Outcome of a download. `data` is present when no sink was given. */
export type DownloadResult =
  | { ok: true; ref: FileRefType; size: number; data?: Uint8Array }
  | { ok: false; code: FileErrorCode; chunk?: number; message: string };

const FAILURE_TEXT: Record<FileErrorCode, string> = {
  blob_tampered: 'The file was altered on the server or in transit; it was not opened.',
  blob_truncated: 'The file on the server is incomplete; it was not opened.',
  hash_mismatch: 'The file does not match what the sender announced; it was not opened.',
  invalid_ref: 'The message refers to a file in a format this app cannot read.',
};

/**
 * Times in a row a broken download resumes without getting a chunk further before `downloadFile` gives up
 * with `network` (a resume that brings new chunks starts the count again).
 */
export const DOWNLOAD_MAX_STALLS = 5;

/** The response body failed (connection lost mid-transfer): the download resumes where it stopped. */
class BodyBroke extends Error {
  constructor(cause: unknown) {
    super('the download connection broke off', { cause });
  }
}

/**
 * The body of a download answer, its first `skip` bytes dropped (a server or proxy that ignored the range
 * sends the blob whole). A failure to read it is a `BodyBroke`; stopping early cancels the transfer.
 */
async function* downloadBody(res: Response, skip: number): AsyncGenerator<Uint8Array> {
  if (!res.body) return;
  const reader = res.body.getReader();
  try {
    for (;;) {
      let step: ReadableStreamReadResult<Uint8Array>;
      try {
        step = await reader.read();
      } catch (cause) {
        throw new BodyBroke(cause);
      }
      if (step.done) return;
      const drop = Math.min(skip, step.value.length);
      skip -= drop;
      if (drop < step.value.length) yield step.value.subarray(drop);
    }
  } finally {
    await reader.cancel().catch(() => undefined); // verification ended it early: the rest is not needed
  }
}

/**
 * How many bytes of the answer to a request for the blob from `offset` on precede that offset: 0 for a
 * `206` whose `Content-Range` starts there, `offset` for a whole blob (`200`). Throws `internal` for a
 * partial answer of another range (a chunk in the wrong place would fail authentication anyway).
 */
function resumeSkip(res: Response, offset: number, sealedSize: number): number {
  if (res.status !== 206) return offset;
  const range = parseContentRange(res.headers.get('content-range'));
  if (range?.start === offset && range.size === sealedSize) return 0;
  throw new ClientError('internal', 'the server answered a resumed download with another range than asked for');
}

/**
 * Downloads the blob of `ref`, decrypting and verifying it as it streams ([FILE-3], [FILE-4]). Integrity
 * failures are results (`blob_tampered`, `blob_truncated`, `hash_mismatch`, `invalid_ref`), never
 * plaintext. A connection that breaks off mid-transfer is resumed from the first chunk not yet opened
 * ([FILE-11]: `Range` request), so `sink` gets every chunk once, in order. Throws `ClientError`:
 * `not_found` (unknown blob, or the caller is not a current member of its conversation), `invalid_input`
 * (over `maxInMemoryBytes` without a sink), `network` (the server stayed unreachable through the request
 * retries, or the transfer broke off `DOWNLOAD_MAX_STALLS` times in a row without progress); rejects with
 * `signal.reason` when aborted.
 */
export async function downloadFile(options: DownloadFileOptions): Promise<DownloadResult> {
  const parsed = FileRef.safeParse(options.ref);
  if (!parsed.success) return { ok: false, code: 'invalid_ref', message: FAILURE_TEXT.invalid_ref };
  const ref = parsed.data;
  const { signal } = options;
  const max = options.maxInMemoryBytes ?? DEFAULT_MAX_IN_MEMORY_BYTES;
  if (!options.sink && ref.size > max) throw new ClientError('invalid_input', `the file is larger than ${max} bytes: pass a sink to stream it`);
  const out = options.sink ? null : new Uint8Array(ref.size);
  let loaded = 0;
  const policy: RetryPolicy = { ...DEFAULT_RETRY, ...options.retry };
  const params = { fileKey: fromBase64Url(ref.key), blobId: ref.blobId, size: ref.size, sha256: fromBase64Url(ref.sha256) };
  const opener = new FileOpener(params);
  const sink = async (plaintext: Uint8Array) => {
    if (out) out.set(plaintext, loaded);
    else await options.sink?.(plaintext);
    loaded += plaintext.length;
    options.onProgress?.({ loaded, total: ref.size });
  };

  let result;
  for (let stalled = 0; ; ) {
    const offset = opener.sealedOffset;
    const res = await withRetry(policy, signal, () =>
      options.transport.requestBytes('GET', BLOB_ROUTES.download(ref.blobId), { auth: true, ...(offset > 0 ? { rangeFrom: offset } : {}), ...(signal ? { signal } : {}) }),
    );
    const before = opener.nextIndex;
    try {
      const skip = offset > 0 ? resumeSkip(res, offset, blobSizeFor(ref.size)) : 0;
      result = await openFileChunks(params, downloadBody(res, skip), sink, opener);
      break;
    } catch (cause) {
      if (signal?.aborted) throw signal.reason;
      if (cause instanceof ClientError) throw cause;
      const lost = () => new ClientError('network', 'connection lost while downloading the file', { cause: cause instanceof BodyBroke ? cause.cause : cause });
      if (!(cause instanceof BodyBroke)) throw lost();
      stalled = opener.nextIndex > before ? 0 : stalled + 1;
      if (stalled >= DOWNLOAD_MAX_STALLS) throw lost();
      if (stalled > 0) await sleep(Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (stalled - 1)) * (0.5 + Math.random() / 2), signal);
    } finally {
      await res.body?.cancel().catch(() => undefined); // a locked or finished body refuses: nothing to do
    }
  }
  if (!result.ok) return { ok: false, code: result.code, ...(result.chunk !== undefined ? { chunk: result.chunk } : {}), message: FAILURE_TEXT[result.code] };
  return { ok: true, ref, size: result.size, ...(out ? { data: out } : {}) };
}
