/**
 * Server-side hashing of the keys clients derive from passwords and recovery keys. The server stores
 * argon2id(authKey): a leaked database still needs an argon2 run per guess on top of the client's KDF.
 */
import argon2 from 'argon2';
import { randomBytes } from 'node:crypto';

/** argon2id parameters for stored hashes (OWASP minimum: m = 19 MiB, t = 2, p = 1). */
export const SERVER_ARGON2 = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/** Hashes a derived key; the result is a PHC string `$argon2id$v=19$m=19456,t=2,p=1$…`. */
export async function hashKey(key: Uint8Array): Promise<string> {
  return argon2.hash(Buffer.from(key), SERVER_ARGON2);
}

/**
 * Verifies `key` against a PHC hash in constant time (argon2's own comparison). Returns false on
 * mismatch; throws only when `hash` is not a valid argon2 string (a corrupted row is a server fault).
 */
export async function verifyKey(hash: string, key: Uint8Array): Promise<boolean> {
  return argon2.verify(hash, Buffer.from(key));
}

let dummyHash: Promise<string> | null = null;

/**
 * A hash of random bytes with the same parameters as real hashes. Verifying against it costs the same
 * time as a real verify, so an unknown username answers as slowly as a wrong key.
 */
export function dummyKeyHash(): Promise<string> {
  dummyHash ??= hashKey(randomBytes(32));
  return dummyHash;
}
