/** `sha256Async` (WebCrypto digest when present) gives exactly `sha256`'s bytes, on views and via its fallback. */
import { afterEach, describe, expect, it } from 'vitest';
import { randomBytes, setNativeDigest, sha256, sha256Async } from '../src/crypto/index.ts';
import { toHex } from '../src/protocol/index.ts';

afterEach(() => setNativeDigest(undefined));

describe('sha256Async', () => {
  it('matches the FIPS 180-2 vector for "abc" and the empty input', async () => {
    expect(toHex(await sha256Async(new TextEncoder().encode('abc')))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(toHex(await sha256Async(new Uint8Array(0)))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('equals sha256 for inputs of many sizes, including views into a larger buffer', async () => {
    const big = new Uint8Array(300_000).map((_, i) => (i * 2654435761) >>> 24);
    for (const [start, end] of [[0, 1], [3, 64], [7, 1000], [1, 16_385], [0, 300_000], [12_345, 299_999]] as const) {
      const view = big.subarray(start, end);
      expect(toHex(await sha256Async(view))).toBe(toHex(sha256(view)));
    }
  });

  it('gives the same bytes through the fallback (no WebCrypto)', async () => {
    const data = randomBytes(5000);
    const native = await sha256Async(data);
    setNativeDigest(false);
    expect(toHex(await sha256Async(data))).toBe(toHex(native));
  });

  it('refuses a non-Uint8Array like sha256', async () => {
    await expect(sha256Async('abc' as unknown as Uint8Array)).rejects.toThrow();
  });
});
