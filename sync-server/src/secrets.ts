/**
 * The JWT secret when JWT_SECRET is unset: 32 random bytes generated once into `<dataDir>/jwt-secret`
 * (mode 0600) and reused on every restart, so tokens survive a restart of a single-machine install.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { toBase64Url } from '@parley/shared/protocol';

/** Minimum secret length accepted from the file (same rule as JWT_SECRET). */
const MIN_LENGTH = 32;

/**
 * Returns the secret stored in `<dataDir>/jwt-secret`, creating the directory (0700) and the file (0600)
 * when missing. Creation uses O_EXCL, so two processes starting at once agree on one secret.
 * Throws when the file exists but holds fewer than 32 characters, or on any I/O error.
 */
export async function loadOrCreateJwtSecret(dataDir: string): Promise<string> {
  const file = path.join(dataDir, 'jwt-secret');
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  try {
    await writeFile(file, `${toBase64Url(randomBytes(32))}\n`, { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if (!(error instanceof Error && 'code' in error && error.code === 'EEXIST')) throw error;
  }
  // Tighten permissions of a file created by an older version or by hand.
  await chmod(file, 0o600);
  const secret = (await readFile(file, 'utf8')).trim();
  if (secret.length < MIN_LENGTH) {
    throw new Error(`${file} holds a secret shorter than ${MIN_LENGTH} characters; delete it to generate a new one`);
  }
  return secret;
}
