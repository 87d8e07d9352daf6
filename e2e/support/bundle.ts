/**
 * Size of JavaScript files of the production build (app/dist), gzipped at level 9 as a server or CDN
 * would send them. Used by the performance test and by `docs/app.md`'s measurement command.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { repoRoot } from './server.ts';

/** Sums the gzip sizes of `paths` (URL paths like `/assets/index-abc.js`) from app/dist. */
export function initialJsGzipBytes(paths: readonly string[]): { total: number; files: string[] } {
  let total = 0;
  const files: string[] = [];
  for (const p of paths) {
    const bytes = gzipSync(readFileSync(join(repoRoot, 'app/dist', p)), { level: 9 }).length;
    total += bytes;
    files.push(`${p} ${(bytes / 1024).toFixed(1)} KiB`);
  }
  return { total, files };
}
