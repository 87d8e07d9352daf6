/**
 * [INNER-7] [FILE-7] [FILE-9] Files in messages through the client core against the real server and
 * PostgreSQL: alice sends a message with an image (plus its thumbnail) and a PDF; bob's verified, materialized
 * message carries the FileRefs and his downloads are byte-identical; the blobs are attached once the message
 * is on the server (so a 1-second garbage-collection grace period keeps them), and deleting the message
 * detaches them (so the next pass collects them).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileRef } from '@parley/shared/protocol';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { newUser, until, type TestUser } from './conversations-helpers.ts';

const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed * 7 + (i >> 8)) & 0xff);

describe('files in messages: client core against the real server (postgres)', () => {
  let srv: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  beforeAll(async () => {
    srv = await startTestServer({ backend: 'postgres', env: { BLOB_GRACE_SECONDS: '1' } });
    [alice, bob] = await Promise.all([newUser(srv.url, 'alice'), newUser(srv.url, 'bob')]);
  });
  afterAll(async () => {
    await Promise.all([alice?.client.stop(), bob?.client.stop()]);
    await srv?.close();
  });

  const refs = async (blobId: string) => Number((await srv.query('SELECT count(*)::int AS n FROM blob_refs WHERE blob_id = $1', [blobId])).rows[0].n);
  const exists = async (blobId: string) => Number((await srv.query('SELECT count(*)::int AS n FROM blobs WHERE id = $1', [blobId])).rows[0].n) === 1;

  it('alice sends an image (with thumbnail) and a PDF; bob gets the FileRefs and identical bytes; delete detaches', async () => {
    const a = await alice.client.createDirect(bob.username);
    const image = bytes(200_000, 1); // 4 chunks
    const thumb = bytes(3_000, 2);
    const pdf = bytes(70_000, 3);
    const progress: number[] = [];
    const imageAtt = await a.uploadAttachment({
      name: 'holiday.png',
      type: 'image/png',
      data: image,
      thumbnail: { data: thumb, type: 'image/webp', width: 1600, height: 1200 },
      onProgress: (p) => progress.push(p.loaded),
    });
    expect(progress.at(-1)).toBe(image.length);
    expect(imageAtt).toMatchObject({ width: 1600, height: 1200, file: { name: 'holiday.png', size: image.length }, thumb: { type: 'image/webp', size: thumb.length } });
    const pdfAtt = await a.uploadAttachment({ name: 'report.pdf', type: 'application/pdf', data: pdf });
    const id = await a.send('two files', { attachments: [imageAtt, pdfAtt] });
    expect((await until(() => a.messages.find((m) => m.id === id), 5_000, 'own message')).attachments).toEqual([imageAtt, pdfAtt]);
    await until(() => a.messages.find((m) => m.id === id)?.status === 'sent', 10_000, 'sent');
    expect(await a.whenFilesSettled()).toBe(true);

    // Attached once the message was on the server: the 1 s grace period passes and the blobs stay.
    const blobIds = [imageAtt.file.blobId, imageAtt.thumb!.blobId, pdfAtt.file.blobId];
    for (const b of blobIds) expect(await refs(b)).toBe(1);
    await new Promise((r) => setTimeout(r, 2500));
    for (const b of blobIds) expect(await exists(b)).toBe(true);

    const b = await bob.client.open(a.id);
    const got = await until(() => b.messages.find((m) => m.id === id), 10_000, 'bob sees the message');
    expect(got.text).toBe('two files');
    expect(got.attachments).toHaveLength(2);
    for (const att of got.attachments) expect(FileRef.safeParse(att.file).success).toBe(true);
    expect(got.attachments).toEqual([imageAtt, pdfAtt]);

    const dlImage = await b.downloadAttachment(got.attachments[0]!.file);
    const dlThumb = await b.downloadAttachment(got.attachments[0]!.thumb);
    const dlPdf = await b.downloadAttachment(got.attachments[1]!.file);
    expect(dlImage.ok && dlThumb.ok && dlPdf.ok).toBe(true);
    if (!dlImage.ok || !dlThumb.ok || !dlPdf.ok) return;
    expect(Buffer.from(dlImage.data!).equals(Buffer.from(image))).toBe(true);
    expect(Buffer.from(dlThumb.data!).equals(Buffer.from(thumb))).toBe(true);
    expect(Buffer.from(dlPdf.data!).equals(Buffer.from(pdf))).toBe(true);

    // A FileRef whose key was swapped (as a malicious sender could not sign, but a bug could produce) fails closed.
    const wrongKey = { ...got.attachments[1]!.file, key: got.attachments[0]!.file.key };
    expect(await b.downloadAttachment(wrongKey)).toMatchObject({ ok: false, code: 'blob_tampered' });
    expect(await b.downloadAttachment({ nope: 1 })).toMatchObject({ ok: false, code: 'invalid_ref' });

    // sendFile: one call uploads and sends.
    const id2 = await a.sendFile({ name: 'notes.txt', type: 'text/plain', data: new TextEncoder().encode('hello file') });
    const got2 = await until(() => b.messages.find((m) => m.id === id2), 10_000, 'bob sees sendFile');
    expect(got2.text).toBe('');
    const dl2 = await b.downloadAttachment(got2.attachments[0]!.file);
    expect(dl2.ok && new TextDecoder().decode(dl2.data)).toBe('hello file');

    // Deleting the message withdraws alice's references; the next GC pass deletes the blobs.
    await a.delete(id);
    expect(await a.whenFilesSettled()).toBe(true);
    for (const x of blobIds) expect(await refs(x)).toBe(0);
    await until(() => b.messages.find((m) => m.id === id)?.deleted, 10_000, 'bob sees the delete');
    expect(b.messages.find((m) => m.id === id)?.attachments).toEqual([]);
    await until(async () => !(await exists(blobIds[0]!)) && !(await exists(blobIds[2]!)), 15_000, 'gc of detached blobs');
    expect(await exists(got2.attachments[0]!.file.blobId)).toBe(true);
    expect(a.invalidFrames()).toEqual([]);
  });
});
