/**
 * Encrypted file sharing end to end (docs/api.md "Blobs", docs/protocol.md "Files"): real clients
 * (shared/src/client/files.ts over HttpTransport) against a real server on port 0 with real PostgreSQL.
 * Nothing is mocked; the only fault injected is a dropped connection at the fetch edge.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { sha256 } from '@noble/hashes/sha2.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BLOB_CHUNK_BYTES, blobSizeFor, fileChunkCount, FileRef, type FileRef as FileRefType, fromBase64Url, toBase64Url } from '@parley/shared/protocol';
import { attachFile, detachFile, DOWNLOAD_MAX_STALLS, downloadFile, uploadFile } from '../../shared/src/client/files.ts';
import type { FetchLike } from '../../shared/src/client/transport.ts';
import { ClientError } from '../../shared/src/client/errors.ts';
import { dumpPostgres, scan } from '../../scripts/audit-scan.ts';
import { call, errorCode } from './helpers/accounts.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { createConversation, registerUsers, type TestUser } from './sync/support.ts';
import { blobRowCounts, countingFetch, cuttingProxy, deterministicArray, deterministicBytes, deterministicSha256, transportFor } from './blobs-support.ts';

const MiB = 1024 * 1024;
const QUOTA = 64 * MiB;

let srv: TestServer;
let alice: TestUser, bob: TestUser, mallory: TestUser, carol: TestUser;
let convId: string;

beforeAll(async () => {
  srv = await startTestServer({ backend: 'postgres', env: { BLOB_QUOTA_BYTES: String(QUOTA) } });
  [alice, bob, mallory, carol] = await registerUsers(srv.url, ['alice', 'bob', 'mallory', 'carol']);
  convId = (await createConversation(srv.url, alice, [bob, carol])).conversation.id;
});
afterAll(async () => {
  await srv?.close();
});

const api = (method: string, path: string, user: TestUser, json?: unknown) => call(srv.url, method, path, { token: user.token, ...(json !== undefined ? { json } : {}) });
const counts = () => blobRowCounts((sql) => srv.query(sql));

async function upload(user: TestUser, data: Uint8Array, name = 'file.bin', conv = convId) {
  return uploadFile({ transport: transportFor(srv.url, user), convId: conv, name, type: 'application/octet-stream', data });
}

async function putRaw(user: TestUser, blobId: string, index: number, body: Uint8Array, contentType = 'application/octet-stream') {
  const res = await fetch(`${srv.url}/api/blobs/${blobId}/chunks/${index}`, { method: "PUT", headers: { authorization: `Bearer ${user.token}`, "content-type": contentType }, body: new Uint8Array(body) });
  const text = await res.text();
  return { status: res.status, code: text ? errorCode(JSON.parse(text)) : undefined };
}

describe('a 50 MB file between two members', () => {
  it('round-trips through the server: streamed up, streamed down, hash checked; progress reported', async () => {
    const size = 50 * 1000 * 1000 + 123;
    const seed = 0x5eed;
    const progress: number[] = [];
    const before = srv.server.metrics.render();
    const ref = await uploadFile({
      transport: transportFor(srv.url, alice),
      convId,
      name: 'holiday.mov',
      type: 'video/quicktime',
      data: deterministicBytes(size, seed, 1_000_003),
      size,
      onProgress: (p) => progress.push(p.loaded),
    });
    expect(FileRef.parse(ref)).toEqual(ref);
    expect(ref.size).toBe(size);
    expect(fromBase64Url(ref.sha256)).toEqual(await deterministicSha256(size, seed));
    expect(progress.at(-1)).toBe(size);
    expect(progress.every((v, i) => i === 0 || v >= progress[i - 1]!)).toBe(true);
    await attachFile({ transport: transportFor(srv.url, alice), blobId: ref.blobId });

    // The server holds exactly the sealed layout: one row per chunk, nothing more.
    const stored = (await srv.query('SELECT count(*)::int AS n, sum(octet_length(data))::bigint AS bytes FROM blob_chunks WHERE blob_id = $1', [ref.blobId])).rows[0];
    expect(stored).toEqual({ n: fileChunkCount(size), bytes: String(blobSizeFor(size)) });

    // Bob streams it down through a sink (never one buffer) and compares hashes.
    const h = sha256.create();
    let received = 0;
    const r = await downloadFile({
      transport: transportFor(srv.url, bob),
      ref,
      sink: (chunk) => {
        h.update(chunk);
        received += chunk.length;
      },
    });
    expect(r).toMatchObject({ ok: true, size });
    expect(received).toBe(size);
    expect(h.digest()).toEqual(await deterministicSha256(size, seed));

    const metric = (text: string, name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
    const after = srv.server.metrics.render();
    expect(metric(after, 'parley_blob_uploaded_bytes_total') - metric(before, 'parley_blob_uploaded_bytes_total')).toBe(blobSizeFor(size));
    expect(metric(after, 'parley_blob_downloaded_bytes_total') - metric(before, 'parley_blob_downloaded_bytes_total')).toBe(blobSizeFor(size));
    await detachFile({ transport: transportFor(srv.url, alice), blobId: ref.blobId });
    await srv.server.blobs.collectGarbage(); // frees alice's quota for the tests below
    expect((await srv.query('SELECT count(*)::int AS n FROM blobs WHERE id = $1', [ref.blobId])).rows[0]).toEqual({ n: 0 });
  });

  it('without a sink, a small file comes back as bytes', async () => {
    const data = await deterministicArray(200_000, 7);
    const ref = await upload(alice, data);
    const r = await downloadFile({ transport: transportFor(srv.url, carol), ref });
    expect(r.ok && r.data).toEqual(data);
  });

  it('an empty file is one sealed chunk and round-trips', async () => {
    const ref = await upload(alice, new Uint8Array(0), 'empty.txt');
    expect(ref.size).toBe(0);
    const r = await downloadFile({ transport: transportFor(srv.url, bob), ref });
    expect(r).toMatchObject({ ok: true, size: 0 });
  });
});

describe('access: current members only, no existence oracle', () => {
  it('a non-member gets the same 404 as for an unknown id, on every route', async () => {
    const ref = await upload(alice, randomBytes(100_000));
    await attachFile({ transport: transportFor(srv.url, alice), blobId: ref.blobId });
    const unknown = randomUUID();
    for (const id of [ref.blobId, unknown]) {
      for (const [method, path] of [['GET', `/api/blobs/${id}`], ['GET', `/api/blobs/${id}/status`], ['POST', `/api/blobs/${id}/attach`], ['POST', `/api/blobs/${id}/detach`], ['POST', `/api/blobs/${id}/complete`]] as const) {
        const res = await api(method, path, mallory, method === 'POST' ? {} : undefined);
        expect([method, path.replace(id, ':id'), res.status, res.body]).toEqual([method, path.replace(id, ':id'), 404, { error: { code: 'not_found', message: 'No such blob' } }]);
      }
    }
    await expect(downloadFile({ transport: transportFor(srv.url, mallory), ref })).rejects.toMatchObject({ code: 'not_found', status: 404 });
    // Creating a blob in someone else's conversation is refused the same way, and stores nothing.
    const before = await counts();
    await expect(upload(mallory, randomBytes(10))).rejects.toMatchObject({ code: 'not_found' });
    expect(await counts()).toEqual(before);
    // Without a token: 401.
    expect((await call(srv.url, 'GET', `/api/blobs/${ref.blobId}`)).status).toBe(401);
  });

  it('a member who leaves loses access at once', async () => {
    const [dave, erin] = await registerUsers(srv.url, ['dave', 'erin']);
    const c = (await createConversation(srv.url, dave, [erin])).conversation.id;
    const ref = await upload(dave, randomBytes(70_000), 'x', c);
    expect((await downloadFile({ transport: transportFor(srv.url, erin), ref })).ok).toBe(true);
    expect((await api('POST', `/api/conversations/${c}/leave`, erin, {})).status).toBe(204);
    await expect(downloadFile({ transport: transportFor(srv.url, erin), ref })).rejects.toMatchObject({ code: 'not_found' });
  });

  it('an upload in progress is visible only to its owner', async () => {
    const created = await api('POST', '/api/blobs', alice, { convId, size: blobSizeFor(10), chunks: 1 });
    expect(created.status).toBe(201);
    const { blobId } = created.body as { blobId: string };
    expect((await api('GET', `/api/blobs/${blobId}/status`, alice)).body).toEqual({ blobId, convId, size: 50, chunks: 1, state: 'uploading', received: [] });
    expect((await api('GET', `/api/blobs/${blobId}/status`, bob)).status).toBe(404);
    expect(await putRaw(bob, blobId, 0, new Uint8Array(50))).toEqual({ status: 404, code: 'not_found' });
    expect((await api('GET', `/api/blobs/${blobId}`, bob)).status).toBe(409);
  });
});

describe('limits: refused before anything is stored', () => {
  it('an upload over BLOB_MAX_BYTES is refused with 413 and a clear message; no row is written', async () => {
    const before = await counts();
    const size = 100 * MiB + 1;
    const res = await api('POST', '/api/blobs', alice, { convId, size: blobSizeFor(size), chunks: fileChunkCount(size) });
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ error: { code: 'payload_too_large', message: `File is ${size} bytes; this server accepts files up to 104857600 bytes` } });
    // Through the client: refused before a single chunk is read from the source.
    let pulled = 0;
    async function* source() {
      pulled += 1;
      yield new Uint8Array(1);
    }
    await expect(uploadFile({ transport: transportFor(srv.url, alice), convId, name: 'big.iso', type: '', data: source(), size })).rejects.toMatchObject({ code: 'payload_too_large', status: 413 });
    expect(pulled).toBe(0);
    expect(await counts()).toEqual(before);
  });

  it('a chunk body over the cap is refused from Content-Length with 413; a wrong length or type with 400/415', async () => {
    const created = await api('POST', '/api/blobs', alice, { convId, size: BLOB_CHUNK_BYTES + 100, chunks: 2 });
    const { blobId } = created.body as { blobId: string };
    const before = await counts();
    expect(await putRaw(alice, blobId, 0, new Uint8Array(10 * MiB))).toEqual({ status: 413, code: 'payload_too_large' });
    expect(await putRaw(alice, blobId, 0, new Uint8Array(BLOB_CHUNK_BYTES - 1))).toEqual({ status: 400, code: 'invalid_request' });
    expect(await putRaw(alice, blobId, 1, new Uint8Array(101))).toEqual({ status: 413, code: 'payload_too_large' });
    expect(await putRaw(alice, blobId, 2, new Uint8Array(100))).toEqual({ status: 400, code: 'invalid_request' });
    expect(await putRaw(alice, blobId, 1, new Uint8Array(100), 'application/json')).toEqual({ status: 415, code: 'unsupported_media_type' });
    expect(await counts()).toEqual(before);
    // Completing with chunks missing is a conflict; after the last chunk it succeeds; then chunks are frozen.
    expect(await putRaw(alice, blobId, 1, new Uint8Array(100))).toEqual({ status: 204, code: undefined });
    const early = await api('POST', `/api/blobs/${blobId}/complete`, alice, {});
    expect([early.status, errorCode(early.body)]).toEqual([409, 'conflict']);
    expect(await putRaw(alice, blobId, 0, new Uint8Array(BLOB_CHUNK_BYTES))).toEqual({ status: 204, code: undefined });
    expect((await api('POST', `/api/blobs/${blobId}/complete`, alice, {})).status).toBe(204);
    expect((await api('POST', `/api/blobs/${blobId}/complete`, alice, {})).status).toBe(204);
    expect(await putRaw(alice, blobId, 1, new Uint8Array(100))).toEqual({ status: 409, code: 'conflict' });
  });

  it('the per-user quota holds, also under concurrent creations', async () => {
    const [quinn] = await registerUsers(srv.url, ['quinn']);
    const c = (await createConversation(srv.url, quinn, [bob])).conversation.id;
    const create = (mib: number) => {
      const size = mib * MiB;
      return api('POST', '/api/blobs', quinn, { convId: c, size: blobSizeFor(size), chunks: fileChunkCount(size) });
    };
    // 5 x 20 MiB at once against a 64 MiB quota: exactly 3 fit.
    const results = await Promise.all([1, 2, 3, 4, 5].map(() => create(20)));
    expect(results.map((r) => r.status).sort()).toEqual([201, 201, 201, 413, 413]);
    const refused = results.find((r) => r.status === 413)!;
    expect(errorCode(refused.body)).toBe('quota_exceeded');
    expect(JSON.stringify(refused.body)).toMatch(/Storage quota exceeded: \d+ of 67108864 bytes in use/);
    const used = (await srv.query('SELECT sum(size)::bigint AS used FROM blobs b JOIN users u ON u.id = b.owner_id WHERE u.id = $1', [quinn.id])).rows[0];
    expect(Number(used.used)).toBeLessThanOrEqual(QUOTA);
    // Through the client the code is the same.
    await expect(uploadFile({ transport: transportFor(srv.url, quinn), convId: c, name: 'more', type: '', data: deterministicBytes(5 * MiB, 1), size: 5 * MiB })).rejects.toMatchObject({ code: 'quota_exceeded', status: 413 });
  });
});

describe('integrity: the recipient refuses what the server altered', () => {
  async function shared(size: number) {
    const data = await deterministicArray(size, size);
    const ref = await upload(alice, data);
    await attachFile({ transport: transportFor(srv.url, alice), blobId: ref.blobId });
    return { ref, data };
  }

  it('one flipped byte in the database: blob_tampered, no plaintext', async () => {
    const { ref } = await shared(300_000);
    await srv.query('UPDATE blob_chunks SET data = set_byte(data, 1000, get_byte(data, 1000) # 1) WHERE blob_id = $1 AND idx = 2', [ref.blobId]);
    const got: Uint8Array[] = [];
    const r = await downloadFile({ transport: transportFor(srv.url, bob), ref, sink: (c) => void got.push(c) });
    expect(r).toEqual({ ok: false, code: 'blob_tampered', chunk: 2, message: expect.stringMatching(/altered/) });
    expect(got.length).toBe(2); // chunks before the bad one were authenticated; the caller discards them
  });

  it('a blob cut short by the server (last chunk dropped, sizes adjusted to match): blob_truncated', async () => {
    const { ref } = await shared(3 * 65536 + 5);
    await srv.query('DELETE FROM blob_chunks WHERE blob_id = $1 AND idx = 3', [ref.blobId]);
    await srv.query('UPDATE blobs SET chunk_count = 3, size = $2 WHERE id = $1', [ref.blobId, 3 * BLOB_CHUNK_BYTES]);
    const r = await downloadFile({ transport: transportFor(srv.url, bob), ref });
    expect(r).toMatchObject({ ok: false, code: 'blob_truncated', chunk: 3 });
  });

  it('a last chunk shortened inside: blob_truncated; a chunk swapped with another: blob_tampered', async () => {
    const { ref } = await shared(2 * 65536 + 5000);
    await srv.query('UPDATE blob_chunks SET data = substring(data from 1 for 100) WHERE blob_id = $1 AND idx = 2', [ref.blobId]);
    await srv.query('UPDATE blobs SET size = size - (5040 - 100) WHERE id = $1', [ref.blobId]);
    expect(await downloadFile({ transport: transportFor(srv.url, bob), ref })).toMatchObject({ ok: false, code: 'blob_truncated' });
    const other = await shared(2 * 65536 + 5000);
    await srv.query(
      `UPDATE blob_chunks a SET data = b.data FROM blob_chunks b WHERE a.blob_id = $1 AND a.idx = 0 AND b.blob_id = $1 AND b.idx = 1`,
      [other.ref.blobId],
    );
    expect(await downloadFile({ transport: transportFor(srv.url, bob), ref: other.ref })).toMatchObject({ ok: false, code: 'blob_tampered', chunk: 0 });
  });

  it('a FileRef whose hash does not match: hash_mismatch; a malformed FileRef: invalid_ref', async () => {
    const { ref } = await shared(10_000);
    const wrong = { ...ref, sha256: toBase64Url(new Uint8Array(32)) };
    expect(await downloadFile({ transport: transportFor(srv.url, bob), ref: wrong })).toMatchObject({ ok: false, code: 'hash_mismatch' });
    expect(await downloadFile({ transport: transportFor(srv.url, bob), ref: { ...ref, key: 'short' } })).toMatchObject({ ok: false, code: 'invalid_ref' });
    expect(await downloadFile({ transport: transportFor(srv.url, bob), ref: { ...ref, extra: 1 } })).toMatchObject({ ok: false, code: 'invalid_ref' });
  });
});

describe('resume', () => {
  it('an upload aborted midway resumes from what the server holds (only missing chunks are sent)', async () => {
    const size = 40 * 65536 + 777;
    const data = await deterministicArray(size, 99);
    const controller = new AbortController();
    let created: { blobId: string; key: Uint8Array } | null = null;
    const first = uploadFile({
      transport: transportFor(srv.url, alice),
      convId,
      name: 'resume.bin',
      type: '',
      data,
      signal: controller.signal,
      onBlobCreated: (b) => {
        created = b;
      },
      onProgress: (p) => {
        if (p.loaded >= 15 * 65536) controller.abort(new Error('user cancelled'));
      },
    });
    await expect(first).rejects.toThrow('user cancelled');
    expect(created).not.toBeNull();
    const { blobId, key } = created!;
    const status = await api('GET', `/api/blobs/${blobId}/status`, alice);
    const have = (status.body as { received: number[] }).received;
    expect(have.length).toBeGreaterThanOrEqual(15);
    expect(have.length).toBeLessThan(41);

    const net = countingFetch();
    const ref = await uploadFile({ transport: transportFor(srv.url, alice, net.fetch), convId, name: 'resume.bin', type: '', data, resume: { blobId, key } });
    // Only chunks missing at the resume's own status query are sent (PUTs the abort cut off late may
    // still have landed after our status query above, so this is at most, not exactly, 41 - have.length).
    const resent = net.counts.get('PUT /api/blobs/:id/chunks/:n') ?? 0;
    expect(resent).toBeGreaterThan(0);
    expect(resent).toBeLessThanOrEqual(41 - have.length);
    expect(ref.blobId).toBe(blobId);
    const r = await downloadFile({ transport: transportFor(srv.url, bob), ref });
    expect(r.ok && r.data).toEqual(data);
  });

  it('dropped connections are retried with backoff and the upload completes', async () => {
    const data = await deterministicArray(6 * 65536, 5);
    const net = countingFetch();
    net.dropNext('PUT', /\/chunks\/2$/, 2);
    net.dropNext('POST', /\/complete$/, 1);
    const ref = await uploadFile({ transport: transportFor(srv.url, alice, net.fetch), convId, name: 'flaky', type: '', data, retry: { baseDelayMs: 10 } });
    expect(net.counts.get('PUT /api/blobs/:id/chunks/:n')).toBe(6 + 2);
    expect(net.counts.get('POST /api/blobs/:id/complete')).toBe(2);
    expect((await downloadFile({ transport: transportFor(srv.url, carol), ref })).ok).toBe(true);
  });

  it('a resume for another file or conversation is refused before anything is sent', async () => {
    const ref = await upload(alice, randomBytes(1000));
    await expect(
      uploadFile({ transport: transportFor(srv.url, alice), convId, name: 'x', type: '', data: randomBytes(2000), resume: { blobId: ref.blobId, key: fromBase64Url(ref.key) } }),
    ).rejects.toBeInstanceOf(ClientError);
  });
});

describe('downloads resume where they broke off ([FILE-11])', () => {
  const B = BLOB_CHUNK_BYTES;
  /** A fetch that notes each request's Range header (`strip`: and drops it, like a proxy that removes it). */
  const rangeLog = (strip = false) => {
    const ranges: Array<string | null> = [];
    const fetchImpl: FetchLike = (url, init) => {
      const headers = new Headers(init.headers);
      ranges.push(headers.get('range'));
      if (strip) headers.delete('range');
      return fetch(url, { ...init, headers });
    };
    return { ranges, fetchImpl };
  };
  /** Downloads `ref` through a proxy cutting its k-th connection after `cuts[k]` bytes; collects the sink's chunks. */
  async function throughCuts(ref: FileRefType, cuts: readonly number[], strip = false) {
    const proxy = await cuttingProxy(srv.url, (k) => cuts[k] ?? Infinity);
    const log = rangeLog(strip);
    const pieces: Uint8Array[] = [];
    const progress: number[] = [];
    try {
      const result = await downloadFile({
        transport: transportFor(proxy.url, bob, log.fetchImpl),
        ref,
        retry: { baseDelayMs: 10 },
        sink: (c) => void pieces.push(c.slice()),
        onProgress: (p) => progress.push(p.loaded),
      });
      return { result, pieces, progress, ranges: log.ranges, connections: proxy.connections };
    } finally {
      await proxy.close();
    }
  }

  it('a transfer cut three times resumes from the first chunk not yet opened; the sink gets each chunk once, in order', async () => {
    const size = 16 * 65536 + 999; // 17 chunks
    const data = await deterministicArray(size, 31);
    const ref = await upload(alice, data);
    // The answer's headers (a few hundred bytes) come first, so: connection 0 breaks inside chunk 4,
    // connection 1 before a whole chunk passed, connection 2 inside chunk 4 + 5 = 9; connection 3 finishes.
    const r = await throughCuts(ref, [4 * B + 20_000, 10_000, 5 * B + 2_000]);
    expect(r.result).toMatchObject({ ok: true, size });
    expect(r.ranges).toEqual([null, `bytes=${4 * B}-`, `bytes=${4 * B}-`, `bytes=${9 * B}-`]);
    expect(r.pieces.map((p) => p.length)).toEqual([...Array<number>(16).fill(65536), 999]);
    const joined = new Uint8Array(size);
    r.pieces.reduce((at, p) => (joined.set(p, at), at + p.length), 0);
    expect(joined).toEqual(data);
    expect(r.progress.at(-1)).toBe(size);
    expect(r.progress.every((v, i) => i === 0 || v > r.progress[i - 1]!)).toBe(true);
  });

  it('a server answer without the range (a proxy dropped the header) is read past what was already opened', async () => {
    const size = 6 * 65536;
    const data = await deterministicArray(size, 32);
    const ref = await upload(alice, data);
    const r = await throughCuts(ref, [3 * B + 5_000], true);
    expect(r.result).toMatchObject({ ok: true, size });
    expect(r.ranges).toEqual([null, `bytes=${3 * B}-`]); // asked for, stripped on the way: a 200 came back
    expect(r.pieces.length).toBe(6);
    const joined = new Uint8Array(size);
    r.pieces.reduce((at, p) => (joined.set(p, at), at + p.length), 0);
    expect(joined).toEqual(data);
  });

  it(`a transfer that keeps breaking before a whole chunk gives up with network after ${DOWNLOAD_MAX_STALLS} tries`, async () => {
    const ref = await upload(alice, await deterministicArray(3 * 65536, 33));
    const proxy = await cuttingProxy(srv.url, () => 5_000);
    try {
      const e = await downloadFile({ transport: transportFor(proxy.url, bob), ref, retry: { baseDelayMs: 10 } }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(ClientError);
      expect((e as ClientError).code).toBe('network');
      expect(proxy.connections).toBe(DOWNLOAD_MAX_STALLS);
    } finally {
      await proxy.close();
    }
  });

  it('a tampered chunk after a resume is still caught (the position stays bound to the chunk)', async () => {
    const data = await deterministicArray(5 * 65536, 34);
    const ref = await upload(alice, data);
    await srv.query(`UPDATE blob_chunks SET data = set_byte(data, 100, get_byte(data, 100) # 1) WHERE blob_id = $1 AND idx = 3`, [ref.blobId]);
    const r = await throughCuts(ref, [2 * B + 30_000]);
    expect(r.result).toMatchObject({ ok: false, code: 'blob_tampered', chunk: 3 });
    expect(r.pieces.length).toBe(3);
  });
});

describe('byte ranges of GET /api/blobs/:id', () => {
  let ref: FileRefType;
  let whole: Uint8Array;
  const get = async (range?: string) => {
    const res = await fetch(`${srv.url}/api/blobs/${ref.blobId}`, { headers: { authorization: `Bearer ${bob.token}`, ...(range !== undefined ? { range } : {}) } });
    return { status: res.status, headers: res.headers, body: new Uint8Array(await res.arrayBuffer()) };
  };
  beforeAll(async () => {
    ref = await upload(alice, await deterministicArray(3 * 65536 + 10, 35)); // sealed: 3 full chunks + one of 50 bytes
    const full = await get();
    expect(full.status).toBe(200);
    expect(full.headers.get('accept-ranges')).toBe('bytes');
    whole = full.body;
    expect(whole.length).toBe(blobSizeFor(3 * 65536 + 10));
  });

  it('one range → 206 with Content-Range and exactly those bytes, across chunk boundaries and clipped at the end', async () => {
    const size = whole.length;
    const B = BLOB_CHUNK_BYTES;
    for (const [header, start, end] of [
      ['bytes=0-0', 0, 0],
      [`bytes=${B - 1}-${B}`, B - 1, B],
      [`bytes=${B}-${2 * B - 1}`, B, 2 * B - 1],
      [`bytes=100-${3 * B + 5}`, 100, 3 * B + 5],
      [`bytes=${2 * B + 7}-`, 2 * B + 7, size - 1],
      [`bytes=${size - 1}-`, size - 1, size - 1],
      ['bytes=-10', size - 10, size - 1],
      ['bytes=-99999999', 0, size - 1],
      [`bytes=5-${size * 10}`, 5, size - 1],
    ] as const) {
      const r = await get(header);
      expect([header, r.status, r.headers.get('content-range'), r.headers.get('content-length')]).toEqual([header, 206, `bytes ${start}-${end}/${size}`, String(end - start + 1)]);
      expect(r.body).toEqual(whole.subarray(start, end + 1));
    }
  });

  it('a range past the end → 416 range_not_satisfiable naming the size; other forms are ignored (200, whole blob)', async () => {
    const size = whole.length;
    for (const header of [`bytes=${size}-`, `bytes=${size + 5}-${size + 9}`, 'bytes=-0']) {
      const r = await get(header);
      expect([header, r.status, r.headers.get('content-range')]).toEqual([header, 416, `bytes */${size}`]);
      expect(errorCode(JSON.parse(new TextDecoder().decode(r.body)))).toBe('range_not_satisfiable');
    }
    for (const header of ['bytes=9-3', 'bytes=0-1,5-6', 'items=0-5', 'bytes=abc', 'bytes=-', 'bytes= 0-5', `bytes=${'9'.repeat(20)}-`]) {
      const r = await get(header);
      expect([header, r.status, r.headers.get('content-range')]).toEqual([header, 200, null]);
      expect(r.body).toEqual(whole);
    }
  });
});

describe('privacy: file contents and names never reach the server in the clear', () => {
  it('canaries appear nowhere in the database dump or the server log (raw, hex, base64)', async () => {
    const contentCanary = `CANARY-FILE-CONTENT-${randomBytes(8).toString('hex')}`;
    const nameCanary = `canary-name-${randomBytes(8).toString('hex')}.pdf`;
    const typeCanary = `application/x-canary-${randomBytes(6).toString('hex')}`;
    const text = new TextEncoder().encode(`${contentCanary}\n`.repeat(5000));
    const ref = await uploadFile({ transport: transportFor(srv.url, alice), convId, name: nameCanary, type: typeCanary, data: text });
    await attachFile({ transport: transportFor(srv.url, alice), blobId: ref.blobId });
    expect((await downloadFile({ transport: transportFor(srv.url, bob), ref })).ok).toBe(true);

    const haystacks = [...(await dumpPostgres((sql) => srv.query(sql))), { place: 'server log', data: Buffer.from(srv.logs.join('\n')) }];
    expect(haystacks.find((h) => h.place.startsWith('postgres:blob_chunks'))?.data.length).toBeGreaterThan(text.length);
    const findings = scan(haystacks, [
      { label: 'file content', bytes: new TextEncoder().encode(contentCanary) },
      { label: 'file name', bytes: new TextEncoder().encode(nameCanary) },
      { label: 'file type', bytes: new TextEncoder().encode(typeCanary) },
      { label: 'file key', bytes: fromBase64Url(ref.key) },
      { label: 'file hash', bytes: fromBase64Url(ref.sha256) },
    ]);
    expect(findings).toEqual([]);
  });
});
