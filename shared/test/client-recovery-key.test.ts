/** Recovery key display form: round trip, lenient input, and typo detection. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { formatRecoveryKey, generateRecoveryKey, parseRecoveryKey, ClientError } from '../src/client/index.ts';

function problemOf(input: string): string | undefined {
  try {
    parseRecoveryKey(input);
    return undefined;
  } catch (e) {
    if (e instanceof ClientError && e.code === 'bad_recovery_key') return e.details[0];
    throw e;
  }
}

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

describe('recovery key', () => {
  it('formats as 14 groups of 4 Crockford base32 characters', () => {
    const text = formatRecoveryKey(generateRecoveryKey());
    expect(text).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){13}$/);
  });

  it('round-trips any 32 bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (key) => {
        expect(parseRecoveryKey(formatRecoveryKey(key))).toEqual(key);
      }),
      { numRuns: 300 },
    );
  });

  it('accepts lower case, spaces, missing dashes and Crockford look-alikes (O/0, I/L/1)', () => {
    const key = generateRecoveryKey();
    const text = formatRecoveryKey(key);
    expect(parseRecoveryKey(text.toLowerCase())).toEqual(key);
    expect(parseRecoveryKey(`  ${text.replaceAll('-', ' ')}  `)).toEqual(key);
    expect(parseRecoveryKey(text.replaceAll('-', ''))).toEqual(key);
    expect(parseRecoveryKey(text.replaceAll('0', 'O').replaceAll('1', 'l'))).toEqual(key);
  });

  it('detects every single-character substitution (checksum)', () => {
    const key = generateRecoveryKey();
    const chars = formatRecoveryKey(key).replaceAll('-', '');
    for (let i = 0; i < chars.length; i++) {
      for (const sub of [ALPHABET[(ALPHABET.indexOf(chars[i]!) + 1) % 32]!, ALPHABET[(ALPHABET.indexOf(chars[i]!) + 17) % 32]!]) {
        const typo = chars.slice(0, i) + sub + chars.slice(i + 1);
        expect(problemOf(typo), `position ${i}`).toMatch(/checksum_mismatch|bad_padding/);
      }
    }
  });

  it('detects adjacent transpositions', () => {
    const chars = formatRecoveryKey(generateRecoveryKey()).replaceAll('-', '');
    for (let i = 0; i + 1 < chars.length; i++) {
      if (chars[i] === chars[i + 1]) continue;
      const swapped = chars.slice(0, i) + chars[i + 1] + chars[i] + chars.slice(i + 2);
      expect(problemOf(swapped)).toMatch(/checksum_mismatch|bad_padding/);
    }
  });

  it('names the defect: bad character, wrong length', () => {
    const text = formatRecoveryKey(generateRecoveryKey());
    expect(problemOf(text.replace(/^./, 'U'))).toBe('bad_character');
    expect(problemOf(text.replace(/^./, '!'))).toBe('bad_character');
    expect(problemOf(text.slice(0, -1))).toBe('bad_length');
    expect(problemOf(`${text}A`)).toBe('bad_length');
    expect(problemOf('')).toBe('bad_length');
  });

  it('refuses to format anything but 32 bytes', () => {
    expect(() => formatRecoveryKey(new Uint8Array(31))).toThrow(ClientError);
  });
});
