/**
 * Safety numbers ([WRAP-4]): a 60-digit number two users compare in person (or by QR) to confirm that
 * neither identity key was substituted. Each side's half is 30 digits derived from SHA-512 iterated over
 * (context, userId, identity key); the halves are ordered by user id, so both users see the same number.
 */
import { sha512 } from '@noble/hashes/sha2.js';
import { concatBytes, lp } from './bytes.ts';
import { CONTEXT } from './contexts.ts';
import { expectBytes } from './errors.ts';
import { utf8 } from '../protocol/encoding.ts';

const ITERATIONS = 5200;

function half(userId: string, identityPublic: Uint8Array): string {
  expectBytes('identityPublic', identityPublic, 32);
  let h = sha512(lp(utf8(CONTEXT.safetyNumber), utf8(userId), identityPublic));
  for (let i = 1; i < ITERATIONS; i++) h = sha512(concatBytes(h, identityPublic));
  let digits = '';
  for (let i = 0; i < 6; i++) {
    // 5 bytes -> a 40-bit integer -> 5 decimal digits (mod 100000), as Signal does.
    let n = 0;
    for (let j = 0; j < 5; j++) n = n * 256 + h[i * 5 + j]!;
    digits += String(n % 100000).padStart(5, '0');
  }
  return digits;
}

/** The 60-digit safety number for two users' identity keys, identical on both sides. */
export function safetyNumber(a: { userId: string; identityPublic: Uint8Array }, b: { userId: string; identityPublic: Uint8Array }): string {
  const ha = half(a.userId, a.identityPublic);
  const hb = half(b.userId, b.identityPublic);
  return a.userId < b.userId ? ha + hb : hb + ha;
}

/** Splits a safety number into 12 groups of 5 digits for display. */
export function formatSafetyNumber(n: string): string[] {
  return n.match(/\d{5}/g) ?? [];
}
