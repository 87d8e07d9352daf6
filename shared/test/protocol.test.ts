import { describe, expect, it } from 'vitest';
import { b64Bytes, fromBase64Url, isBase64Url, normalizeUsername, parseContentRange, resolveByteRange, toBase64Url, Username, usernameKey, usernameProblem } from '../src/protocol/index.ts';

describe('base64url', () => {
  it('round-trips every length and refuses non-canonical spellings', () => {
    for (let n = 0; n < 70; n++) {
      const bytes = new Uint8Array(n).map((_, i) => (i * 37 + n) & 0xff);
      expect(fromBase64Url(toBase64Url(bytes))).toEqual(bytes);
    }
    expect(isBase64Url('AA')).toBe(true);
    expect(isBase64Url('AB')).toBe(false); // trailing bits set
    expect(isBase64Url('A')).toBe(false);
    expect(isBase64Url('AA==')).toBe(false);
    expect(isBase64Url('A+/A')).toBe(false);
  });

  it('b64Bytes reports hostile text as an issue instead of throwing', () => {
    for (const hostile of ["' OR '1'='1", '<script>alert(1)</script>', '', 'A', '💥'.repeat(5)]) {
      expect(() => b64Bytes(16).safeParse(hostile)).not.toThrow();
      expect(b64Bytes(16).safeParse(hostile).success).toBe(false);
    }
    expect(b64Bytes(16).safeParse(toBase64Url(new Uint8Array(16))).success).toBe(true);
    expect(b64Bytes(16).safeParse(toBase64Url(new Uint8Array(15))).success).toBe(false);
  });
});

describe('usernames', () => {
  it('normalises with NFKC and compares case-insensitively', () => {
    expect(normalizeUsername(' Ｊｏｈｎ ')).toBe('John');
    expect(usernameKey(normalizeUsername('Ｊｏｈｎ'))).toBe(usernameKey('john'));
    expect(Username.parse('Zoë_1')).toBe('Zoë_1');
  });

  it('refuses bad lengths, characters, edges and mixed scripts', () => {
    expect(usernameProblem('ab')).toBe('too_short');
    expect(usernameProblem('a'.repeat(33))).toBe('too_long');
    expect(usernameProblem('alice bob')).toBe('bad_characters');
    expect(usernameProblem("al'ice")).toBe('bad_characters');
    expect(usernameProblem('_alice')).toBe('bad_edges');
    expect(usernameProblem('al..ice')).toBe('bad_edges');
    expect(usernameProblem('p\u0430ypal')).toBe('mixed_scripts'); // Cyrillic а among Latin letters
    expect(usernameProblem('Дмитрий')).toBeNull();
    expect(usernameProblem('田中_taro')).toBe('mixed_scripts');
    expect(usernameProblem('たなか')).toBeNull();
  });
});

describe('byte ranges of blob downloads ([FILE-11])', () => {
  it('resolves one range against the size; unsatisfiable past the end; ignores what it does not understand', () => {
    expect(resolveByteRange('bytes=10-19', 100)).toEqual({ start: 10, end: 19 });
    expect(resolveByteRange('bytes=90-', 100)).toEqual({ start: 90, end: 99 });
    expect(resolveByteRange('bytes=90-500', 100)).toEqual({ start: 90, end: 99 });
    expect(resolveByteRange('bytes=-30', 100)).toEqual({ start: 70, end: 99 });
    expect(resolveByteRange('bytes=-300', 100)).toEqual({ start: 0, end: 99 });
    for (const h of ['bytes=100-', 'bytes=100-200', 'bytes=-0']) expect([h, resolveByteRange(h, 100)]).toEqual([h, 'unsatisfiable']);
    for (const h of [undefined, '', 'bytes=20-10', 'bytes=-', 'bytes=1-2,4-5', 'Bytes=1-2', 'items=1-2', 'bytes=1.5-2', ['bytes=1-2'], 'bytes=1-2 ', `bytes=${'1'.repeat(16)}-`])
      expect([h, resolveByteRange(h, 100)]).toEqual([h, undefined]);
  });

  it('parses a Content-Range answer and refuses an inconsistent one', () => {
    expect(parseContentRange('bytes 5-9/10')).toEqual({ start: 5, end: 9, size: 10 });
    for (const h of [null, 'bytes 9-5/10', 'bytes 5-10/10', 'bytes */10', 'bytes 5-9/*', 'items 5-9/10', 'bytes 5-9/10 ']) expect([h, parseContentRange(h)]).toEqual([h, undefined]);
  });
});
