/**
 * Blob garbage collection with a 1-second grace period (BLOB_GRACE_SECONDS=1), real server and real
 * PostgreSQL: the periodic pass deletes uploads never attached, blobs whose references were all withdrawn,
 * and abandoned incomplete uploads; it keeps attached blobs and uploads still in progress.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blobSizeFor, fileChunkCount, FILE_CHUNK_BYTES } from '@parley/shared/protocol';
import { attachFile, detachFile, downloadFile, uploadFile } from '../../shared/src/client/files.ts';
import { call } from './helpers/accounts.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { createConversation, registerUsers, waitFor, type TestUser } from './sync/support.ts';
import { deterministicArray, transportFor } from './blobs-support.ts';
import { gcIntervalMs } from '../src/blobs/service.ts';

let srv: TestServer;
let alice: TestUser, bob: TestUser;
let convId: string;

beforeAll(async () => {
  srv = await startTestServer({ backend: 'postgres', env: { BLOB_GRACE_SECONDS: '1' } });
  [alice, bob] = await registerUsers(srv.url, ['alice', 'bob']);
  convId = (await createConversation(srv.url, alice, [bob])).conversation.id;
});
afterAll(async () => {
  await srv?.close();
});

const exists = async (id: string) => {
  const r = (await srv.query('SELECT (SELECT count(*) FROM blobs WHERE id = $1)::int AS b, (SELECT count(*) FROM blob_chunks WHERE blob_id = $1)::int AS c', [id])).rows[0];
  return { blob: r.b === 1, chunks: r.c };
};

describe('garbage collection', () => {
  it('runs on a timer; deletes never-attached, detached and abandoned blobs; keeps attached ones and live uploads', async () => {
    expect(gcIntervalMs(1)).toBe(1000);
    const data = await deterministicArray(3 * FILE_CHUNK_BYTES, 1);
    const t = () => transportFor(srv.url, alice);
    const never = await uploadFile({ transport: t(), convId, name: 'never', type: '', data });
    const kept = await uploadFile({ transport: t(), convId, name: 'kept', type: '', data });
    await attachFile({ transport: t(), blobId: kept.blobId });
    // Bob attaches too (he forwarded or pinned it); alice withdrawing hers does not delete it.
    await attachFile({ transport: transportFor(srv.url, bob), blobId: kept.blobId });
    await detachFile({ transport: t(), blobId: kept.blobId });
    // Idempotent: a second withdrawal succeeds. Checked on the blob Bob still holds, so the GC timer (1 s
    // here) cannot delete it between the two calls, which made the check race the timer on a busy machine.
    await detachFile({ transport: t(), blobId: kept.blobId });
    const detached = await uploadFile({ transport: t(), convId, name: 'detached', type: '', data });
    await attachFile({ transport: t(), blobId: detached.blobId });
    await detachFile({ transport: t(), blobId: detached.blobId });
    const abandoned = (await call(srv.url, 'POST', '/api/blobs', { token: alice.token, json: { convId, size: blobSizeFor(data.length), chunks: fileChunkCount(data.length) } })).body as { blobId: string };
    const put = (id: string, i: number) =>
      fetch(`${srv.url}/api/blobs/${id}/chunks/${i}`, { method: 'PUT', headers: { authorization: `Bearer ${alice.token}`, 'content-type': 'application/octet-stream' }, body: new Uint8Array(65576) });
    expect((await put(abandoned.blobId, 0)).status).toBe(204);
    // An upload that keeps making progress (one chunk every 400 ms for 3 s) outlives the grace period.
    const live = (await call(srv.url, 'POST', '/api/blobs', { token: alice.token, json: { convId, size: 10 * 65576, chunks: 10 } })).body as { blobId: string };
    for (let i = 0; i < 8; i++) {
      expect((await put(live.blobId, i)).status).toBe(204);
      await new Promise((r) => setTimeout(r, 400));
    }

    await waitFor(async () => !(await exists(never.blobId)).blob && !(await exists(detached.blobId)).blob && !(await exists(abandoned.blobId)).blob, 15_000, 'gc');
    for (const id of [never.blobId, detached.blobId, abandoned.blobId]) expect(await exists(id)).toEqual({ blob: false, chunks: 0 });
    expect(await exists(kept.blobId)).toEqual({ blob: true, chunks: 3 });
    expect(await exists(live.blobId)).toEqual({ blob: true, chunks: 8 });
    expect((await downloadFile({ transport: transportFor(srv.url, bob), ref: kept })).ok).toBe(true);
    // A collected blob is simply gone: 404 for download and attach.
    await expect(downloadFile({ transport: transportFor(srv.url, bob), ref: never })).rejects.toMatchObject({ code: 'not_found' });
    await expect(attachFile({ transport: t(), blobId: never.blobId })).rejects.toMatchObject({ code: 'not_found' });
    expect(srv.server.metrics.render()).toMatch(/^parley_blob_gc_deleted_total [1-9]\d*$/m);
  });

  it('a pass interrupted after claiming (state deleting) is finished by the next pass', async () => {
    const data = await deterministicArray(1000, 2);
    const ref = await uploadFile({ transport: transportFor(srv.url, alice), convId, name: 'x', type: '', data });
    await attachFile({ transport: transportFor(srv.url, alice), blobId: ref.blobId });
    await srv.query(`UPDATE blobs SET state = 'deleting' WHERE id = $1`, [ref.blobId]);
    await srv.query('DELETE FROM blob_refs WHERE blob_id = $1', [ref.blobId]);
    await waitFor(async () => !(await exists(ref.blobId)).blob, 10_000, 'finished deletion');
    expect(await exists(ref.blobId)).toEqual({ blob: false, chunks: 0 });
  });
});
