/**
 * [FILE-10] Discarding unsent uploads (DELETE /api/blobs/:id) against the real server and PostgreSQL:
 * the owner deletes an upload in progress or a finished but never-sent one at once (rows, chunks and quota
 * freed); a sent (attached) blob is refused with 409; nobody else can; a cancelled
 * `Conversation.uploadAttachment` cleans up after itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blobSizeFor, fileChunkCount } from '@parley/shared/protocol';
import { discardFile, uploadFile } from '../../../shared/src/client/files.ts';
import { call, errorCode } from '../helpers/accounts.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { newUser, until, type TestUser } from './conversations-helpers.ts';

const QUOTA = 3 * 1024 * 1024;
const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 17 + seed) & 0xff);

describe('discarding unsent uploads (postgres)', () => {
  let srv: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let convId: string;
  beforeAll(async () => {
    srv = await startTestServer({ backend: 'postgres', env: { BLOB_QUOTA_BYTES: String(QUOTA) } });
    [alice, bob] = await Promise.all([newUser(srv.url, 'alice'), newUser(srv.url, 'bob')]);
    convId = (await alice.client.createDirect(bob.username)).id;
  });
  afterAll(async () => {
    await Promise.all([alice?.client.stop(), bob?.client.stop()]);
    await srv?.close();
  });

  const rows = async (blobId: string) => ({
    blobs: Number((await srv.query('SELECT count(*)::int AS n FROM blobs WHERE id = $1', [blobId])).rows[0].n),
    chunks: Number((await srv.query('SELECT count(*)::int AS n FROM blob_chunks WHERE blob_id = $1', [blobId])).rows[0].n),
  });
  const token = (u: TestUser) => u.client.account.accessToken();
  const del = async (u: TestUser, blobId: string) => call(srv.url, 'DELETE', `/api/blobs/${blobId}`, { token: (await token(u)) ?? '' });

  it('the owner discards a finished, never-sent upload: rows and chunks go at once and the quota is free again', async () => {
    const ref = await uploadFile({ transport: alice.client.account.transport, convId, name: 'big.bin', type: '', data: bytes(2 * 1024 * 1024, 1) });
    expect(await rows(ref.blobId)).toEqual({ blobs: 1, chunks: 32 });
    // The quota (3 MiB) cannot hold a second 2 MiB file...
    await expect(uploadFile({ transport: alice.client.account.transport, convId, name: 'b.bin', type: '', data: bytes(2 * 1024 * 1024, 2) })).rejects.toMatchObject({ code: 'quota_exceeded' });
    // ...until the first is discarded.
    const res = await del(alice, ref.blobId);
    expect(res.status).toBe(204);
    expect(await rows(ref.blobId)).toEqual({ blobs: 0, chunks: 0 });
    const again = await uploadFile({ transport: alice.client.account.transport, convId, name: 'b.bin', type: '', data: bytes(2 * 1024 * 1024, 2) });
    await discardFile({ transport: alice.client.account.transport, blobId: again.blobId });
    expect(await rows(again.blobId)).toEqual({ blobs: 0, chunks: 0 });
    // Already gone: the API says 404, the client helper treats it as done.
    expect((await del(alice, ref.blobId)).status).toBe(404);
    await expect(discardFile({ transport: alice.client.account.transport, blobId: ref.blobId })).resolves.toBeUndefined();
    expect(srv.server.metrics.render()).toMatch(/parley_blob_discarded_total 2/);
  });

  it('an upload in progress can be discarded; later chunks for it are refused', async () => {
    const size = 100_000;
    const created = await call(srv.url, 'POST', '/api/blobs', { token: (await token(alice)) ?? '', json: { convId, size: blobSizeFor(size), chunks: fileChunkCount(size) } });
    expect(created.status).toBe(201);
    const blobId = (created.body as { blobId: string }).blobId;
    expect((await del(alice, blobId)).status).toBe(204);
    expect(await rows(blobId)).toEqual({ blobs: 0, chunks: 0 });
    const put = await fetch(`${srv.url}/api/blobs/${blobId}/chunks/0`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${await token(alice)}`, 'content-type': 'application/octet-stream' },
      body: new Uint8Array(65_536 + 40),
    });
    expect(put.status).toBe(404);
  });

  it('only the owner may discard, and never a blob a sent message carries', async () => {
    const att = await alice.client.open(convId).then((c) => c.uploadAttachment({ name: 'sent.txt', type: 'text/plain', data: bytes(1000, 3) }));
    // Bob (a member, not the owner) and an unknown id: the same 404.
    const asBob = await del(bob, att.file.blobId);
    expect(asBob.status).toBe(404);
    expect(errorCode(asBob.body)).toBe('not_found');
    expect((await del(alice, '00000000-0000-4000-8000-000000000000')).status).toBe(404);
    // Sent: attached, so 409 and the blob stays downloadable.
    const conv = await alice.client.open(convId);
    const id = await conv.send('here', { attachments: [att] });
    await until(() => conv.messages.find((m) => m.id === id)?.status === 'sent', 10_000, 'sent');
    expect(await conv.whenFilesSettled()).toBe(true);
    const res = await del(alice, att.file.blobId);
    expect(res.status).toBe(409);
    expect(errorCode(res.body)).toBe('conflict');
    expect(await rows(att.file.blobId)).toMatchObject({ blobs: 1 });
    await expect(conv.discardAttachment(att)).rejects.toMatchObject({ code: 'conflict' });
  });

  it('Conversation.uploadAttachment cancelled midway deletes the blob it had created', async () => {
    const conv = await alice.client.open(convId);
    const ctl = new AbortController();
    const before = Number((await srv.query('SELECT count(*)::int AS n FROM blobs')).rows[0].n);
    const pending = conv.uploadAttachment({
      name: 'cancel-me.bin',
      type: '',
      data: bytes(1024 * 1024, 4),
      signal: ctl.signal,
      onProgress: (p) => {
        if (p.loaded > 0 && !ctl.signal.aborted) ctl.abort(new Error('cancelled by the test'));
      },
    });
    await expect(pending).rejects.toThrow('cancelled by the test');
    // Whatever it created is gone (the discard ran before the promise settled).
    const after = (await srv.query('SELECT id FROM blobs')).rows.map((r: { id: string }) => r.id);
    expect(after.length).toBe(before);
  });

  it('Conversation.discardAttachment removes a finished attachment and its thumbnail', async () => {
    const conv = await alice.client.open(convId);
    const att = await conv.uploadAttachment({
      name: 'pic.png',
      type: 'image/png',
      data: bytes(5000, 5),
      thumbnail: { data: bytes(500, 6), type: 'image/webp', width: 10, height: 10 },
    });
    await conv.discardAttachment(att);
    expect(await rows(att.file.blobId)).toEqual({ blobs: 0, chunks: 0 });
    expect(await rows(att.thumb!.blobId)).toEqual({ blobs: 0, chunks: 0 });
  });
});
