/**
 * `npm run bench [-- --quick] [-- --scenario a,b,c,d,e]`: Parley against a plain Hocuspocus baseline, side by
 * side in one run. Prints a table and writes docs/benchmarks.md. See docs/benchmarks.md for the method.
 */
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fanout } from './scenarios/fanout.ts';
import { rooms } from './scenarios/rooms.ts';
import { idle } from './scenarios/idle.ts';
import { history } from './scenarios/history.ts';
import { search } from './scenarios/search.ts';
import type { Ctx } from './lib/context.ts';
import { fullGc } from './lib/stats.ts';
import type { ScenarioResult } from './lib/result.ts';
import { renderMarkdown, renderTable } from './lib/report.ts';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const sel = args.find((a) => a.startsWith('--scenario'));
const selIdx = args.indexOf('--scenario');
const selText = sel?.includes('=') ? sel.split('=')[1] : selIdx >= 0 ? args[selIdx + 1] : undefined;
const out = (() => {
  const i = args.indexOf('--out');
  return i >= 0 ? args[i + 1] : undefined;
})();
const noWrite = args.includes('--no-write');

const ALL: Record<string, (ctx: Ctx) => Promise<ScenarioResult>> = {
  a: fanout,
  b: rooms,
  c: idle,
  d: history,
  e: search,
};

const chosen = (selText ?? Object.keys(ALL).join(',')).split(',').map((s) => s.trim()).filter((s) => s !== '');
for (const c of chosen) if (!ALL[c]) {
  process.stderr.write(`unknown scenario ${c}; choose from ${Object.keys(ALL).join(',')}\n`);
  process.exit(2);
}

const started = Date.now();
const log = (s: string) => process.stdout.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${s}\n`);
const results: ScenarioResult[] = [];
const failures: string[] = [];
// Whole-run guard: the bench stops by itself.
const guard = setTimeout(() => {
  process.stderr.write('bench exceeded its 40-minute guard; exiting\n');
  process.exit(3);
}, 40 * 60_000);
guard.unref();

for (const id of chosen) {
  log(`scenario ${id}: start${quick ? ' (quick)' : ''}`);
  fullGc(); // each scenario starts on a clean heap, not with the garbage of the one before
  try {
    results.push(await ALL[id]!({ quick, log }));
  } catch (e) {
    failures.push(`${id}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    log(`scenario ${id} FAILED: ${e instanceof Error ? e.message : String(e)}`);
  }
}
const wallS = (Date.now() - started) / 1000;
const machine = {
  date: new Date().toISOString(),
  nproc: os.availableParallelism(),
  cpu: os.cpus()[0]?.model ?? 'unknown',
  memGiB: Math.round(os.totalmem() / 2 ** 30),
  node: process.version,
  platform: `${os.type()} ${os.release()}`,
};
const command = `npm run bench${args.length > 0 ? ` -- ${args.join(' ')}` : ''}`;
process.stdout.write(`\n${renderTable(results)}\n`);
for (const r of results) for (const n of r.notes) process.stdout.write(`  (${r.id}) ${n}\n`);
if (!noWrite) {
  const file = out ?? path.resolve(import.meta.dirname, '../docs/benchmarks.md');
  await writeFile(file, renderMarkdown({ results, machine, command, wallS, quick, failures }));
  log(`wrote ${file}`);
}
if (failures.length > 0) {
  process.stderr.write(`\n${failures.join('\n')}\n`);
  process.exit(1);
}
process.exit(0);
