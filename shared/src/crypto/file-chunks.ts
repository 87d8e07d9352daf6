/**
 * File encryption in chunks (docs/protocol.md "Files", rules [FILE-1]..[FILE-4]). Pure and runtime-neutral.
 *
 * - [FILE-1] Every file gets a fresh random 32-byte file key; `chunkKey = HKDF(fileKey, CONTEXT.fileChunk)`.
 * - [FILE-2] The plaintext is cut into `FILE_CHUNK_BYTES` (64 KiB) chunks, the last one shorter (an empty file
 *   is one empty chunk). Each is sealed as `nonce(24, random) || XChaCha20-Poly1305(chunkKey, nonce, chunk,
 *   AAD)`. Random nonces, not index-derived ones: a resumed upload re-encrypts a chunk, and if the source
 *   changed in between, a derived nonce would be reused with different plaintext under the same key.
 * - [FILE-3] `AAD = lp(utf8(CONTEXT.fileChunk), utf8(blobId), u32be(index), u8(isLast), u32be(count))`, so a
 *   chunk cannot be moved to another position, another file, or be presented as the last one (truncation);
 *   `count` binds the length of the file on top of the last-chunk flag.
 * - [FILE-4] The SHA-256 of the whole plaintext travels in the FileRef and is checked after the last chunk.
 *
 * Opening peer data never throws: `openChunk`, `FileOpener` and `openFileChunks` return result codes.
 * Our own inputs (wrong key length, a source longer or shorter than declared) throw `CryptoError`.
 */
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { BLOB_CHUNK_BYTES, BLOB_CHUNK_OVERHEAD, blobChunkSize, blobSizeFor, FILE_CHUNK_BYTES, fileChunkCount } from '../protocol/blobs.ts';
import { utf8 } from '../protocol/encoding.ts';
import { AEAD_KEY_BYTES, AEAD_NONCE_BYTES, aeadDecrypt, aeadEncrypt, SEAL_OVERHEAD } from './aead.ts';
import { equalBytes, lp, randomBytes, u32be, concatBytes } from './bytes.ts';
import { CONTEXT } from './contexts.ts';
import { CryptoError, expectBytes } from './errors.ts';
import { hkdf } from './kdf.ts';

if (SEAL_OVERHEAD !== BLOB_CHUNK_OVERHEAD) throw new Error('BLOB_CHUNK_OVERHEAD must equal the AEAD seal overhead');

/** File keys are 32 random bytes. */
export const FILE_KEY_BYTES = AEAD_KEY_BYTES;

/** Why a file (or one of its chunks) was refused. The UI renders these codes. */
export type FileOpenCode =
  /** A chunk failed authentication: flipped bytes, a chunk from another position or file, a wrong key. */
  | 'blob_tampered'
  /** The data ended before the last chunk (or inside it). */
  | 'blob_truncated'
  /** Every chunk opened but the whole plaintext does not have the SHA-256 the sender announced. */
  | 'hash_mismatch';

/** Result of opening one chunk. */
export type ChunkResult = { ok: true; plaintext: Uint8Array } | { ok: false; code: FileOpenCode };

/** Final verdict on a whole file. */
export type FileOpenResult = { ok: true; size: number } | { ok: false; code: FileOpenCode; chunk?: number };

/** Where a chunk sits: which blob, which index, out of how many chunks. `isLast` is `index === count - 1`. */
export interface ChunkPosition {
  blobId: string;
  index: number;
  count: number;
}

/** A fresh random file key ([FILE-1]). */
export function generateFileKey(): Uint8Array {
  return randomBytes(FILE_KEY_BYTES);
}

/** `HKDF(fileKey, CONTEXT.fileChunk)` ([FILE-1]). Throws `CryptoError('bad_length')` unless the key is 32 bytes. */
export function deriveChunkKey(fileKey: Uint8Array): Uint8Array {
  expectBytes('fileKey', fileKey, FILE_KEY_BYTES);
  return hkdf(fileKey, CONTEXT.fileChunk);
}

function checkPosition(pos: ChunkPosition): void {
  if (typeof pos.blobId !== 'string' || pos.blobId.length === 0 || pos.blobId.length > 64)
    throw new CryptoError('bad_params', 'blobId must be a non-empty string of at most 64 characters');
  if (!Number.isInteger(pos.count) || pos.count < 1 || pos.count > 0xffffffff) throw new CryptoError('bad_params', 'chunk count must be in 1..2^32-1');
  if (!Number.isInteger(pos.index) || pos.index < 0 || pos.index >= pos.count) throw new CryptoError('bad_params', 'chunk index out of range');
}

/** The associated data of a chunk ([FILE-3]). Throws `CryptoError('bad_params')` for an impossible position. */
export function chunkAad(pos: ChunkPosition): Uint8Array {
  checkPosition(pos);
  const isLast = pos.index === pos.count - 1 ? 1 : 0;
  return lp(utf8(CONTEXT.fileChunk), utf8(pos.blobId), u32be(pos.index), Uint8Array.of(isLast), u32be(pos.count));
}

/** Plaintext length chunk `index` of a `size`-byte file must have ([FILE-2]). */
function plainChunkLength(size: number, pos: ChunkPosition): number {
  return pos.index < pos.count - 1 ? FILE_CHUNK_BYTES : size - (pos.count - 1) * FILE_CHUNK_BYTES;
}

/**
 * Seals one chunk ([FILE-2], [FILE-3]) under `chunkKey` (from `deriveChunkKey`). Throws `CryptoError` for a
 * key that is not 32 bytes, an impossible position, or a plaintext over 64 KiB, or under 64 KiB for a chunk
 * that is not the last.
 */
export function encryptChunk(chunkKey: Uint8Array, pos: ChunkPosition, plaintext: Uint8Array): Uint8Array {
  expectBytes('chunkKey', chunkKey, AEAD_KEY_BYTES);
  expectBytes('plaintext', plaintext);
  const aad = chunkAad(pos);
  const isLast = pos.index === pos.count - 1;
  if (plaintext.length > FILE_CHUNK_BYTES || (!isLast && plaintext.length !== FILE_CHUNK_BYTES) || (isLast && pos.count > 1 && plaintext.length === 0))
    throw new CryptoError('bad_length', `chunk ${pos.index} has ${plaintext.length} bytes; chunks are 64 KiB except a non-empty last one`);
  const nonce = randomBytes(AEAD_NONCE_BYTES);
  return concatBytes(nonce, aeadEncrypt(chunkKey, nonce, plaintext, aad));
}

/**
 * Verifies and opens one sealed chunk at `pos`. Never throws on peer data: anything that does not
 * authenticate (wrong length for its position included) is `blob_tampered`. Throws `CryptoError` only
 * for our own bad arguments (key length, impossible position).
 */
export function openChunk(chunkKey: Uint8Array, pos: ChunkPosition, sealed: Uint8Array): ChunkResult {
  expectBytes('chunkKey', chunkKey, AEAD_KEY_BYTES);
  const aad = chunkAad(pos);
  if (!(sealed instanceof Uint8Array) || sealed.length < BLOB_CHUNK_OVERHEAD || sealed.length > BLOB_CHUNK_BYTES) return { ok: false, code: 'blob_tampered' };
  if (pos.index < pos.count - 1 && sealed.length !== BLOB_CHUNK_BYTES) return { ok: false, code: 'blob_tampered' };
  try {
    return { ok: true, plaintext: aeadDecrypt(chunkKey, sealed.subarray(0, AEAD_NONCE_BYTES), sealed.subarray(AEAD_NONCE_BYTES), aad) };
  } catch (error) {
    if (error instanceof CryptoError) return { ok: false, code: 'blob_tampered' };
    throw error;
  }
}

/** What both directions need to know about a file. */
export interface FileParams {
  /** The 32-byte file key. */
  fileKey: Uint8Array;
  /** The blob id the server assigned (bound into every chunk's AAD). */
  blobId: string;
  /** Plaintext size in bytes. */
  size: number;
}

function checkSize(size: number): void {
  if (!Number.isSafeInteger(size) || size < 0) throw new CryptoError('bad_params', 'file size must be a non-negative safe integer');
}

/**
 * Seals a file chunk by chunk, in order, hashing the plaintext as it goes. Holds one chunk at a time.
 * Use `sealNext` for each 64 KiB chunk (the last shorter), then `digest()`.
 */
export class FileSealer {
  readonly #chunkKey: Uint8Array;
  readonly #blobId: string;
  readonly #size: number;
  readonly #count: number;
  readonly #hash = nobleSha256.create();
  #next = 0;

  /** Throws `CryptoError` for a key that is not 32 bytes or a negative / unsafe size. */
  constructor(params: FileParams) {
    checkSize(params.size);
    this.#chunkKey = deriveChunkKey(params.fileKey);
    this.#blobId = params.blobId;
    this.#size = params.size;
    this.#count = fileChunkCount(params.size);
    checkPosition({ blobId: params.blobId, index: 0, count: this.#count });
  }

  /** Number of chunks of this file. */
  get count(): number {
    return this.#count;
  }

  /** Index of the next chunk `sealNext` expects. */
  get nextIndex(): number {
    return this.#next;
  }

  /**
   * Hashes `plaintext` and, unless `skip` (a resumed upload whose chunk the server already holds), seals it
   * as the next chunk. Throws `CryptoError('bad_length')` when the chunk does not have the length its
   * position requires, `CryptoError('bad_params')` after the last chunk.
   */
  sealNext(plaintext: Uint8Array, skip = false): { index: number; sealed: Uint8Array | null; isLast: boolean } {
    const pos = { blobId: this.#blobId, index: this.#next, count: this.#count };
    if (this.#next >= this.#count) throw new CryptoError('bad_params', 'the file has no more chunks');
    expectBytes('plaintext', plaintext);
    if (plaintext.length !== plainChunkLength(this.#size, pos))
      throw new CryptoError('bad_length', `chunk ${pos.index} must have ${plainChunkLength(this.#size, pos)} bytes, got ${plaintext.length}`);
    this.#hash.update(plaintext);
    const sealed = skip ? null : encryptChunk(this.#chunkKey, pos, plaintext);
    this.#next += 1;
    return { index: pos.index, sealed, isLast: pos.index === this.#count - 1 };
  }

  /** SHA-256 of the whole plaintext. Throws `CryptoError('bad_params')` before the last chunk was sealed. */
  digest(): Uint8Array {
    if (this.#next !== this.#count) throw new CryptoError('bad_params', 'digest before the last chunk');
    return this.#hash.digest();
  }
}

/**
 * Opens a file chunk by chunk, in order, checking the hash at the end ([FILE-4]). Never throws on peer
 * data; after a failure every later call repeats it.
 */
export class FileOpener {
  readonly #chunkKey: Uint8Array;
  readonly #blobId: string;
  readonly #size: number;
  readonly #count: number;
  readonly #expected: Uint8Array;
  readonly #hash = nobleSha256.create();
  #next = 0;
  #failure: { ok: false; code: FileOpenCode; chunk?: number } | null = null;

  /** Throws `CryptoError` for a key that is not 32 bytes, a bad size, or a hash that is not 32 bytes. */
  constructor(params: FileParams & { sha256: Uint8Array }) {
    checkSize(params.size);
    expectBytes('sha256', params.sha256, 32);
    this.#chunkKey = deriveChunkKey(params.fileKey);
    this.#blobId = params.blobId;
    this.#size = params.size;
    this.#count = fileChunkCount(params.size);
    this.#expected = params.sha256;
    checkPosition({ blobId: params.blobId, index: 0, count: this.#count });
  }

  /** Number of chunks expected. */
  get count(): number {
    return this.#count;
  }

  /** Index of the next expected chunk (`count` once all arrived). */
  get nextIndex(): number {
    return this.#next;
  }

  /** Bytes of the sealed blob before the next expected chunk: where a resumed download continues ([FILE-11]). */
  get sealedOffset(): number {
    return this.#next < this.#count ? this.#next * BLOB_CHUNK_BYTES : blobSizeFor(this.#size);
  }

  /** Sealed length of the next expected chunk (0 once all arrived): how a download stream is split. */
  get nextSealedLength(): number {
    if (this.#next >= this.#count) return 0;
    return blobChunkSize(blobSizeFor(this.#size), this.#count, this.#next) ?? 0;
  }

  /** Opens the next chunk. A chunk after the last one is `blob_tampered` (the blob is longer than declared). */
  openNext(sealed: Uint8Array): ChunkResult {
    if (this.#failure) return this.#failure;
    if (this.#next >= this.#count) return this.#fail('blob_tampered');
    const pos = { blobId: this.#blobId, index: this.#next, count: this.#count };
    const r = openChunk(this.#chunkKey, pos, sealed);
    if (!r.ok) return this.#fail(r.code);
    if (r.plaintext.length !== plainChunkLength(this.#size, pos)) return this.#fail('blob_tampered');
    this.#hash.update(r.plaintext);
    this.#next += 1;
    return r;
  }

  /** The verdict once the data ended: truncated when chunks are missing, else the hash check. */
  finish(): FileOpenResult {
    if (this.#failure) return this.#failure;
    if (this.#next < this.#count) return this.#fail('blob_truncated');
    if (!equalBytes(this.#hash.digest(), this.#expected)) return this.#fail('hash_mismatch');
    return { ok: true, size: this.#size };
  }

  #fail(code: FileOpenCode): { ok: false; code: FileOpenCode; chunk?: number } {
    this.#failure = { ok: false, code, chunk: this.#next };
    return this.#failure;
  }
}

/** Bytes from memory, an async iterable (Node streams, generators) or a WHATWG ReadableStream. */
export type ByteSource = Uint8Array | AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>;

async function* iterate(source: ByteSource): AsyncGenerator<Uint8Array> {
  if (source instanceof Uint8Array) {
    yield source;
  } else if (typeof (source as Partial<ReadableStream<Uint8Array>>).getReader === 'function') {
    // getReader works in every browser (async iteration of ReadableStream does not everywhere yet).
    const reader = (source as ReadableStream<Uint8Array>).getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        yield value;
      }
    } finally {
      reader.releaseLock();
    }
  } else {
    yield* source as AsyncIterable<Uint8Array>;
  }
}

/**
 * Re-cuts `source` into pieces of the lengths `nextLength()` asks for (0 = stop), copying at most one piece
 * at a time. Yields `{bytes, complete}`; `complete` is false only for a final piece the source ended inside.
 * Throws `CryptoError('bad_format')` for a source item that is not a Uint8Array.
 */
export async function* rechunk(source: ByteSource, nextLength: () => number): AsyncGenerator<{ bytes: Uint8Array; complete: boolean }, { extra: boolean }> {
  let want = nextLength();
  let buf = new Uint8Array(want);
  let filled = 0;
  for await (const item of iterate(source)) {
    if (!(item instanceof Uint8Array)) throw new CryptoError('bad_format', 'source yielded something that is not a Uint8Array');
    let offset = 0;
    while (offset < item.length) {
      if (want === 0) return { extra: true };
      const take = Math.min(want - filled, item.length - offset);
      buf.set(item.subarray(offset, offset + take), filled);
      filled += take;
      offset += take;
      if (filled === want) {
        yield { bytes: buf, complete: true };
        want = nextLength();
        buf = new Uint8Array(want);
        filled = 0;
      }
    }
  }
  // The source ended inside a piece: hand over what arrived, marked incomplete.
  if (want > 0 && filled > 0) yield { bytes: buf.subarray(0, filled), complete: false };
  return { extra: false };
}

/**
 * Reads `source` (exactly `size` bytes) and seals it chunk by chunk, awaiting `sink` for each sealed chunk
 * (backpressure: one chunk in memory at a time). `skip(index)` says a chunk is already stored (resume): it
 * is hashed but not sealed nor passed on. Returns the plaintext SHA-256 for the FileRef.
 * Throws `CryptoError('bad_length')` when the source is shorter or longer than `size`.
 */
export async function sealFileChunks(
  params: FileParams,
  source: ByteSource,
  sink: (chunk: { index: number; sealed: Uint8Array; isLast: boolean }) => void | Promise<void>,
  skip: (index: number) => boolean = () => false,
): Promise<{ sha256: Uint8Array; chunks: number }> {
  const sealer = new FileSealer(params);
  const lengths = (): number => {
    const i = sealer.nextIndex;
    if (i >= sealer.count) return 0;
    return i < sealer.count - 1 ? FILE_CHUNK_BYTES : params.size - (sealer.count - 1) * FILE_CHUNK_BYTES;
  };
  const pieces = rechunk(source, lengths);
  // An empty file is one empty chunk: the source yields nothing, rechunk asks for 0 bytes.
  if (params.size === 0) {
    for await (const item of iterate(source)) if (item.length > 0) throw new CryptoError('bad_length', 'the source is longer than the declared size');
    const c = sealer.sealNext(new Uint8Array(0));
    if (c.sealed) await sink({ index: c.index, sealed: c.sealed, isLast: true });
    return { sha256: sealer.digest(), chunks: 1 };
  }
  try {
    for (;;) {
      const step = await pieces.next();
      if (step.done) {
        if (step.value.extra) throw new CryptoError('bad_length', 'the source is longer than the declared size');
        break;
      }
      if (!step.value.complete) break;
      const index = sealer.nextIndex;
      const c = sealer.sealNext(step.value.bytes, skip(index));
      if (c.sealed) await sink({ index: c.index, sealed: c.sealed, isLast: c.isLast });
    }
  } finally {
    await pieces.return({ extra: false }); // releases a ReadableStream reader when we stop early
  }
  if (sealer.nextIndex !== sealer.count) throw new CryptoError('bad_length', 'the source is shorter than the declared size');
  return { sha256: sealer.digest(), chunks: sealer.count };
}

/**
 * Splits the concatenated sealed chunks of a download (`source`, any piece sizes) at the fixed chunk
 * boundaries, opens each in order and awaits `sink` with its plaintext; checks truncation and the hash at
 * the end. Never throws on peer data (a failure stops at once and is returned); rethrows what `source`
 * or `sink` throw (network errors, aborts). Plaintext passed to `sink` is authenticated chunk by chunk, but
 * the file is only whole and right when the result is `ok`: on failure, discard what the sink received.
 * Pass the `opener` of an earlier call whose source broke off to continue there ([FILE-11]): `source` then
 * starts at `opener.sealedOffset`, and a chunk the break cut in two is read again whole.
 */
export async function openFileChunks(
  params: FileParams & { sha256: Uint8Array },
  source: ByteSource,
  sink: (plaintext: Uint8Array, index: number) => void | Promise<void>,
  opener: FileOpener = new FileOpener(params),
): Promise<FileOpenResult> {
  const pieces = rechunk(source, () => opener.nextSealedLength);
  let index = opener.nextIndex;
  try {
    for (;;) {
      const step = await pieces.next();
      if (step.done) {
        // Bytes after the last chunk: the blob is not the one the FileRef describes.
        if (step.value.extra) return { ok: false, code: 'blob_tampered', chunk: index };
        break;
      }
      if (!step.value.complete) return { ok: false, code: 'blob_truncated', chunk: index };
      const r = opener.openNext(step.value.bytes);
      if (!r.ok) return opener.finish();
      await sink(r.plaintext, index);
      index += 1;
    }
  } finally {
    await pieces.return({ extra: false }); // releases a ReadableStream reader when we stop early
  }
  return opener.finish();
}
