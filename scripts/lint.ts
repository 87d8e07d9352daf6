/**
 * `npm run lint`: enforces the dependency boundaries (scripts/boundaries.ts) over every TypeScript file
 * in sync-server/src, shared/src and app/src, then type-checks every workspace. Exits non-zero on any problem.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { checkSource, type Violation } from './boundaries.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

function* walk(dir: string): Generator<string> {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return; // an area that does not exist yet has nothing to check
  }
  for (const name of entries) {
    if (name === 'node_modules' || name === 'dist') continue;
    const full = join(dir, name);
    if (statSync(full).isDirectory()) yield* walk(full);
    else if (/\.(ts|tsx|mts)$/.test(name) && !name.endsWith('.d.ts')) yield full;
  }
}

/** Runs the boundary rules over the repo; returns every violation. */
export function lintBoundaries(): Violation[] {
  const out: Violation[] = [];
  for (const area of ['sync-server/src', 'shared/src', 'app/src']) {
    for (const file of walk(join(root, area))) {
      out.push(...checkSource(relative(root, file), readFileSync(file, 'utf8')));
    }
  }
  return out;
}

const isMain = process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const violations = lintBoundaries();
  for (const v of violations) console.error(`${v.file}:${v.line}: ${v.message}`);
  console.log(`boundaries: ${violations.length === 0 ? 'ok' : `${violations.length} violation(s)`}`);
  let failed = violations.length > 0;
  if (!process.argv.includes('--no-typecheck')) {
    for (const pkg of ['shared', 'sync-server', 'app', 'e2e', 'scripts', 'bench']) {
      const r = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', pkg], { cwd: root, stdio: 'inherit' });
      console.log(`typecheck ${pkg}: ${r.status === 0 ? 'ok' : 'failed'}`);
      if (r.status !== 0) failed = true;
    }
  }
  process.exit(failed ? 1 : 0);
}
