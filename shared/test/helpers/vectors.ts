/** Test helpers: hex codec and zod schemas for the JSON vector files (they are outside data too). */
import { z } from 'zod';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';

/** Lower-case hex string (possibly empty) decoded to bytes by the schema. */
export const Hex = z
  .string()
  .regex(/^(?:[0-9a-f]{2})*$/)
  .transform((s) => hexToBytes(s));

export const hex = (bytes: Uint8Array): string => bytesToHex(bytes);
export const unhex = (text: string): Uint8Array => hexToBytes(text);

/** Returns a copy of `bytes` with bit `bit` of byte `index` flipped. */
export function flipBit(bytes: Uint8Array, index: number, bit = 0): Uint8Array {
  const out = bytes.slice();
  out[index] = out[index]! ^ (1 << bit);
  return out;
}

/** Parses a vector file with its schema; every file names its source. */
export function parseVectors<T extends z.ZodType>(schema: T, data: unknown): z.infer<T> {
  return schema.parse(data);
}
