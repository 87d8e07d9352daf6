/**
 * Recovery keys: 32 random bytes shown once as a human-friendly string.
 *
 * Display form: Crockford base32 (digits and upper-case letters without I, L, O, U) of the 32 bytes
 * (52 characters, the 4 spare bits zero) followed by a 4-character checksum (the first 20 bits of
 * SHA-256(CONTEXT.recoveryKeyChecksum || key)), in 14 groups of 4 joined by dashes:
 *   `7Q3M-...-K2XD`
 * Parsing accepts lower case, spaces and dashes anywhere, and Crockford's look-alikes (O -> 0, I/L -> 1),
 * so what a person copies by hand still parses; any single typo or swap fails the checksum
 * (probability of a miss 2^-20) instead of silently deriving a wrong key.
 */
import { concatBytes, randomBytes, sha256, CONTEXT } from '../crypto/index.ts';
import { utf8 } from '../protocol/encoding.ts';
import { ClientError } from './errors.ts';

/** Size of a recovery key in bytes. */
export const RECOVERY_KEY_BYTES = 32;
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const DATA_CHARS = Math.ceil((RECOVERY_KEY_BYTES * 8) / 5); // 52
const CHECK_CHARS = 4;
const GROUP = 4;

/** Why a typed recovery key was refused (`ClientError('bad_recovery_key').details[0]`). */
export type RecoveryKeyProblem = 'bad_character' | 'bad_length' | 'bad_padding' | 'checksum_mismatch';

function base32(bytes: Uint8Array): string {
  let out = '';
  let acc = 0;
  let bits = 0;
  for (const b of bytes) {
    acc = ((acc << 8) | b) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET[(acc >> bits) & 31]!;
    }
  }
  if (bits > 0) out += ALPHABET[(acc << (5 - bits)) & 31]!;
  return out;
}

function checksum(key: Uint8Array): string {
  const digest = sha256(concatBytes(utf8(CONTEXT.recoveryKeyChecksum), key));
  return base32(digest.subarray(0, 3)).slice(0, CHECK_CHARS);
}

function fail(problem: RecoveryKeyProblem, message: string): never {
  throw new ClientError('bad_recovery_key', message, { details: [problem] });
}

/** A new random recovery key (raw bytes; show it with `formatRecoveryKey`). */
export function generateRecoveryKey(): Uint8Array {
  return randomBytes(RECOVERY_KEY_BYTES);
}

/** Display form of a 32-byte recovery key. Throws `ClientError('invalid_input')` for another length. */
export function formatRecoveryKey(key: Uint8Array): string {
  if (!(key instanceof Uint8Array) || key.length !== RECOVERY_KEY_BYTES)
    throw new ClientError('invalid_input', `recovery key must be ${RECOVERY_KEY_BYTES} bytes`);
  const text = base32(key) + checksum(key);
  const groups: string[] = [];
  for (let i = 0; i < text.length; i += GROUP) groups.push(text.slice(i, i + GROUP));
  return groups.join('-');
}

/**
 * Parses a recovery key as a person typed it. Throws `ClientError('bad_recovery_key')` with
 * `details[0]` one of `RecoveryKeyProblem` for a character outside the alphabet, a wrong length,
 * non-zero padding bits, or a checksum mismatch (a typo).
 */
export function parseRecoveryKey(input: string): Uint8Array {
  const cleaned = input
    .toUpperCase()
    .replace(/[\s\-]/g, '')
    .replace(/O/g, '0')
    .replace(/[IL]/g, '1');
  const values: number[] = [];
  for (const ch of cleaned) {
    const v = ALPHABET.indexOf(ch);
    if (v < 0) fail('bad_character', `"${ch.length === 1 ? ch : '?'}" is not a recovery key character`);
    values.push(v);
  }
  if (values.length !== DATA_CHARS + CHECK_CHARS)
    fail('bad_length', `a recovery key has ${DATA_CHARS + CHECK_CHARS} characters, this has ${values.length}`);
  const key = new Uint8Array(RECOVERY_KEY_BYTES);
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (const v of values.slice(0, DATA_CHARS)) {
    acc = ((acc << 5) | v) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      key[o++] = (acc >> bits) & 0xff;
    }
  }
  if ((acc & ((1 << bits) - 1)) !== 0) fail('bad_padding', 'the recovery key has a typo');
  if (cleaned.slice(DATA_CHARS) !== checksum(key)) fail('checksum_mismatch', 'the recovery key has a typo');
  return key;
}
