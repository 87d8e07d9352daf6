/**
 * Writes shared/test/fixtures/frame-v1.json ONCE. Never regenerate it to make a test pass: the fixture freezes
 * format v1 ([FRAME-9]); a change that stops it opening is a format break and needs a new version.
 * Run: npx tsx shared/test/envelope/make-fixture.ts > shared/test/fixtures/frame-v1.json
 */
import * as Y from 'yjs';
import { signingPublicKey } from '../../src/crypto/index.ts';
import { toHex } from '../../src/protocol/index.ts';
import { sealFrame } from '../../src/envelope/index.ts';

const fill = (n: number, b: number) => new Uint8Array(n).fill(b);
const doc = new Y.Doc();
doc.clientID = 1234567;
doc.getMap('messages').set('k', 'frozen v1 fixture');
const plaintext = Y.encodeStateAsUpdate(doc);
const input = {
  scope: { convId: 'c_fixture', segmentId: 's_fixture' },
  kind: 'update' as const,
  epoch: 3,
  epochKey: fill(32, 0x11),
  userId: '11111111-2222-4333-8444-555555555555',
  deviceId: 'a1'.repeat(16),
  counter: 42,
  signingKey: fill(32, 0x22),
  nonce: fill(24, 0x33),
  plaintext,
};
const frame = sealFrame(input);
const fixture = {
  description: 'Envelope frame format v1, sealed once with fixed keys. Must keep opening (docs/protocol.md [FRAME-9]).',
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
