#!/usr/bin/env node
/**
 * `npm test`: the whole suite, in order — lint (boundaries + typecheck), vitest (unit + integration against
 * real PostgreSQL, PGlite and Redis), then Playwright end-to-end tests in Debian's Chromium against the real
 * server. Each step writes machine-readable results to .test-results/; the last line printed is
 * `N passed, N failed` (CI reads it). Exit code is non-zero when anything failed or a step crashed.
 *
 * Options: --skip-e2e, --only-e2e; extra args after `--` go to vitest.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
// The project's pinned Node (the `node` devDependency), even when this script was started by an older one.
const pinnedNode = join(root, 'node_modules/node/bin/node');
const NODE = existsSync(pinnedNode) ? pinnedNode : process.execPath;
const results = join(root, '.test-results');
rmSync(results, { recursive: true, force: true });
mkdirSync(results, { recursive: true });

const args = process.argv.slice(2);
const dashdash = args.indexOf('--');
const passthrough = dashdash >= 0 ? args.slice(dashdash + 1) : [];
const skipE2e = args.includes('--skip-e2e');
const onlyE2e = args.includes('--only-e2e');

let passed = 0;
let failed = 0;
const lines = [];

function run(name, cmd, cmdArgs, env = {}) {
  console.log(`\n=== ${name}: ${cmd} ${cmdArgs.join(' ')}`);
  const PATH = `${join(root, 'node_modules/.bin')}:${process.env.PATH ?? ''}`;
  const r = spawnSync(cmd, cmdArgs, { cwd: root, stdio: 'inherit', env: { ...process.env, PATH, ...env } });
  return r.status ?? 1;
}

function readJson(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

if (!onlyE2e) {
  // 1. lint: boundaries + typecheck, counted as one check each
  const lintStatus = run('lint', NODE, ['node_modules/tsx/dist/cli.mjs', 'scripts/lint.ts']);
  if (lintStatus === 0) passed += 1;
  else failed += 1;
  lines.push(`lint: ${lintStatus === 0 ? 'ok' : 'FAILED'}`);

  // 2. vitest
  const vitestFile = join(results, 'vitest.json');
  const vStatus = run('vitest', NODE, [
    'node_modules/vitest/vitest.mjs', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${vitestFile}`, ...passthrough,
  ]);
  const v = readJson(vitestFile);
  if (v) {
    const failedSuites = (v.testResults ?? []).filter((f) => f.status === 'failed' && (f.assertionResults ?? []).length === 0).length;
    passed += v.numPassedTests;
    failed += v.numFailedTests + failedSuites;
    lines.push(`vitest: ${v.numPassedTests} passed, ${v.numFailedTests} failed, ${failedSuites} file(s) failed to run`);
  }
  if (!v || (vStatus !== 0 && v.numFailedTests === 0 && failed === 0)) {
    failed += 1;
    lines.push(`vitest: exited ${vStatus} without a usable report`);
  }
}

if (!skipE2e) {
  // 3. Playwright end-to-end, against the production build the server serves
  const e2eFile = join(results, 'e2e.json');
  const buildStatus = run('build app', 'npm', ['run', 'build', '-w', '@parley/app']);
  if (buildStatus !== 0) {
    failed += 1;
    lines.push('e2e: app build failed');
  } else {
    const pStatus = run('e2e', NODE, ['node_modules/@playwright/test/cli.js', 'test', '-c', 'e2e/playwright.config.ts'], {
      PLAYWRIGHT_JSON_OUTPUT_NAME: e2eFile,
    });
    const p = readJson(e2eFile);
    if (p && p.stats) {
      const ok = (p.stats.expected ?? 0) + (p.stats.flaky ?? 0);
      const bad = p.stats.unexpected ?? 0;
      passed += ok;
      failed += bad;
      lines.push(`e2e: ${ok} passed, ${bad} failed${p.stats.flaky ? ` (${p.stats.flaky} flaky)` : ''}`);
      if (pStatus !== 0 && bad === 0) {
        failed += 1;
        lines.push(`e2e: exited ${pStatus}`);
      }
    } else {
      failed += 1;
      lines.push(`e2e: exited ${pStatus} without a report${existsSync('/usr/bin/chromium') ? '' : ' (no /usr/bin/chromium: apt-get install -y chromium)'}`);
    }
  }
}

console.log('\n=== summary');
for (const l of lines) console.log(l);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
