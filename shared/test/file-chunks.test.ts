/**
 * File chunk encryption ([FILE-1]..[FILE-4] in docs/protocol.md): round trips over every source shape, one
 * tamper test per authenticated field of a chunk (blob id, index, last-chunk flag, count, ciphertext, nonce),
 * reordering, truncation at and inside a chunk boundary, trailing bytes, a wrong announced hash, and a
 * source whose length differs from the declared size.
 */
import { describe, expect, it } from 'vitest';
import { sha256 } from '@noble/hashes/sha2.js';
import {
  chunkAad,
  deriveChunkKey,
  encryptChunk,
  FileOpener,
  generateFileKey,
  openChunk,
  openFileChunks,
  sealFileChunks,
  type ByteSource,
} from '../src/crypto/file-chunks.ts';
import { CryptoError } from '../src/crypto/errors.ts';
import { BLOB_CHUNK_BYTES, blobChunkSize, blobSizeFor, FILE_CHUNK_BYTES, fileChunkCount, isBlobLayout } from '../src/protocol/blobs.ts';

const BLOB = '3f1c9a52-7d1e-4c3b-9a55-6f2e8d7c1b00';
const OTHER_BLOB = '3f1c9a52-7d1e-4c3b-9a55-6f2e8d7c1b01';

/** Deterministic bytes (xorshift), so failures reproduce. */
function bytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

async function* pieces(data: Uint8Array, sizes: number[]): AsyncGenerator<Uint8Array> {
  let offset = 0;
  let i = 0;
  while (offset < data.length) {
    const n = sizes[i++ % sizes.length]!;
    yield data.slice(offset, offset + n);
    offset += n;
  }
}

function stream(data: Uint8Array, piece: number): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= data.length) return controller.close();
      controller.enqueue(data.slice(offset, offset + piece));
      offset += piece;
    },
  });
}

async function seal(data: Uint8Array, key: Uint8Array, blobId = BLOB, source: ByteSource = data) {
  const chunks: Uint8Array[] = [];
  const r = await sealFileChunks({ fileKey: key, blobId, size: data.length }, source, (c) => {
    expect(c.index).toBe(chunks.length);
    chunks.push(c.sealed);
  });
  return { chunks, sha256: r.sha256 };
}

async function open(chunks: Uint8Array[] | ByteSource, key: Uint8Array, size: number, hash: Uint8Array, blobId = BLOB) {
  const out: Uint8Array[] = [];
  const source = Array.isArray(chunks) ? pieces(concat(chunks), [7777, 65536, 100_000]) : chunks;
  const result = await openFileChunks({ fileKey: key, blobId, size, sha256: hash }, source, (p) => {
    out.push(p.slice());
  });
  return { result, plaintext: concat(out) };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

describe('layout [FILE-2]', () => {
  it('cuts files into 64 KiB chunks, the last shorter; an empty file is one empty chunk', () => {
    expect(fileChunkCount(0)).toBe(1);
    expect(fileChunkCount(1)).toBe(1);
    expect(fileChunkCount(FILE_CHUNK_BYTES)).toBe(1);
    expect(fileChunkCount(FILE_CHUNK_BYTES + 1)).toBe(2);
    expect(blobSizeFor(0)).toBe(40);
    expect(blobSizeFor(FILE_CHUNK_BYTES + 1)).toBe(BLOB_CHUNK_BYTES + 41);
    expect(blobChunkSize(BLOB_CHUNK_BYTES + 41, 2, 0)).toBe(BLOB_CHUNK_BYTES);
    expect(blobChunkSize(BLOB_CHUNK_BYTES + 41, 2, 1)).toBe(41);
    expect(blobChunkSize(BLOB_CHUNK_BYTES + 41, 2, 2)).toBeNull();
    expect(isBlobLayout(39, 1)).toBe(false);
    expect(isBlobLayout(BLOB_CHUNK_BYTES + 1, 1)).toBe(false);
    expect(isBlobLayout(BLOB_CHUNK_BYTES + 39, 2)).toBe(false);
    expect(isBlobLayout(3 * BLOB_CHUNK_BYTES, 3)).toBe(true);
  });
});

describe('round trip [FILE-1] [FILE-4]', () => {
  for (const size of [0, 1, 1000, FILE_CHUNK_BYTES - 1, FILE_CHUNK_BYTES, FILE_CHUNK_BYTES + 1, 3 * FILE_CHUNK_BYTES + 12_345]) {
    it(`a ${size}-byte file opens to the same bytes and hash`, async () => {
      const data = bytes(size, size + 7);
      const key = generateFileKey();
      const { chunks, sha256: hash } = await seal(data, key);
      expect(hash).toEqual(sha256(data));
      expect(chunks.length).toBe(fileChunkCount(size));
      expect(concat(chunks).length).toBe(blobSizeFor(size));
      const { result, plaintext } = await open(chunks, key, size, hash);
      expect(result).toEqual({ ok: true, size });
      expect(plaintext).toEqual(data);
    });
  }

  it('takes async iterables and ReadableStreams cut anywhere', async () => {
    const data = bytes(5 * FILE_CHUNK_BYTES + 999, 3);
    const key = generateFileKey();
    const a = await seal(data, key, BLOB, pieces(data, [1, 4096, 70_000, 13]));
    const b = await seal(data, key, BLOB, stream(data, 10_007));
    expect(a.sha256).toEqual(b.sha256);
    // Random nonces: the same file seals differently each time, and both open.
    expect(a.chunks[0]).not.toEqual(b.chunks[0]);
    expect((await open(stream(concat(b.chunks), 3333), key, data.length, b.sha256)).plaintext).toEqual(data);
  });

  it('skips (hashes but does not seal) chunks a resumed upload already stored', async () => {
    const data = bytes(3 * FILE_CHUNK_BYTES, 9);
    const seen: number[] = [];
    const r = await sealFileChunks({ fileKey: generateFileKey(), blobId: BLOB, size: data.length }, data, (c) => void seen.push(c.index), (i) => i !== 1);
    expect(seen).toEqual([1]);
    expect(r.sha256).toEqual(sha256(data));
  });

  it('refuses a source shorter or longer than the declared size (our own input: throws)', async () => {
    const key = generateFileKey();
    const data = bytes(FILE_CHUNK_BYTES + 10);
    await expect(sealFileChunks({ fileKey: key, blobId: BLOB, size: data.length + 1 }, data, () => {})).rejects.toThrow(CryptoError);
    await expect(sealFileChunks({ fileKey: key, blobId: BLOB, size: data.length - 1 }, data, () => {})).rejects.toThrow(/longer/);
    await expect(sealFileChunks({ fileKey: key, blobId: BLOB, size: 0 }, data, () => {})).rejects.toThrow(/longer/);
    expect(() => deriveChunkKey(new Uint8Array(16))).toThrow(CryptoError);
  });
});

describe('tampering [FILE-3]: every authenticated field', () => {
  const key = generateFileKey();
  const chunkKey = deriveChunkKey(key);
  const pos = { blobId: BLOB, index: 1, count: 3 };
  const plain = bytes(FILE_CHUNK_BYTES, 5);
  const sealed = encryptChunk(chunkKey, pos, plain);

  it('opens at its own position', () => {
    expect(openChunk(chunkKey, pos, sealed)).toEqual({ ok: true, plaintext: plain });
  });

  const cases: Array<[string, () => ReturnType<typeof openChunk>]> = [
    ['another blob id', () => openChunk(chunkKey, { ...pos, blobId: OTHER_BLOB }, sealed)],
    ['another index', () => openChunk(chunkKey, { ...pos, index: 0 }, sealed)],
    ['another count (file length)', () => openChunk(chunkKey, { ...pos, count: 4 }, sealed)],
    ['presented as the last chunk', () => openChunk(chunkKey, { ...pos, count: 2 }, sealed)],
    ['a flipped ciphertext byte', () => openChunk(chunkKey, pos, sealed.map((b, i) => (i === 100 ? b ^ 1 : b)))],
    ['a flipped nonce byte', () => openChunk(chunkKey, pos, sealed.map((b, i) => (i === 0 ? b ^ 0x80 : b)))],
    ['a flipped tag byte', () => openChunk(chunkKey, pos, sealed.map((b, i) => (i === sealed.length - 1 ? b ^ 1 : b)))],
    ['a cut chunk', () => openChunk(chunkKey, pos, sealed.subarray(0, sealed.length - 1))],
    ['another file key', () => openChunk(deriveChunkKey(generateFileKey()), pos, sealed)],
    ['a chunk under the overhead', () => openChunk(chunkKey, pos, new Uint8Array(39))],
  ];
  for (const [name, run] of cases) it(`refuses ${name} as blob_tampered`, () => expect(run()).toEqual({ ok: false, code: 'blob_tampered' }));

  it('the AAD has the documented layout', () => {
    const aad = chunkAad({ blobId: BLOB, index: 2, count: 3 });
    const ctx = new TextEncoder().encode('parley/file-chunk/v1');
    // lp(ctx) lp(blobId) lp(u32 index) lp(u8 isLast) lp(u32 count)
    expect(aad.length).toBe(4 + ctx.length + 4 + 36 + 4 + 4 + 4 + 1 + 4 + 4);
    // ... u32(1) isLast=1 u32(4) count=3
    expect(aad.subarray(aad.length - 13)).toEqual(Uint8Array.of(0, 0, 0, 1, 1, 0, 0, 0, 4, 0, 0, 0, 3));
  });
});

describe('whole files', () => {
  const data = bytes(4 * FILE_CHUNK_BYTES + 500, 11);
  const key = generateFileKey();

  it('refuses reordered chunks, a chunk from another file, a dropped middle chunk', async () => {
    const { chunks, sha256: hash } = await seal(data, key);
    const swapped = [chunks[1]!, chunks[0]!, ...chunks.slice(2)];
    expect((await open(swapped, key, data.length, hash)).result).toMatchObject({ ok: false, code: 'blob_tampered', chunk: 0 });
    const other = await seal(data, key, OTHER_BLOB);
    const mixed = [...chunks.slice(0, 2), other.chunks[2]!, ...chunks.slice(3)];
    expect((await open(mixed, key, data.length, hash)).result).toMatchObject({ ok: false, code: 'blob_tampered', chunk: 2 });
    const dropped = [...chunks.slice(0, 2), ...chunks.slice(3)];
    expect((await open(dropped, key, data.length, hash)).result).toMatchObject({ ok: false, code: 'blob_tampered', chunk: 2 });
  });

  it('reports truncation at a chunk boundary and inside a chunk as blob_truncated', async () => {
    const { chunks, sha256: hash } = await seal(data, key);
    expect((await open(chunks.slice(0, -1), key, data.length, hash)).result).toEqual({ ok: false, code: 'blob_truncated', chunk: 4 });
    const cut = concat(chunks).subarray(0, blobSizeFor(data.length) - 10);
    expect((await open(cut, key, data.length, hash)).result).toEqual({ ok: false, code: 'blob_truncated', chunk: 4 });
    expect((await open(new Uint8Array(0), key, data.length, hash)).result).toEqual({ ok: false, code: 'blob_truncated', chunk: 0 });
  });

  it('refuses trailing bytes after the last chunk, and a wrong announced hash', async () => {
    const { chunks, sha256: hash } = await seal(data, key);
    expect((await open([...chunks, Uint8Array.of(0)], key, data.length, hash)).result).toMatchObject({ ok: false, code: 'blob_tampered' });
    const wrong = hash.map((b, i) => (i === 0 ? b ^ 1 : b));
    expect((await open(chunks, key, data.length, wrong)).result).toEqual({ ok: false, code: 'hash_mismatch', chunk: 5 });
  });

  it('a FileRef size that disagrees with the blob fails instead of yielding plaintext', async () => {
    const { chunks, sha256: hash } = await seal(data, key);
    expect((await open(chunks, key, data.length - 1, hash)).result.ok).toBe(false);
    expect((await open(chunks, key, data.length + FILE_CHUNK_BYTES, hash)).result.ok).toBe(false);
  });

  it('FileOpener repeats its first failure', () => {
    const opener = new FileOpener({ fileKey: key, blobId: BLOB, size: data.length, sha256: sha256(data) });
    expect(opener.openNext(new Uint8Array(100))).toMatchObject({ ok: false, code: 'blob_tampered' });
    expect(opener.finish()).toEqual({ ok: false, code: 'blob_tampered', chunk: 0 });
  });
});
