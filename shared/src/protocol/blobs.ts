/**
 * REST contract for encrypted file blobs (`/api/blobs/*`, docs/api.md "Blobs") and the `FileRef` a message
 * carries inside its encrypted document (docs/protocol.md "Files").
 *
 * The server sees a blob as an ordered list of opaque sealed chunks. Their sizes are fixed by the format
 * ([FILE-2]): every chunk but the last holds exactly `FILE_CHUNK_BYTES` of plaintext and so is exactly
 * `BLOB_CHUNK_BYTES` long sealed; the last is `BLOB_CHUNK_OVERHEAD ..= BLOB_CHUNK_BYTES` long. So the server
 * can check each chunk's length on upload, and a download is the plain concatenation of the chunks, which
 * the client splits at fixed offsets (no framing bytes). Pure: safe for the server to import.
 */
import { z } from 'zod';
import { b64Bytes } from './auth.ts';

/** Plaintext bytes per chunk (the last chunk of a file may be shorter). */
export const FILE_CHUNK_BYTES = 64 * 1024;
/** Bytes sealing adds to a chunk: a 24-byte random XChaCha20 nonce and a 16-byte Poly1305 tag. */
export const BLOB_CHUNK_OVERHEAD = 24 + 16;
/** Sealed size of a full chunk, and the largest chunk the server accepts. */
export const BLOB_CHUNK_BYTES = FILE_CHUNK_BYTES + BLOB_CHUNK_OVERHEAD;
/** Most chunks one blob may have (the chunk index is a u32 in the AAD; the server's size cap is far lower). */
export const BLOB_MAX_CHUNKS = 0xffff_ffff;

/** Number of chunks a file of `plaintextSize` bytes is split into (an empty file is one empty chunk). */
export function fileChunkCount(plaintextSize: number): number {
  if (!Number.isSafeInteger(plaintextSize) || plaintextSize < 0) throw new RangeError('plaintext size must be a non-negative safe integer');
  return Math.max(1, Math.ceil(plaintextSize / FILE_CHUNK_BYTES));
}

/** Sealed (ciphertext) size of a file of `plaintextSize` bytes: what `POST /api/blobs` declares as `size`. */
export function blobSizeFor(plaintextSize: number): number {
  return plaintextSize + fileChunkCount(plaintextSize) * BLOB_CHUNK_OVERHEAD;
}

/**
 * The sealed length chunk `index` must have in a blob of `size` bytes in `chunks` chunks, or null when
 * the pair (size, chunks) is not a valid layout or `index` is out of range. Both sides use it: the server
 * to refuse a chunk of the wrong length, the client to split a download.
 */
export function blobChunkSize(size: number, chunks: number, index: number): number | null {
  if (!isBlobLayout(size, chunks) || !Number.isInteger(index) || index < 0 || index >= chunks) return null;
  return index < chunks - 1 ? BLOB_CHUNK_BYTES : size - (chunks - 1) * BLOB_CHUNK_BYTES;
}

/** True when `size` sealed bytes split into exactly `chunks` chunks under [FILE-2]. */
export function isBlobLayout(size: number, chunks: number): boolean {
  if (!Number.isSafeInteger(size) || !Number.isInteger(chunks) || chunks < 1 || chunks > BLOB_MAX_CHUNKS) return false;
  const last = size - (chunks - 1) * BLOB_CHUNK_BYTES;
  return last >= BLOB_CHUNK_OVERHEAD && last <= BLOB_CHUNK_BYTES;
}

/** A blob id: a random UUID chosen by the server. */
export const BlobId = z.uuid();

/** `POST /api/blobs`: reserve a blob for an upload into a conversation the caller belongs to. */
export const CreateBlobRequest = z
  .object({
    convId: z.uuid(),
    /** Total sealed bytes (what the quota and BLOB_MAX_BYTES count). */
    size: z.number().int().min(BLOB_CHUNK_OVERHEAD).max(Number.MAX_SAFE_INTEGER),
    /** Number of sealed chunks; must be consistent with `size` ([FILE-2]). */
    chunks: z.number().int().min(1).max(BLOB_MAX_CHUNKS),
  })
  .strict()
  .refine((r) => isBlobLayout(r.size, r.chunks), { message: 'size and chunks do not describe 64 KiB chunks', path: ['chunks'] });
export type CreateBlobRequest = z.infer<typeof CreateBlobRequest>;

/** Answer to `POST /api/blobs` (201). */
export const CreateBlobResponse = z.object({ blobId: BlobId }).strict();
export type CreateBlobResponse = z.infer<typeof CreateBlobResponse>;

/** Where an upload stands: `uploading` until `POST /complete` succeeds, then `complete`. */
export const BlobState = z.enum(['uploading', 'complete']);
export type BlobState = z.infer<typeof BlobState>;

/** `GET /api/blobs/:id/status` (owner only while uploading; members once complete). */
export const BlobStatus = z
  .object({
    blobId: BlobId,
    convId: z.uuid(),
    size: z.number().int().min(0),
    chunks: z.number().int().min(1),
    state: BlobState,
    /** Chunk indexes the server holds, ascending. */
    received: z.array(z.number().int().min(0)).max(BLOB_MAX_CHUNKS),
  })
  .strict();
export type BlobStatus = z.infer<typeof BlobStatus>;

/** The body of `POST /complete`, `/attach`, `/detach`: empty (`{}`) or absent. */
export const BlobEmptyBody = z.object({}).strict();

/** Longest file name a FileRef carries (UTF-16 code units; the UI shortens for display). */
export const FILE_NAME_MAX = 255;

/**
 * [FILE-5] The reference to an uploaded file, carried ONLY inside a message of the encrypted conversation
 * document (never sent to the server on its own): the blob to fetch, the key to open it, and what the
 * user sees. Receivers parse it with this schema like any other decrypted content.
 */
export const FileRef = z
  .object({
    v: z.literal(1),
    blobId: BlobId,
    /** The random 32-byte file key (unpadded base64url). */
    key: b64Bytes(32),
    /** File name as the sender chose it; display only, never used as a path. */
    name: z.string().min(1).max(FILE_NAME_MAX),
    /** Declared MIME type (may be empty); the receiver must not trust it for rendering decisions alone. */
    type: z.string().max(255).regex(/^[\x20-\x7e]*$/),
    /** Plaintext size in bytes. */
    size: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    /** SHA-256 of the whole plaintext (unpadded base64url), checked after download. */
    sha256: b64Bytes(32),
  })
  .strict();
export type FileRef = z.infer<typeof FileRef>;

/** One byte range of a blob, both ends inclusive (`end < size`). */
export interface ByteRange {
  start: number;
  end: number;
}

/** A `Range` request header the download understands: one range of bytes (`a-b`, `a-` or `-n`). */
const RANGE = /^bytes=(\d{1,15})?-(\d{1,15})?$/;
const RangeHeader = z.string().max(64).regex(RANGE);

/**
 * [FILE-11] Resolves the `Range` header of a blob download against the blob's `size` (RFC 9110 §14.2):
 * `undefined` when the whole blob is sent (no header, another unit, several ranges, a malformed or inverted
 * range: a server may ignore those), `'unsatisfiable'` (416) when the range starts at or past the end (or
 * asks for the last 0 bytes), else the range, its end clipped to the blob.
 */
export function resolveByteRange(header: unknown, size: number): ByteRange | 'unsatisfiable' | undefined {
  const parsed = RangeHeader.safeParse(header);
  if (!parsed.success) return undefined;
  const [, first, last] = RANGE.exec(parsed.data)!;
  if (!first && !last) return undefined; // "bytes=-"
  if (!first) {
    const suffix = Number(last);
    return suffix === 0 || size === 0 ? 'unsatisfiable' : { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last ? Number(last) : size - 1;
  if (last && end < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  return { start, end: Math.min(end, size - 1) };
}

/** The `Content-Range` of a partial blob download: `bytes <start>-<end>/<size>`. */
const CONTENT_RANGE = /^bytes (\d{1,15})-(\d{1,15})\/(\d{1,15})$/;
const ContentRangeHeader = z.string().max(64).regex(CONTENT_RANGE);

/** Parses a `Content-Range` answer header; undefined when it is absent, malformed or inconsistent. */
export function parseContentRange(header: unknown): (ByteRange & { size: number }) | undefined {
  const parsed = ContentRangeHeader.safeParse(header);
  if (!parsed.success) return undefined;
  const [start, end, size] = CONTENT_RANGE.exec(parsed.data)!.slice(1).map(Number) as [number, number, number];
  return start <= end && end < size ? { start, end, size } : undefined;
}
