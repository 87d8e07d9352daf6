/**
 * Known-answer tests. Every expected value comes from the published source named in the vector file
 * (see shared/src/crypto/README.md), never from this implementation's output.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ed25519 } from '@noble/curves/ed25519.js';
import { argon2id as nobleArgon2id } from '@noble/hashes/argon2.js';
import {
  aeadDecrypt,
  aeadEncrypt,
  boxPublicKey,
  hkdfSha256,
  sign,
  signingPublicKey,
  verify,
  x25519SharedSecret,
  CONTEXT,
} from '../src/crypto/index.ts';
import { utf8 } from '../src/protocol/encoding.ts';
import { Hex, hex, parseVectors } from './helpers/vectors.ts';
import xchachaJson from './vectors/xchacha20poly1305.json' with { type: 'json' };
import hkdfJson from './vectors/hkdf-sha256.json' with { type: 'json' };
import ed25519Json from './vectors/ed25519.json' with { type: 'json' };
import x25519Json from './vectors/x25519.json' with { type: 'json' };
import argon2Json from './vectors/argon2id.json' with { type: 'json' };

const XChaChaFile = z.object({
  source: z.string().min(1),
  vectors: z.array(
    z.object({ name: z.string(), key: Hex, nonce: Hex, aad: Hex, plaintextUtf8: z.string(), ciphertext: Hex, tag: Hex }),
  ),
});
const HkdfFile = z.object({
  source: z.string().min(1),
  vectors: z.array(z.object({ name: z.string(), ikm: Hex, salt: Hex, info: Hex, length: z.number().int(), okm: Hex })),
});
const Ed25519File = z.object({
  source: z.string().min(1),
  vectors: z.array(z.object({ name: z.string(), secretKey: Hex, publicKey: Hex, message: Hex, signature: Hex })),
});
const X25519File = z.object({
  source: z.string().min(1),
  scalarMult: z.array(z.object({ name: z.string(), scalar: Hex, u: Hex, output: Hex })),
  iterated: z.object({ start: Hex, after1: Hex, after1000: Hex }),
  diffieHellman: z.object({ alicePrivate: Hex, alicePublic: Hex, bobPrivate: Hex, bobPublic: Hex, shared: Hex }),
  lowOrder: z.array(z.object({ name: z.string(), u: Hex })),
});
const Argon2File = z.object({
  source: z.string().min(1),
  vectors: z.array(
    z.object({
      name: z.string(),
      password: Hex,
      salt: Hex,
      secret: Hex,
      ad: Hex,
      m: z.number().int(),
      t: z.number().int(),
      p: z.number().int(),
      tagLength: z.number().int(),
      tag: Hex,
    }),
  ),
});

describe('XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha-03 §A.3.1)', () => {
  const file = parseVectors(XChaChaFile, xchachaJson);
  for (const v of file.vectors) {
    it(`${v.name}: encrypts to the published ciphertext and tag, and decrypts back`, () => {
      const plaintext = utf8(v.plaintextUtf8);
      const sealed = aeadEncrypt(v.key, v.nonce, plaintext, v.aad);
      expect(hex(sealed)).toBe(hex(v.ciphertext) + hex(v.tag));
      expect(hex(aeadDecrypt(v.key, v.nonce, sealed, v.aad))).toBe(hex(plaintext));
    });
  }
});

describe('HKDF-SHA256 (RFC 5869 A.1-A.3)', () => {
  const file = parseVectors(HkdfFile, hkdfJson);
  for (const v of file.vectors) {
    it(v.name, () => {
      expect(hex(hkdfSha256(v.ikm, v.salt, v.info, v.length))).toBe(hex(v.okm));
    });
  }
});

describe('Ed25519 (RFC 8032 §7.1)', () => {
  const file = parseVectors(Ed25519File, ed25519Json);
  for (const v of file.vectors) {
    it(`${v.name}: public key from seed, signature and verification`, () => {
      expect(hex(signingPublicKey(v.secretKey))).toBe(hex(v.publicKey));
      // Parley signs context-prefixed messages; the primitive underneath must be RFC 8032 byte for byte.
      expect(hex(ed25519.sign(v.message, v.secretKey))).toBe(hex(v.signature));
      expect(ed25519.verify(v.signature, v.message, v.publicKey, { zip215: false })).toBe(true);
    });
  }

  it('Parley `sign` is RFC 8032 Ed25519 over `context || 0x00 || message`', () => {
    const v = file.vectors[2]!;
    const framed = new Uint8Array([...utf8(CONTEXT.message), 0, ...v.message]);
    const sig = sign(v.secretKey, CONTEXT.message, v.message);
    expect(hex(sig)).toBe(hex(ed25519.sign(framed, v.secretKey)));
    expect(verify(v.publicKey, CONTEXT.message, v.message, sig)).toBe(true);
  });

  it('signatures from `sign` verify with the platform WebCrypto Ed25519 (an independent implementation)', async () => {
    const v = file.vectors[1]!;
    const sig = sign(v.secretKey, CONTEXT.frame, v.message);
    const key = await crypto.subtle.importKey('raw', v.publicKey.slice(), { name: 'Ed25519' }, false, ['verify']);
    const framed = new Uint8Array([...utf8(CONTEXT.frame), 0, ...v.message]);
    expect(await crypto.subtle.verify({ name: 'Ed25519' }, key, sig.slice(), framed)).toBe(true);
  });
});

describe('X25519 (RFC 7748 §5.2, §6.1)', () => {
  const file = parseVectors(X25519File, x25519Json);
  for (const v of file.scalarMult) {
    it(v.name, () => {
      expect(hex(x25519SharedSecret(v.scalar, v.u))).toBe(hex(v.output));
    });
  }

  it('§5.2 iterated: after 1 and 1,000 iterations', () => {
    let k: Uint8Array = file.iterated.start;
    let u: Uint8Array = file.iterated.start;
    for (let i = 1; i <= 1000; i++) {
      const next = x25519SharedSecret(k, u);
      u = k;
      k = next;
      if (i === 1) expect(hex(k)).toBe(hex(file.iterated.after1));
    }
    expect(hex(k)).toBe(hex(file.iterated.after1000));
  });

  it('§6.1 Diffie-Hellman: both public keys and the shared secret from both sides', () => {
    const d = file.diffieHellman;
    expect(hex(boxPublicKey(d.alicePrivate))).toBe(hex(d.alicePublic));
    expect(hex(boxPublicKey(d.bobPrivate))).toBe(hex(d.bobPublic));
    expect(hex(x25519SharedSecret(d.alicePrivate, d.bobPublic))).toBe(hex(d.shared));
    expect(hex(x25519SharedSecret(d.bobPrivate, d.alicePublic))).toBe(hex(d.shared));
  });
});

describe('argon2id (RFC 9106 §5.3)', () => {
  const file = parseVectors(Argon2File, argon2Json);
  for (const v of file.vectors) {
    it(`${v.name}: noble's argon2id (the implementation our wrapper calls) gives the published tag`, () => {
      const tag = nobleArgon2id(v.password, v.salt, {
        m: v.m,
        t: v.t,
        p: v.p,
        dkLen: v.tagLength,
        version: 0x13,
        key: v.secret,
        personalization: v.ad,
      });
      expect(hex(tag)).toBe(hex(v.tag));
    });
  }
});
