/**
 * [INNER-7] Attachments inside signed messages: schema, signature coverage (every field of every FileRef),
 * the pre-attachment signing bytes kept byte-for-byte for messages without files, and materialize.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { lp, u64be } from '../../src/crypto/index.ts';
import { toBase64Url, utf8 } from '../../src/protocol/index.ts';
import {
  Attachment,
  MAX_ATTACHMENTS,
  SignedMessage,
  innerRoots,
  materialize,
  messageSigningBytes,
  putMessage,
  signMessage,
  signOp,
} from '../../src/envelope/index.ts';
import type { FileRef } from '../../src/protocol/blobs.ts';
import { makeUser, newDeviceId, SCOPE, World } from './helpers.ts';

const b64 = (fill: number) => toBase64Url(new Uint8Array(32).fill(fill));
const ref = (n: number, over: Partial<FileRef> = {}): FileRef => ({
  v: 1,
  blobId: `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`,
  key: b64(n),
  name: `file-${n}.png`,
  type: 'image/png',
  size: 1000 + n,
  sha256: b64(n + 100),
  ...over,
});

describe('[INNER-7] attachments', () => {
  const alice = makeUser();
  const world = new World([alice]);
  const author = { userId: alice.userId, deviceId: newDeviceId(), signingKey: alice.secretKey };
  const view = (doc: Y.Doc) => materialize(doc, { convId: SCOPE.convId, verify: world.verify() });

  it('messages without attachments sign exactly the pre-attachment bytes (old messages keep verifying)', () => {
    const m = { id: `${author.deviceId}:1`, author: alice.userId, ts: 1_700_000_000_000, text: 'héllo', replyTo: `${author.deviceId}:9` };
    const legacy = lp(utf8('parley.msg.v1'), utf8(SCOPE.convId), utf8(m.id), utf8(m.author), u64be(m.ts), utf8(m.text), utf8(m.replyTo));
    expect(messageSigningBytes(SCOPE.convId, m)).toEqual(legacy);
    const signed = signMessage(SCOPE.convId, author, { counter: 1, ts: m.ts, text: m.text, attachments: [] });
    expect('attachments' in signed).toBe(false); // an empty list is omitted, not signed as []
  });

  it('a message with an image (thumb, size) and a file round-trips through the doc and materializes', () => {
    const doc = new Y.Doc();
    const image: Attachment = { file: ref(1), thumb: ref(2, { type: 'image/webp', name: 'thumb.webp' }), width: 4032, height: 3024 };
    const pdf: Attachment = { file: ref(3, { name: 'report.pdf', type: 'application/pdf' }) };
    const m = signMessage(SCOPE.convId, author, { counter: 1, ts: 5, text: 'see attached', attachments: [image, pdf] });
    expect(putMessage(doc, m)).toBe(true);
    const v = view(doc);
    expect(v.dropped).toEqual({ malformed: 0, badSignature: 0, unauthorized: 0 });
    expect(v.messages[0]?.attachments).toEqual([image, pdf]);
    // Deleting the message withdraws its attachments from the view.
    innerRoots(doc).ops.push([signOp(SCOPE.convId, author, { counter: 2, ts: 6, target: m.id, op: { type: 'delete' } })]);
    expect(view(doc).messages[0]).toMatchObject({ deleted: true, text: '', attachments: [] });
  });

  it('the signature covers every field of every FileRef, the thumbnail and the dimensions', () => {
    const base: Attachment = { file: ref(1), thumb: ref(2), width: 10, height: 20 };
    const m = signMessage(SCOPE.convId, author, { counter: 3, ts: 7, text: '', attachments: [base] });
    const tampered: Array<Attachment[] | undefined> = [
      [{ ...base, file: { ...base.file, blobId: ref(9).blobId } }],
      [{ ...base, file: { ...base.file, key: b64(77) } }],
      [{ ...base, file: { ...base.file, name: 'other.png' } }],
      [{ ...base, file: { ...base.file, type: 'text/html' } }],
      [{ ...base, file: { ...base.file, size: 1 } }],
      [{ ...base, file: { ...base.file, sha256: b64(78) } }],
      [{ ...base, thumb: { ...ref(2), key: b64(79) } }],
      [{ file: base.file, width: 10, height: 20 }], // thumb dropped
      [{ ...base, width: 11 }],
      [{ file: base.file, thumb: ref(2), height: 20 }], // width dropped
      [base, base], // duplicated
      undefined, // attachments removed
    ];
    for (const attachments of tampered) {
      const doc = new Y.Doc();
      const { attachments: _, ...rest } = m;
      innerRoots(doc).messages.set(m.id, attachments ? { ...rest, attachments } : rest);
      expect(view(doc).dropped.badSignature, JSON.stringify(attachments)).toBe(1);
    }
  });

  it('malformed attachment lists are dropped by the schema', () => {
    const m = signMessage(SCOPE.convId, author, { counter: 4, ts: 8, text: 'x', attachments: [{ file: ref(1) }] });
    const bad: unknown[] = [
      [],
      Array.from({ length: MAX_ATTACHMENTS + 1 }, (_, i) => ({ file: ref(i + 1) })),
      [{ file: { ...ref(1), extra: 1 } }],
      [{ file: ref(1), extra: true }],
      [{ file: ref(1), width: 0 }],
      [{ file: ref(1), width: 1.5 }],
      [{ file: { ...ref(1), name: '' } }],
      [{ file: { ...ref(1), key: 'short' } }],
      [ref(1)], // a bare FileRef, not an attachment
      'nope',
    ];
    for (const attachments of bad) {
      expect(SignedMessage.safeParse({ ...m, attachments }).success, JSON.stringify(attachments).slice(0, 80)).toBe(false);
      const doc = new Y.Doc();
      innerRoots(doc).messages.set(m.id, { ...m, attachments });
      expect(view(doc).dropped.malformed).toBe(1);
    }
    expect(() => signMessage(SCOPE.convId, author, { counter: 5, ts: 9, text: 'x', attachments: [{ file: { ...ref(1), name: '' } }] })).toThrow(TypeError);
  });
});
