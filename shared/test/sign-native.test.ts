/**
 * WebCrypto Ed25519 (`signAsync` / `verifyAsync`) against noble (`sign` / `verify`): same bytes, same answers,
 * including the hostile vectors (S >= L, small-order keys, non-canonical R, torsioned R).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha512 } from '@noble/hashes/sha2.js';
import {
  CONTEXT,
  concatBytes,
  generateSigningKeyPair,
  nativeSignaturesAvailable,
  setNativeSignatures,
  sign,
  signAsync,
  verify,
  verifyAsync,
} from '../src/crypto/index.ts';
import { signatureShapeOk } from '../src/crypto/sign.ts';
import { unhex } from './helpers/vectors.ts';
import { utf8 as utf8ToBytesForTest } from '../src/protocol/encoding.ts';

const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const P = 2n ** 255n - 19n;
const leToBig = (b: Uint8Array) => b.reduceRight((acc, x) => (acc << 8n) | BigInt(x), 0n);
const bigToLe = (n: bigint) => Uint8Array.from({ length: 32 }, (_, i) => Number((n >> BigInt(8 * i)) & 0xffn));
const msg = utf8ToBytesForTest('hello parley');

describe('native Ed25519', () => {
  it('is available on Node 24', async () => {
    expect(await nativeSignaturesAvailable()).toBe(true);
  });

  it('signatures from either path are identical and verify with the other', async () => {
    for (let i = 0; i < 20; i++) {
      const kp = generateSigningKeyPair();
      const m = new Uint8Array(i * 7).fill(i);
      const a = sign(kp.secretKey, CONTEXT.message, m);
      const b = await signAsync(kp.secretKey, CONTEXT.message, m);
      expect(b).toEqual(a);
      expect(verify(kp.publicKey, CONTEXT.message, m, b)).toBe(true);
      expect(await verifyAsync(kp.publicKey, CONTEXT.message, m, a)).toBe(true);
      expect(await verifyAsync(kp.publicKey, CONTEXT.frame, m, a)).toBe(false);
    }
  });

  it('the noble fallback gives the same answers', async () => {
    const kp = generateSigningKeyPair();
    setNativeSignatures(false);
    try {
      const s = await signAsync(kp.secretKey, CONTEXT.message, msg);
      expect(s).toEqual(sign(kp.secretKey, CONTEXT.message, msg));
      expect(await verifyAsync(kp.publicKey, CONTEXT.message, msg, s)).toBe(true);
      expect(await verifyAsync(kp.publicKey, CONTEXT.message, msg, s.map((x, i) => (i === 40 ? x ^ 1 : x)))).toBe(false);
    } finally {
      setNativeSignatures(undefined);
    }
  });

  it('refuses S >= L, S = L, a small-order key, a non-canonical R and malformed sizes, like noble', async () => {
    const kp = generateSigningKeyPair();
    const sig = sign(kp.secretKey, CONTEXT.message, msg);
    const cases: Array<[Uint8Array, Uint8Array]> = [];
    cases.push([kp.publicKey, new Uint8Array([...sig.subarray(0, 32), ...bigToLe(leToBig(sig.subarray(32)) + L)])]);
    cases.push([kp.publicKey, new Uint8Array([...sig.subarray(0, 32), ...bigToLe(L)])]);
    const identity = new Uint8Array(32);
    identity[0] = 1;
    const trivial = new Uint8Array(64);
    trivial.set(identity, 0);
    cases.push([identity, trivial]);
    const p = new Uint8Array(32).fill(0xff);
    p[0] = 0xed;
    p[31] = 0x7f;
    cases.push([kp.publicKey, new Uint8Array([...p, ...sig.subarray(32)])]);
    cases.push([kp.publicKey.subarray(0, 31), sig]);
    cases.push([kp.publicKey, sig.subarray(0, 63)]);
    for (const [pk, s] of cases) {
      expect(verify(pk, CONTEXT.message, msg, s)).toBe(false);
      expect(await verifyAsync(pk, CONTEXT.message, msg, s)).toBe(false);
    }
  });

  it('a torsioned R (only the cofactored equation holds) gets the same answer on both paths', async () => {
    const seed = new Uint8Array(32).fill(3);
    const { scalar, pointBytes } = ed25519.utils.getExtendedPublicKey(seed);
    const Point = ed25519.Point;
    // a point of order 8
    const T = Point.fromBytes(unhex('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a'));
    expect(T.isSmallOrder()).toBe(true);
    const r = 123456789n;
    const R = Point.BASE.multiply(r).add(T).toBytes();
    const framed = concatBytes(utf8ToBytesForTest(CONTEXT.message), new Uint8Array([0]), msg);
    const k = leToBig(sha512(concatBytes(R, pointBytes, framed))) % L;
    const S = (r + k * scalar) % L;
    const s = new Uint8Array([...R, ...bigToLe(S)]);
    const noble = verify(pointBytes, CONTEXT.message, msg, s);
    expect(await verifyAsync(pointBytes, CONTEXT.message, msg, s)).toBe(noble);
  });

  it('checks the signature shape (S < L, R canonical) exactly like a BigInt comparison, at the boundaries too', () => {
    const reference = (sig: Uint8Array) => leToBig(sig.subarray(32)) < L && leToBig(sig.subarray(0, 32)) % 2n ** 255n < P;
    const near = (bound: bigint) => fc.bigInt({ min: bound - 3n, max: bound + 3n }).filter((n) => n >= 0n && n < 2n ** 256n);
    const half = fc.oneof(fc.uint8Array({ minLength: 32, maxLength: 32 }), near(L).map(bigToLe), near(P).map(bigToLe), near(P + 2n ** 255n).map(bigToLe), near(2n ** 255n).map(bigToLe));
    fc.assert(
      fc.property(half, half, (r, s) => {
        const sig = new Uint8Array([...r, ...s]);
        expect(signatureShapeOk(sig)).toBe(reference(sig));
      }),
      { numRuns: 3000 },
    );
    const ok = sign(generateSigningKeyPair().secretKey, CONTEXT.message, msg);
    expect(signatureShapeOk(ok)).toBe(true);
    expect(signatureShapeOk(new Uint8Array([...ok.subarray(0, 32), ...bigToLe(L - 1n)]))).toBe(true);
    expect(signatureShapeOk(new Uint8Array([...ok.subarray(0, 32), ...bigToLe(L)]))).toBe(false);
    expect(signatureShapeOk(new Uint8Array([...bigToLe(P - 1n), ...ok.subarray(32)]))).toBe(true);
    expect(signatureShapeOk(new Uint8Array([...bigToLe(P), ...ok.subarray(32)]))).toBe(false);
    expect(signatureShapeOk(new Uint8Array([...bigToLe(P - 1n + 2n ** 255n), ...ok.subarray(32)]))).toBe(true); // sign bit of x set
  });
});
