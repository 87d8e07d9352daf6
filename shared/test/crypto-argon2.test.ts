/**
 * The argon2id wrapper against an independent implementation: the reference C code in the `argon2`
 * npm package (the one the server uses), at Parley's minimum parameters. Together with the RFC 9106
 * vector for noble (crypto-vectors.test.ts) this shows the wrapper passes its inputs through unchanged.
 */
import { describe, expect, it } from 'vitest';
import argon2 from 'argon2';
import { argon2id, ARGON2_MIN } from '../src/crypto/index.ts';
import { utf8 } from '../src/protocol/encoding.ts';
import { hex } from './helpers/vectors.ts';

describe('argon2id wrapper', () => {
  it('equals the reference C implementation at m=19456, t=2, p=1 and reports progress', async () => {
    const password = utf8('correct horse battery staple');
    const salt = Uint8Array.from({ length: 16 }, (_, i) => i);
    const seen: number[] = [];
    const ours = await argon2id(password, salt, ARGON2_MIN, (f) => seen.push(f));
    const reference = await argon2.hash(password.slice(), {
      type: argon2.argon2id,
      memoryCost: ARGON2_MIN.m,
      timeCost: ARGON2_MIN.t,
      parallelism: ARGON2_MIN.p,
      salt: salt.slice(),
      hashLength: 32,
      raw: true,
    });
    expect(hex(ours)).toBe(hex(new Uint8Array(reference)));
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((f) => f >= 0 && f <= 1)).toBe(true);
  });
});
