import { describe, expect, it, vi } from 'vitest';
import { CONTEXT, hkdf, randomBytes, sign } from '../../src/crypto/index.ts';
import {
  FRAME_HEADER_BYTES,
  FRAME_MAX_BYTES,
  FRAME_MIN_BYTES,
  parseFrame,
  userIdToBytes,
} from '../../src/protocol/index.ts';
import {
  decodeSnapshotPayload,
  deriveFrameKey,
  encodeSnapshotPayload,
  sealFrame,
  verifyAndOpenFrame,
  type FrameResolvers,
  type SealFrameInput,
} from '../../src/envelope/index.ts';
import { EPOCH, makeUser, newDeviceId, SCOPE, World } from './helpers.ts';

const alice = makeUser();
const bob = makeUser();
const world = new World([alice, bob]);
world.keys.set(2, randomBytes(32));
world.members.set(2, new Set([alice.userId, bob.userId]));
const plaintext = new TextEncoder().encode('inner yjs update bytes');

function input(over: Partial<SealFrameInput> = {}): SealFrameInput {
  return {
    scope: SCOPE,
    kind: 'update',
    epoch: EPOCH,
    epochKey: world.keys.get(EPOCH)!,
    userId: alice.userId,
    deviceId: newDeviceId(),
    counter: 7,
    signingKey: alice.secretKey,
    plaintext,
    ...over,
  };
}

/** Re-signs a tampered frame with `secretKey`: a member forging a header needs this to get past the signature. */
function resign(frame: Uint8Array, secretKey: Uint8Array): Uint8Array {
  const out = frame.slice();
  out.set(sign(secretKey, CONTEXT.frame, out.subarray(0, out.length - 64)), out.length - 64);
  return out;
}

function flip(frame: Uint8Array, at: number, mask = 0x01): Uint8Array {
  const out = frame.slice();
  out[at]! ^= mask;
  return out;
}

describe('frames', () => {
  it('[KEY-1] the remembered frame key equals a fresh HKDF, per conversation, and follows changed epoch key bytes', () => {
    const utf8 = (t: string) => new TextEncoder().encode(t);
    const epochKey = randomBytes(32);
    const fresh = (convId: string) => hkdf(epochKey, CONTEXT.frameKey, 32, utf8(convId));
    expect(deriveFrameKey(epochKey, 'c_one')).toEqual(fresh('c_one'));
    expect(deriveFrameKey(epochKey, 'c_one')).toBe(deriveFrameKey(epochKey, 'c_one')); // remembered
    expect(deriveFrameKey(epochKey, 'c_two')).toEqual(fresh('c_two'));
    expect(deriveFrameKey(epochKey, 'c_two')).not.toEqual(fresh('c_one'));
    epochKey.set(randomBytes(32)); // the same array now holds another key: never the stale derivation
    expect(deriveFrameKey(epochKey, 'c_one')).toEqual(fresh('c_one'));
    expect(deriveFrameKey(new Uint8Array(epochKey), 'c_one')).toEqual(fresh('c_one'));
  });

  it('[FRAME-1] [FRAME-4] seal/open round trip', async () => {
    const frame = sealFrame(input());
    expect(frame.length).toBe(FRAME_HEADER_BYTES + plaintext.length + 16 + 64);
    const r = await verifyAndOpenFrame(frame, SCOPE, world.resolvers());
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(new TextDecoder().decode(r.value.update)).toBe('inner yjs update bytes');
    expect(r.value.header).toMatchObject({ version: 1, kind: 'update', epoch: EPOCH, userId: alice.userId, counter: 7 });
  });

  it('[FRAME-1] header parses without keys; shape errors are codes, never throws', () => {
    const frame = sealFrame(input());
    const p = parseFrame(frame);
    expect(p.ok && p.value.header.counter).toBe(7);
    expect(parseFrame(new Uint8Array(0))).toEqual({ ok: false, code: 'malformed' });
    expect(parseFrame(frame.subarray(0, FRAME_MIN_BYTES - 1))).toEqual({ ok: false, code: 'malformed' });
    expect(parseFrame(new Uint8Array(FRAME_MAX_BYTES + 1))).toEqual({ ok: false, code: 'too_large' });
    const zero = frame.slice();
    zero.fill(0, 38, 46); // counter 0
    expect(parseFrame(zero)).toEqual({ ok: false, code: 'malformed' });
  });

  it('[FRAME-6] sealing refuses frames above FRAME_MAX_BYTES', () => {
    expect(() => sealFrame(input({ plaintext: new Uint8Array(FRAME_MAX_BYTES) }))).toThrow(/cap/);
  });

  it('[FRAME-5] signature is checked before the key is even looked up', async () => {
    const epochKey = vi.fn((e: number) => world.keys.get(e));
    const r = await verifyAndOpenFrame(flip(sealFrame(input()), 100), SCOPE, world.resolvers({ epochKey }));
    expect(r).toEqual({ ok: false, code: 'bad_signature' });
    expect(epochKey).not.toHaveBeenCalled();
  });

  it('[FRAME-5] unknown signer, non-member, unknown epoch, wrong key; resolvers that throw are codes', async () => {
    const frame = sealFrame(input());
    const open = (r: Partial<FrameResolvers>) => verifyAndOpenFrame(frame, SCOPE, world.resolvers(r));
    expect(await open({ signerKey: () => undefined })).toEqual({ ok: false, code: 'unknown_signer' });
    expect(await open({ isMember: () => false })).toEqual({ ok: false, code: 'not_member' });
    expect(await open({ epochKey: () => undefined })).toEqual({ ok: false, code: 'unknown_epoch' });
    expect(await open({ epochKey: () => randomBytes(32) })).toEqual({ ok: false, code: 'decrypt_failed' });
    expect(await open({ epochKey: () => Promise.reject(new Error('net')) })).toEqual({ ok: false, code: 'unknown_epoch' });
    expect(await open({ signerKey: () => bob.publicKey })).toEqual({ ok: false, code: 'bad_signature' });
    expect(await open({ signerKey: async () => alice.publicKey })).toMatchObject({ ok: true });
  });

  it('[KEY-2] decrypts only with the key of the header epoch', async () => {
    const frame = sealFrame(input({ epoch: 2, epochKey: world.keys.get(2)! }));
    const tried: number[] = [];
    const r = await verifyAndOpenFrame(frame, SCOPE, world.resolvers({ epochKey: (e) => (tried.push(e), world.keys.get(e)) }));
    expect(r.ok).toBe(true);
    expect(tried).toEqual([2]);
  });

  // One tamper test per authenticated field. "raw": flip a byte and keep the signature (a server or relay);
  // "re-signed": a member re-signs the tampered frame, which proves the AAD itself binds the field.
  const fields: Array<{ name: string; at: (f: Uint8Array) => number; raw: string; resigned: string }> = [
    { name: 'version', at: () => 0, raw: 'unsupported_version', resigned: 'unsupported_version' },
    { name: 'kind', at: () => 1, raw: 'bad_signature', resigned: 'decrypt_failed' },
    { name: 'epoch', at: () => 5, raw: 'bad_signature', resigned: 'not_member' },
    { name: 'deviceId', at: () => 30, raw: 'bad_signature', resigned: 'decrypt_failed' },
    { name: 'counter', at: () => 45, raw: 'bad_signature', resigned: 'decrypt_failed' },
    { name: 'nonce', at: () => 50, raw: 'bad_signature', resigned: 'decrypt_failed' },
    { name: 'ciphertext', at: () => FRAME_HEADER_BYTES + 2, raw: 'bad_signature', resigned: 'decrypt_failed' },
    { name: 'tag', at: (f) => f.length - 64 - 3, raw: 'bad_signature', resigned: 'decrypt_failed' },
    { name: 'signature', at: (f) => f.length - 10, raw: 'bad_signature', resigned: 'ok' },
  ];
  for (const f of fields) {
    it(`[FRAME-2] [FRAME-3] tampered ${f.name} is rejected`, async () => {
      const frame = sealFrame(input());
      const bad = flip(frame, f.at(frame));
      const raw = await verifyAndOpenFrame(bad, SCOPE, world.resolvers());
      expect(raw.ok ? 'ok' : raw.code).toBe(f.raw);
      const resigned = await verifyAndOpenFrame(resign(bad, alice.secretKey), SCOPE, world.resolvers());
      expect(resigned.ok ? 'ok' : resigned.code).toBe(f.resigned);
    });
  }

  it('[FRAME-3] tampered epoch re-signed under an epoch the signer belongs to fails to decrypt', async () => {
    const frame = sealFrame(input());
    const bad = frame.slice();
    bad[5] = 2; // epoch 1 -> 2, both known, both memberships hold
    const r = await verifyAndOpenFrame(resign(bad, alice.secretKey), SCOPE, world.resolvers());
    expect(r).toEqual({ ok: false, code: 'decrypt_failed' });
  });

  it('[FRAME-2] [FRAME-3] tampered userId: raw fails the signature, re-signed by the claimed user fails the AAD', async () => {
    const frame = sealFrame(input());
    const bad = frame.slice();
    bad.set(userIdToBytes(bob.userId), 6);
    expect(await verifyAndOpenFrame(bad, SCOPE, world.resolvers())).toEqual({ ok: false, code: 'bad_signature' });
    expect(await verifyAndOpenFrame(resign(bad, bob.secretKey), SCOPE, world.resolvers())).toEqual({
      ok: false,
      code: 'decrypt_failed',
    });
  });

  it('[FRAME-3] a frame moved to another segment or conversation fails to decrypt', async () => {
    const frame = sealFrame(input());
    expect(await verifyAndOpenFrame(frame, { ...SCOPE, segmentId: 's_other' }, world.resolvers())).toEqual({
      ok: false,
      code: 'decrypt_failed',
    });
    expect(await verifyAndOpenFrame(frame, { ...SCOPE, convId: 'c_other' }, world.resolvers())).toEqual({
      ok: false,
      code: 'decrypt_failed',
    });
  });

  it('[COMPACT-3] snapshot payload round trip, and garbage payloads are a code', async () => {
    const coverage = new Map([[`${alice.userId}:${'ab'.repeat(16)}`, 12]]);
    const owners = new Map([[123456, bob.userId]]);
    const update = new Uint8Array([0, 0]);
    const bytes = encodeSnapshotPayload({ update, coverage, owners });
    expect(decodeSnapshotPayload(bytes)).toEqual({ update, coverage, owners });
    expect(decodeSnapshotPayload(bytes.subarray(0, 20))).toBeUndefined();
    const frame = sealFrame(input({ kind: 'snapshot', plaintext: bytes }));
    const r = await verifyAndOpenFrame(frame, SCOPE, world.resolvers());
    expect(r.ok && r.value.snapshot?.coverage.get(`${alice.userId}:${'ab'.repeat(16)}`)).toBe(12);
    const garbage = sealFrame(input({ kind: 'snapshot', plaintext: new Uint8Array([9, 9, 9]) }));
    expect(await verifyAndOpenFrame(garbage, SCOPE, world.resolvers())).toEqual({ ok: false, code: 'invalid_payload' });
  });
});
