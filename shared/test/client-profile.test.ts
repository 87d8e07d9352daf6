/**
 * Profiles ([PROFILE-*] in docs/protocol.md): profile key wraps (round trip, one tamper test per
 * authenticated field, no confusion with conversation epoch wraps) and the strict inner profile record.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { generateBoxKeyPair, generateSigningKeyPair } from '../src/crypto/index.ts';
import { unwrapEpochKey } from '../src/crypto/wrap.ts';
import {
  ClientError,
  PROFILE_AVATAR_MAX_BYTES,
  generateProfileKey,
  profileRoot,
  readProfile,
  sniffImageMime,
  unwrapProfileKey,
  validateProfileUpdate,
  wrapProfileKey,
} from '../src/client/index.ts';

const alice = { id: '11111111-1111-4111-8111-111111111111', sign: generateSigningKeyPair(), box: generateBoxKeyPair() };
const bob = { id: '22222222-2222-4222-8222-222222222222', sign: generateSigningKeyPair(), box: generateBoxKeyPair() };
const mallory = { id: '33333333-3333-4333-8333-333333333333', sign: generateSigningKeyPair(), box: generateBoxKeyPair() };

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
const JPEG = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 0x10]);
const WEBP = new Uint8Array([0x52, 0x49, 0x46, 0x46, 4, 0, 0, 0, 0x57, 0x45, 0x42, 0x50, 0x56]);

function flip(bytes: Uint8Array, i: number): Uint8Array {
  const c = bytes.slice();
  c[i] = c[i]! ^ 1;
  return c;
}

describe('profile key wraps [PROFILE-2]', () => {
  const key = generateProfileKey();
  const w = wrapProfileKey({ ownerId: alice.id, recipientId: bob.id, version: 7, key, recipientSealingPublic: bob.box.publicKey, ownerIdentitySecret: alice.sign.secretKey });
  const base = { ownerId: alice.id, recipientId: bob.id, version: 7, wrap: w.wrap, sig: w.sig, ownerIdentityPublic: alice.sign.publicKey, recipient: bob.box };

  it('round-trips for the recipient; the wrap fits the server schema (80..200 bytes)', () => {
    const r = unwrapProfileKey(base);
    expect(r).toEqual({ ok: true, key });
    expect(w.wrap.length).toBeGreaterThanOrEqual(80);
    expect(w.wrap.length).toBeLessThanOrEqual(200);
    expect(w.sig.length).toBe(64);
  });

  it('refuses a changed wrap, signature, owner, recipient or version before decrypting (bad_signature)', () => {
    for (let i = 0; i < w.wrap.length; i += 13) expect(unwrapProfileKey({ ...base, wrap: flip(w.wrap, i) })).toEqual({ ok: false, code: 'bad_signature' });
    expect(unwrapProfileKey({ ...base, sig: flip(w.sig, 0) })).toEqual({ ok: false, code: 'bad_signature' });
    expect(unwrapProfileKey({ ...base, sig: flip(w.sig, 63) })).toEqual({ ok: false, code: 'bad_signature' });
    expect(unwrapProfileKey({ ...base, ownerId: mallory.id })).toEqual({ ok: false, code: 'bad_signature' });
    expect(unwrapProfileKey({ ...base, recipientId: mallory.id })).toEqual({ ok: false, code: 'bad_signature' });
    expect(unwrapProfileKey({ ...base, version: 8 })).toEqual({ ok: false, code: 'bad_signature' });
  });

  it('refuses a wrap signed by anyone but the pinned owner key', () => {
    expect(unwrapProfileKey({ ...base, ownerIdentityPublic: mallory.sign.publicKey })).toEqual({ ok: false, code: 'bad_signature' });
    // Mallory re-signs Alice's wrap as herself: it verifies under Mallory's key but binds Mallory as owner.
    const forged = wrapProfileKey({ ownerId: alice.id, recipientId: bob.id, version: 7, key: generateProfileKey(), recipientSealingPublic: bob.box.publicKey, ownerIdentitySecret: mallory.sign.secretKey });
    expect(unwrapProfileKey({ ...base, wrap: forged.wrap, sig: forged.sig })).toEqual({ ok: false, code: 'bad_signature' });
  });

  it('does not open for another key pair (decrypt_failed), and is not a conversation epoch wrap', () => {
    expect(unwrapProfileKey({ ...base, recipient: mallory.box })).toEqual({ ok: false, code: 'decrypt_failed' });
    // Same signer and sealed box, read as an epoch wrap of any conversation: the signed bytes differ.
    const asEpoch = unwrapEpochKey({ convId: 'parley/profile-key/v1', epoch: 7, recipientId: bob.id, recipient: bob.box, wrap: w.wrap, sig: w.sig, wrapperIdentityPublic: alice.sign.publicKey });
    expect(asEpoch.ok).toBe(false);
  });

  it('refuses an out-of-range version as malformed instead of throwing', () => {
    expect(unwrapProfileKey({ ...base, version: -1 })).toEqual({ ok: false, code: 'malformed' });
    expect(unwrapProfileKey({ ...base, version: 2 ** 32 })).toEqual({ ok: false, code: 'malformed' });
  });
});

describe('profile record [PROFILE-4]', () => {
  const owner = alice.id;

  function docWith(entries: Record<string, unknown>): Y.Doc {
    const d = new Y.Doc();
    const m = profileRoot(d);
    for (const [k, v] of Object.entries(entries)) m.set(k, v);
    return d;
  }

  it('reads a valid profile; an empty doc has none', () => {
    expect(readProfile(new Y.Doc(), owner)).toEqual({ ok: true, profile: undefined });
    const r = readProfile(docWith({ displayName: 'Alice 🌷', status: 'out for lunch', avatar: { mime: 'image/png', data: PNG }, updatedAt: 5 }), owner);
    expect(r).toEqual({ ok: true, profile: { userId: owner, displayName: 'Alice 🌷', status: 'out for lunch', avatar: { mime: 'image/png', bytes: PNG }, updatedAt: 5 } });
  });

  const bigPng = new Uint8Array(PROFILE_AVATAR_MAX_BYTES + 1);
  bigPng.set(PNG.subarray(0, 8));

  it('rejects unknown keys, oversized or unsafe text, mismatched or oversized avatars, wrong types', () => {
    const bad: Array<Record<string, unknown>> = [
      { displayName: 'x', extra: 1 },
      { displayName: 'a'.repeat(65) },
      { displayName: 'evil\u202Eexe.png' },
      { displayName: 'line\nbreak' },
      { status: 's'.repeat(141) },
      { displayName: 42 },
      { avatar: { mime: 'image/png', data: JPEG } },
      { avatar: { mime: 'image/gif', data: PNG } },
      { avatar: { mime: 'image/png', data: bigPng } },
      { avatar: { mime: 'image/png', data: PNG, name: 'x' } },
      { avatar: { mime: 'image/png', data: 'iVBORw0KGgo' } },
      { updatedAt: -1 },
      { updatedAt: 1.5 },
    ];
    for (const entries of bad) expect(readProfile(docWith(entries), owner).ok, JSON.stringify(Object.keys(entries))).toBe(false);
    const proto = new Y.Doc();
    profileRoot(proto).set('__proto__', { displayName: 'x' });
    expect(readProfile(proto, owner).ok).toBe(false);
  });

  it('counts display-name length in code points (64 emoji are fine)', () => {
    expect(readProfile(docWith({ displayName: '🌷'.repeat(64) }), owner).ok).toBe(true);
    expect(readProfile(docWith({ displayName: '🌷'.repeat(65) }), owner).ok).toBe(false);
  });

  it('sniffs PNG, JPEG and WebP by signature only', () => {
    expect(sniffImageMime(PNG)).toBe('image/png');
    expect(sniffImageMime(JPEG)).toBe('image/jpeg');
    expect(sniffImageMime(WEBP)).toBe('image/webp');
    expect(sniffImageMime(new TextEncoder().encode('<svg onload=alert(1)>'))).toBeUndefined();
    expect(sniffImageMime(new Uint8Array())).toBeUndefined();
  });

  it('reports an over-long text once, whether it passes the UTF-16 bound or not (no contradictory pair)', () => {
    const details = (u: Parameters<typeof validateProfileUpdate>[0]) => {
      try {
        validateProfileUpdate(u);
      } catch (e) {
        return (e as ClientError).details;
      }
      return [];
    };
    expect(details({ displayName: 'Ж'.repeat(200) })).toEqual(['displayName: at most 64 characters']);
    expect(details({ displayName: 'Ж'.repeat(100) })).toEqual(['displayName: at most 64 characters']);
    expect(details({ displayName: '🌷'.repeat(65) })).toEqual(['displayName: at most 64 characters']);
    expect(details({ status: 's'.repeat(1000) })).toEqual(['status: at most 140 characters']);
    expect(details({ displayName: '🌷'.repeat(64) })).toEqual([]);
  });

  it('validates updates before anything is written (ClientError invalid_input with details)', () => {
    expect(validateProfileUpdate({ displayName: 'ok', status: null, avatar: { mime: 'image/webp', bytes: WEBP } })).toMatchObject({ displayName: 'ok', status: null });
    for (const u of [
      { displayName: 'x'.repeat(65) },
      { status: '\u0007' },
      { avatar: { mime: 'image/jpeg' as const, bytes: PNG } },
      { avatar: { mime: 'image/png' as const, bytes: new Uint8Array(PROFILE_AVATAR_MAX_BYTES + 1) } },
      { nickname: 'x' } as never,
    ]) {
      let err: unknown;
      try {
        validateProfileUpdate(u);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ClientError);
      expect((err as ClientError).code).toBe('invalid_input');
      expect((err as ClientError).details.length).toBeGreaterThan(0);
    }
  });
});
