/**
 * Negative vectors and tamper tests: one test per authenticated field, wrong sizes refused at entry with
 * precise errors, low-order X25519 points, non-canonical Ed25519 signatures, wrong signature contexts.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ed25519 } from '@noble/curves/ed25519.js';
import {
  aeadDecrypt,
  aeadEncrypt,
  argon2id,
  generateBoxKeyPair,
  generateSigningKeyPair,
  hkdf,
  hkdfSha256,
  open,
  openSealedBox,
  seal,
  sealToPublicKey,
  sign,
  verify,
  x25519SharedSecret,
  CONTEXT,
  CryptoError,
  SEALED_BOX_OVERHEAD,
  type CryptoErrorCode,
} from '../src/crypto/index.ts';
import { utf8 } from '../src/protocol/encoding.ts';
import { flipBit, Hex, parseVectors, unhex } from './helpers/vectors.ts';
import x25519Json from './vectors/x25519.json' with { type: 'json' };
import ed25519Json from './vectors/ed25519.json' with { type: 'json' };

function expectCryptoError(fn: () => unknown, code: CryptoErrorCode, message?: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(CryptoError);
  if (caught instanceof CryptoError) {
    expect(caught.code).toBe(code);
    if (message) expect(caught.message).toMatch(message);
  }
}

async function expectCryptoErrorAsync(p: Promise<unknown>, code: CryptoErrorCode): Promise<void> {
  const caught = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(caught).toBeInstanceOf(CryptoError);
  if (caught instanceof CryptoError) expect(caught.code).toBe(code);
}

const key = new Uint8Array(32).fill(7);
const nonce = new Uint8Array(24).fill(9);
const aad = utf8('parley/test-aad');
const plaintext = utf8('attack at dawn');

describe('AEAD: sizes are checked at entry', () => {
  it.each([0, 16, 31, 33, 64])('refuses a %i-byte key', (n) => {
    expectCryptoError(() => aeadEncrypt(new Uint8Array(n), nonce, plaintext, aad), 'bad_length', /key must be 32 bytes/);
    expectCryptoError(() => seal(new Uint8Array(n), plaintext, aad), 'bad_length', /key must be 32 bytes/);
    expectCryptoError(() => open(new Uint8Array(n), new Uint8Array(64), aad), 'bad_length', /key must be 32 bytes/);
  });
  it.each([0, 12, 23, 25])('refuses a %i-byte nonce', (n) => {
    expectCryptoError(() => aeadEncrypt(key, new Uint8Array(n), plaintext, aad), 'bad_length', /nonce must be 24 bytes/);
    expectCryptoError(() => aeadDecrypt(key, new Uint8Array(n), new Uint8Array(32), aad), 'bad_length', /nonce/);
  });
  it('refuses non-bytes with bad_format', () => {
    // A JS caller can pass anything; the type system is not the only guard.
    expectCryptoError(() => Reflect.apply(seal, undefined, [key, 'a string', aad]), 'bad_format', /plaintext must be a Uint8Array/);
    expectCryptoError(() => Reflect.apply(aeadEncrypt, undefined, [key, nonce, plaintext, null]), 'bad_format', /aad/);
  });
  it('refuses truncated input as decrypt_failed', () => {
    const sealed = seal(key, plaintext, aad);
    for (const len of [0, 1, 24, 39, sealed.length - 1]) {
      expectCryptoError(() => open(key, sealed.subarray(0, len), aad), 'decrypt_failed');
    }
    expectCryptoError(() => aeadDecrypt(key, nonce, new Uint8Array(15), aad), 'decrypt_failed', /shorter than tag/);
  });
  it('an empty plaintext still authenticates', () => {
    const sealed = seal(key, new Uint8Array(0), aad);
    expect(open(key, sealed, aad)).toEqual(new Uint8Array(0));
    expectCryptoError(() => open(key, sealed, utf8('other')), 'decrypt_failed');
  });
});

describe('AEAD: one tamper test per authenticated field', () => {
  const ct = aeadEncrypt(key, nonce, plaintext, aad);
  it('sanity: the untampered input opens', () => {
    expect(aeadDecrypt(key, nonce, ct, aad)).toEqual(plaintext);
  });
  it('nonce', () => expectCryptoError(() => aeadDecrypt(key, flipBit(nonce, 23, 7), ct, aad), 'decrypt_failed'));
  it('ciphertext', () => expectCryptoError(() => aeadDecrypt(key, nonce, flipBit(ct, 0), aad), 'decrypt_failed'));
  it('tag', () => expectCryptoError(() => aeadDecrypt(key, nonce, flipBit(ct, ct.length - 1, 7), aad), 'decrypt_failed'));
  it('aad', () => expectCryptoError(() => aeadDecrypt(key, nonce, ct, flipBit(aad, 3)), 'decrypt_failed'));
  it('key', () => expectCryptoError(() => aeadDecrypt(flipBit(key, 31, 7), nonce, ct, aad), 'decrypt_failed'));
  it('seal/open: every bit of the sealed box is authenticated', () => {
    const sealed = seal(key, plaintext, aad);
    for (let i = 0; i < sealed.length; i++) {
      expectCryptoError(() => open(key, flipBit(sealed, i, i % 8), aad), 'decrypt_failed');
    }
  });
});

describe('sealed box: one tamper test per authenticated field', () => {
  const recipient = generateBoxKeyPair();
  const box = sealToPublicKey(recipient.publicKey, plaintext, aad);
  it('sanity: opens for the recipient, and has the documented overhead', () => {
    expect(openSealedBox(recipient, box, aad)).toEqual(plaintext);
    expect(box.length).toBe(plaintext.length + SEALED_BOX_OVERHEAD);
  });
  it('ephemeral public key', () => {
    // Flipping bit 0 of a valid u-coordinate gives another (almost surely not low-order) point.
    expectCryptoError(() => openSealedBox(recipient, flipBit(box, 0), aad), 'decrypt_failed');
  });
  it('nonce', () => expectCryptoError(() => openSealedBox(recipient, flipBit(box, 32 + 5), aad), 'decrypt_failed'));
  it('ciphertext', () => expectCryptoError(() => openSealedBox(recipient, flipBit(box, 32 + 24), aad), 'decrypt_failed'));
  it('tag', () => expectCryptoError(() => openSealedBox(recipient, flipBit(box, box.length - 1), aad), 'decrypt_failed'));
  it('aad', () => expectCryptoError(() => openSealedBox(recipient, box, flipBit(aad, 0)), 'decrypt_failed'));
  it('recipient key: another key pair cannot open it', () => {
    expectCryptoError(() => openSealedBox(generateBoxKeyPair(), box, aad), 'decrypt_failed');
  });
  it('recipient key: the right secret with a wrong public half fails (the public key is bound in the KDF)', () => {
    const other = generateBoxKeyPair();
    expectCryptoError(() => openSealedBox({ secretKey: recipient.secretKey, publicKey: other.publicKey }, box, aad), 'decrypt_failed');
  });
  it('truncated boxes', () => {
    for (const len of [0, 31, 32, SEALED_BOX_OVERHEAD - 1]) {
      expectCryptoError(() => openSealedBox(recipient, box.subarray(0, len), aad), 'decrypt_failed', /too short/);
    }
  });
  it('refuses wrong key sizes at entry', () => {
    expectCryptoError(() => sealToPublicKey(new Uint8Array(31), plaintext, aad), 'bad_length', /recipientPublic must be 32 bytes/);
    expectCryptoError(
      () => openSealedBox({ secretKey: new Uint8Array(33), publicKey: recipient.publicKey }, box, aad),
      'bad_length',
      /secretKey must be 32 bytes/,
    );
  });
});

describe('X25519: low-order points (RFC 7748 §6.1) are refused', () => {
  const file = parseVectors(
    z.object({ lowOrder: z.array(z.object({ name: z.string(), u: Hex })) }).loose(),
    x25519Json,
  );
  const me = generateBoxKeyPair();
  for (const v of file.lowOrder) {
    it(`u = ${v.name}`, () => {
      expectCryptoError(() => x25519SharedSecret(me.secretKey, v.u), 'bad_key');
      expectCryptoError(() => sealToPublicKey(v.u, plaintext, aad), 'bad_key');
      // A box whose ephemeral key is low order would have a key independent of the recipient's secret.
      const forged = new Uint8Array(SEALED_BOX_OVERHEAD + 4);
      forged.set(v.u, 0);
      expectCryptoError(() => openSealedBox(me, forged, aad), 'bad_key');
    });
  }
});

describe('Ed25519: negative vectors', () => {
  const file = parseVectors(
    z.object({ vectors: z.array(z.object({ secretKey: Hex, publicKey: Hex, message: Hex, signature: Hex })) }).loose(),
    ed25519Json,
  );
  const L = 2n ** 252n + 27742317777372353535851937790883648493n;
  const leToBig = (b: Uint8Array) => b.reduceRight((acc, x) => (acc << 8n) | BigInt(x), 0n);
  const bigToLe = (n: bigint) => Uint8Array.from({ length: 32 }, (_, i) => Number((n >> BigInt(8 * i)) & 0xffn));

  it('S >= L (malleated S + L) is refused although the cofactored equation holds', () => {
    const v = file.vectors[0]!;
    const s = leToBig(v.signature.subarray(32));
    const malleated = new Uint8Array([...v.signature.subarray(0, 32), ...bigToLe(s + L)]);
    expect(ed25519.verify(v.signature, v.message, v.publicKey, { zip215: false })).toBe(true);
    expect(ed25519.verify(malleated, v.message, v.publicKey, { zip215: false })).toBe(false);
    // and through our wrapper: a context-signed message malleated the same way
    const kp = generateSigningKeyPair();
    const sig = sign(kp.secretKey, CONTEXT.message, plaintext);
    const bad = new Uint8Array([...sig.subarray(0, 32), ...bigToLe(leToBig(sig.subarray(32)) + L)]);
    expect(verify(kp.publicKey, CONTEXT.message, plaintext, sig)).toBe(true);
    expect(verify(kp.publicKey, CONTEXT.message, plaintext, bad)).toBe(false);
  });

  it('S = L exactly is refused', () => {
    const v = file.vectors[1]!;
    const bad = new Uint8Array([...v.signature.subarray(0, 32), ...bigToLe(L)]);
    expect(verify(v.publicKey, CONTEXT.message, v.message, bad)).toBe(false);
  });

  it('a small-order public key (identity) with the trivial signature R = identity, S = 0 is refused', () => {
    const identity = unhex('0100000000000000000000000000000000000000000000000000000000000000');
    const trivial = new Uint8Array(64);
    trivial.set(identity, 0);
    // zip215 (consensus mode) accepts this; strict RFC 8032 + small-order check must not.
    expect(ed25519.verify(trivial, plaintext, identity, { zip215: true })).toBe(true);
    expect(verify(identity, CONTEXT.message, plaintext, trivial)).toBe(false);
  });

  it('a non-canonical R encoding (y = p) is refused', () => {
    const kp = generateSigningKeyPair();
    const sig = sign(kp.secretKey, CONTEXT.message, plaintext);
    const p = unhex('edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f');
    const bad = new Uint8Array([...p, ...sig.subarray(32)]);
    expect(verify(kp.publicKey, CONTEXT.message, plaintext, bad)).toBe(false);
  });

  it('malformed sizes return false, never throw', () => {
    const kp = generateSigningKeyPair();
    const sig = sign(kp.secretKey, CONTEXT.message, plaintext);
    expect(verify(kp.publicKey.subarray(0, 31), CONTEXT.message, plaintext, sig)).toBe(false);
    expect(verify(kp.publicKey, CONTEXT.message, plaintext, sig.subarray(0, 63))).toBe(false);
    expect(verify(kp.publicKey, CONTEXT.message, plaintext, new Uint8Array(65))).toBe(false);
    expectCryptoError(() => sign(new Uint8Array(64), CONTEXT.message, plaintext), 'bad_length', /secretKey must be 32 bytes/);
  });
});

describe('signatures: one tamper test per signed field', () => {
  const kp = generateSigningKeyPair();
  const message = utf8('pay bob 10');
  const sig = sign(kp.secretKey, CONTEXT.message, message);
  it('sanity', () => expect(verify(kp.publicKey, CONTEXT.message, message, sig)).toBe(true));
  it('message', () => expect(verify(kp.publicKey, CONTEXT.message, flipBit(message, 0), sig)).toBe(false));
  it('context (wrong-context signature)', () => {
    expect(verify(kp.publicKey, CONTEXT.frame, message, sig)).toBe(false);
    expect(verify(kp.publicKey, CONTEXT.wrap, message, sig)).toBe(false);
  });
  it('signature (R and S halves)', () => {
    expect(verify(kp.publicKey, CONTEXT.message, message, flipBit(sig, 0))).toBe(false);
    expect(verify(kp.publicKey, CONTEXT.message, message, flipBit(sig, 40))).toBe(false);
  });
  it('public key', () => {
    expect(verify(flipBit(kp.publicKey, 0), CONTEXT.message, message, sig)).toBe(false);
    expect(verify(generateSigningKeyPair().publicKey, CONTEXT.message, message, sig)).toBe(false);
  });
});

describe('KDF parameter checks', () => {
  it('hkdf refuses short IKM and out-of-range lengths', () => {
    expectCryptoError(() => hkdf(new Uint8Array(15), CONTEXT.kek), 'bad_length', /at least 16 bytes/);
    expectCryptoError(() => hkdf(key, CONTEXT.kek, 8), 'bad_params');
    expectCryptoError(() => hkdf(key, CONTEXT.kek, 255 * 32 + 1), 'bad_params');
    expectCryptoError(() => hkdfSha256(key, new Uint8Array(0), new Uint8Array(0), 0), 'bad_params');
  });
  it('hkdf: different contexts give unrelated keys', () => {
    expect(hkdf(key, CONTEXT.kek)).not.toEqual(hkdf(key, CONTEXT.authKey));
  });
  it('argon2id refuses short salts and costs outside the bounds', async () => {
    const pw = utf8('pw');
    const salt = new Uint8Array(16);
    await expectCryptoErrorAsync(argon2id(pw, new Uint8Array(15), { m: 19456, t: 2, p: 1 }), 'bad_length');
    await expectCryptoErrorAsync(argon2id(pw, salt, { m: 19455, t: 2, p: 1 }), 'bad_params');
    await expectCryptoErrorAsync(argon2id(pw, salt, { m: 19456, t: 1, p: 1 }), 'bad_params');
    await expectCryptoErrorAsync(argon2id(pw, salt, { m: 19456, t: 2, p: 0 }), 'bad_params');
    await expectCryptoErrorAsync(argon2id(pw, salt, { m: 19456, t: 2, p: 5 }), 'bad_params');
    await expectCryptoErrorAsync(argon2id(pw, salt, { m: 2_000_000, t: 2, p: 1 }), 'bad_params');
    await expectCryptoErrorAsync(argon2id(pw, salt, { m: 19456.5, t: 2, p: 1 }), 'bad_params');
  });
});
