import { describe, expect, it } from 'vitest';
import { generateBoxKeyPair, generateSigningKeyPair } from '../src/crypto/index.ts';
import {
  epochKeyCommitment,
  generateEpochKey,
  unwrapChainKey,
  unwrapChainKeyAsync,
  unwrapEpochKey,
  unwrapEpochKeyAsync,
  wrapChainKey,
  wrapEpochKey,
} from '../src/crypto/wrap.ts';
import { formatSafetyNumber, safetyNumber } from '../src/crypto/safety-number.ts';

const conv = '6f9619ff-8b86-4011-b42d-00cf4fc964ff';
const alice = { id: '11111111-1111-4111-8111-111111111111', sign: generateSigningKeyPair(), box: generateBoxKeyPair() };
const bob = { id: '22222222-2222-4222-8222-222222222222', sign: generateSigningKeyPair(), box: generateBoxKeyPair() };

function flip(bytes: Uint8Array, i: number): Uint8Array {
  const c = bytes.slice();
  c[i] = c[i]! ^ 1;
  return c;
}

describe('epoch key wraps [WRAP-2]', () => {
  const key = generateEpochKey();
  const commitment = epochKeyCommitment(conv, 3, key);
  const w = wrapEpochKey({ convId: conv, epoch: 3, key, recipientId: bob.id, recipientSealingPublic: bob.box.publicKey, wrapperIdentitySecret: alice.sign.secretKey });
  const base = { convId: conv, epoch: 3, recipientId: bob.id, recipient: bob.box, wrap: w.wrap, sig: w.sig, wrapperIdentityPublic: alice.sign.publicKey, commitment };

  it('round-trips and checks the commitment [WRAP-1]', () => {
    const r = unwrapEpochKey(base);
    expect(r.ok && r.key).toEqual(key);
  });

  it('rejects a tampered wrap, signature, epoch, conversation, recipient or wrapper', () => {
    expect(unwrapEpochKey({ ...base, wrap: flip(w.wrap, 40) })).toEqual({ ok: false, code: 'bad_signature' });
    expect(unwrapEpochKey({ ...base, sig: flip(w.sig, 1) })).toEqual({ ok: false, code: 'bad_signature' });
    expect(unwrapEpochKey({ ...base, epoch: 4 })).toEqual({ ok: false, code: 'bad_signature' });
    expect(unwrapEpochKey({ ...base, convId: '00000000-0000-4000-8000-000000000000' })).toEqual({ ok: false, code: 'bad_signature' });
    expect(unwrapEpochKey({ ...base, recipientId: alice.id })).toEqual({ ok: false, code: 'bad_signature' });
    expect(unwrapEpochKey({ ...base, wrapperIdentityPublic: bob.sign.publicKey })).toEqual({ ok: false, code: 'bad_signature' });
  });

  it('a wrap for someone else does not open, even correctly signed', () => {
    expect(unwrapEpochKey({ ...base, recipient: alice.box })).toEqual({ ok: false, code: 'decrypt_failed' });
  });

  it('a wrap of a different key than the committed one is refused [WRAP-1]', () => {
    const other = wrapEpochKey({ convId: conv, epoch: 3, key: generateEpochKey(), recipientId: bob.id, recipientSealingPublic: bob.box.publicKey, wrapperIdentitySecret: alice.sign.secretKey });
    expect(unwrapEpochKey({ ...base, wrap: other.wrap, sig: other.sig })).toEqual({ ok: false, code: 'commitment_mismatch' });
  });

  it('the native (async) variant gives the same result for every case above', async () => {
    const other = wrapEpochKey({ convId: conv, epoch: 3, key: generateEpochKey(), recipientId: bob.id, recipientSealingPublic: bob.box.publicKey, wrapperIdentitySecret: alice.sign.secretKey });
    const cases = [
      base,
      { ...base, wrap: flip(w.wrap, 40) },
      { ...base, sig: flip(w.sig, 1) },
      { ...base, epoch: 4 },
      { ...base, recipientId: alice.id },
      { ...base, wrapperIdentityPublic: bob.sign.publicKey },
      { ...base, recipient: alice.box },
      { ...base, wrap: other.wrap, sig: other.sig },
    ];
    for (const c of cases) expect(await unwrapEpochKeyAsync(c)).toEqual(unwrapEpochKey(c));
    expect((await unwrapEpochKeyAsync(base)).ok).toBe(true);
  });
});

describe('chain wraps [WRAP-3]', () => {
  const oldKey = generateEpochKey();
  const newKey = generateEpochKey();
  const c = wrapChainKey({ convId: conv, fromEpoch: 1, toEpoch: 2, oldKey, newKey, wrapperIdentitySecret: alice.sign.secretKey });
  const base = { convId: conv, fromEpoch: 1, toEpoch: 2, newKey, wrapped: c.wrapped, sig: c.sig, wrapperIdentityPublic: alice.sign.publicKey, commitment: epochKeyCommitment(conv, 1, oldKey) };

  it('holders of the newer key recover the older one', () => {
    const r = unwrapChainKey(base);
    expect(r.ok && r.key).toEqual(oldKey);
  });

  it('rejects tampering and the wrong newer key', () => {
    expect(unwrapChainKey({ ...base, wrapped: flip(c.wrapped, 30) }).ok).toBe(false);
    expect(unwrapChainKey({ ...base, toEpoch: 3 }).ok).toBe(false);
    expect(unwrapChainKey({ ...base, newKey: generateEpochKey() })).toEqual({ ok: false, code: 'decrypt_failed' });
  });

  it('the native (async) variant gives the same result', async () => {
    for (const x of [base, { ...base, wrapped: flip(c.wrapped, 30) }, { ...base, sig: flip(c.sig, 2) }, { ...base, toEpoch: 3 }, { ...base, newKey: generateEpochKey() }])
      expect(await unwrapChainKeyAsync(x)).toEqual(unwrapChainKey(x));
  });

  it('refuses to chain backwards', () => {
    expect(() => wrapChainKey({ convId: conv, fromEpoch: 2, toEpoch: 2, oldKey, newKey, wrapperIdentitySecret: alice.sign.secretKey })).toThrow();
  });
});

describe('safety numbers [WRAP-4]', () => {
  it('is the same 60 digits for both users and changes when a key changes', () => {
    const a = { userId: alice.id, identityPublic: alice.sign.publicKey };
    const b = { userId: bob.id, identityPublic: bob.sign.publicKey };
    const n = safetyNumber(a, b);
    expect(n).toMatch(/^\d{60}$/);
    expect(safetyNumber(b, a)).toBe(n);
    expect(formatSafetyNumber(n)).toHaveLength(12);
    const substituted = { userId: bob.id, identityPublic: generateSigningKeyPair().publicKey };
    expect(safetyNumber(a, substituted)).not.toBe(n);
  });
});
