/**
 * Writes shared/test/fixtures/snapshot-v1.json ONCE, with the snapshot payload encoder of payload version 1
 * ([COMPACT-3], before payload version 2 existed). Never regenerate it to make a test pass: it freezes the v1
 * snapshot payload, which must keep opening and must never vouch for entries ([INNER-8]).
 * Run: npx tsx shared/test/envelope/make-snapshot-fixture.ts > shared/test/fixtures/snapshot-v1.json
 */
import * as Y from 'yjs';
import { signingPublicKey } from '../../src/crypto/index.ts';
import { toHex } from '../../src/protocol/index.ts';
import { encodeSnapshotPayload, putMessage, sealFrame, signMessage } from '../../src/envelope/index.ts';

const fill = (n: number, b: number) => new Uint8Array(n).fill(b);
const scope = { convId: 'c_fixture', segmentId: 's_fixture' };
const author = { userId: '11111111-2222-4333-8444-555555555555', deviceId: 'a1'.repeat(16), signingKey: fill(32, 0x22) };
const doc = new Y.Doc();
doc.clientID = 7654321;
putMessage(doc, signMessage(scope.convId, author, { counter: 1, ts: 1_700_000_000_000, text: 'frozen v1 snapshot' }));
const update = Y.encodeStateAsUpdate(doc);
const plaintext = encodeSnapshotPayload({
  update,
  coverage: new Map([[`${author.userId}:${author.deviceId}`, 41]]),
  owners: new Map([[doc.clientID, author.userId]]),
});
const input = {
  scope,
  kind: 'snapshot' as const,
  epoch: 3,
  epochKey: fill(32, 0x11),
  userId: author.userId,
  deviceId: author.deviceId,
  counter: 42,
  signingKey: author.signingKey,
  nonce: fill(24, 0x44),
  plaintext,
};
const frame = sealFrame(input);
const fixture = {
  description:
    'Snapshot frame with snapshot payload version 1, sealed once with fixed keys. Must keep opening, and never vouches for entries (docs/protocol.md [FRAME-9], [COMPACT-3], [INNER-8]).',
  convId: input.scope.convId,
  segmentId: input.scope.segmentId,
  kind: input.kind,
  epoch: input.epoch,
  epochKey: toHex(input.epochKey),
  userId: input.userId,
  deviceId: input.deviceId,
  counter: input.counter,
  signingSeed: toHex(input.signingKey),
  signingPublicKey: toHex(signingPublicKey(input.signingKey)),
  nonce: toHex(input.nonce),
  plaintext: toHex(plaintext),
  frame: toHex(frame),
};
console.log(JSON.stringify(fixture, null, 2));
