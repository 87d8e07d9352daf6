import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import fixtureJson from '../fixtures/frame-v1.json' with { type: 'json' };
import { toHex } from '../../src/protocol/index.ts';
import { sealFrame, verifyAndOpenFrame } from '../../src/envelope/index.ts';
import { frameFixture } from './helpers.ts';

const fx = frameFixture('update').parse(fixtureJson);

describe('frozen fixture frame-v1.json', () => {
  it('[FRAME-9] still opens with the recorded keys', async () => {
    const r = await verifyAndOpenFrame(fx.frame, { convId: fx.convId, segmentId: fx.segmentId }, {
      signerKey: (u) => (u === fx.userId ? fx.signingPublicKey : undefined),
      isMember: (u, e) => u === fx.userId && e === fx.epoch,
      epochKey: (e) => (e === fx.epoch ? fx.epochKey : undefined),
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(toHex(r.value.update)).toBe(toHex(fx.plaintext));
    expect(r.value.header).toMatchObject({ epoch: fx.epoch, userId: fx.userId, deviceId: fx.deviceId, counter: fx.counter });
    const doc = new Y.Doc();
    Y.applyUpdate(doc, r.value.update);
    expect(doc.getMap('messages').get('k')).toBe('frozen v1 fixture');
  });

  it('[FRAME-9] sealing the same inputs reproduces the same bytes (deterministic Ed25519, fixed nonce)', () => {
    const frame = sealFrame({
      scope: { convId: fx.convId, segmentId: fx.segmentId },
      kind: fx.kind,
      epoch: fx.epoch,
      epochKey: fx.epochKey,
      userId: fx.userId,
      deviceId: fx.deviceId,
      counter: fx.counter,
      signingKey: fx.signingSeed,
      nonce: fx.nonce,
      plaintext: fx.plaintext,
    });
    expect(toHex(frame)).toBe(toHex(fx.frame));
  });
});
