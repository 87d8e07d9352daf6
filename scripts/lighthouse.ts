/**
 * `npm run lighthouse`: measures the sign-in screen of the production build with Lighthouse (from npm,
 * `npx lighthouse@13`) driving Debian's Chromium, against the real server, three runs; prints the median
 * of each category and writes docs/lighthouse.md. Needs the app built (`npm run build`).
 *
 * Lighthouse is not a dependency of the project (it is large and only used here): this script runs it
 * through `npx --yes lighthouse@13.5.0`, which installs it into npm's cache on first use.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { startServerProcess } from '../e2e/support/server.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../e2e/support/chromium.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const Report = z.object({
  lighthouseVersion: z.string(),
  categories: z.record(z.string(), z.object({ score: z.number().nullable() })),
  audits: z.record(z.string(), z.object({ displayValue: z.string().optional() })),
});

const server = await startServerProcess();
const dir = mkdtempSync(join(tmpdir(), 'parley-lh-'));
const runs: z.infer<typeof Report>[] = [];
try {
  for (let i = 0; i < 3; i++) {
    const out = join(dir, `run${i}.json`);
    const r = spawnSync('npx', ['--yes', 'lighthouse@13.5.0', `${server.url}/signin`, `--chrome-flags=${CHROMIUM_ARGS.join(' ')}`,
      '--only-categories=performance,accessibility,best-practices,seo', '--output=json', `--output-path=${out}`, '--quiet'], {
      cwd: root, env: { ...process.env, CHROME_PATH: CHROMIUM_PATH }, stdio: 'inherit', timeout: 240_000,
    });
    if (r.status !== 0) continue;
    const parsed = Report.safeParse(JSON.parse(readFileSync(out, 'utf8')));
    if (parsed.success && Object.values(parsed.data.categories).every((c) => c.score !== null)) runs.push(parsed.data);
  }
} finally {
  await server.stop();
}
if (runs.length === 0) {
  console.error('lighthouse produced no usable run');
  process.exit(1);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const cats = ['performance', 'accessibility', 'best-practices', 'seo'];
const scores = Object.fromEntries(cats.map((c) => [c, median(runs.map((r) => Math.round((r.categories[c]?.score ?? 0) * 100)))]));
const metric = (id: string) => runs.map((r) => r.audits[id]?.displayValue ?? '?').join(' / ');
const lines = [
  '# Lighthouse: sign-in screen',
  '',
  `Measured ${new Date().toISOString().slice(0, 10)} with \`npm run build && npm run lighthouse\` (Lighthouse ${runs[0]!.lighthouseVersion},`,
  `Debian Chromium, default mobile emulation and throttling, against the real server serving the production`,
  `build with precompressed assets). Median of ${runs.length} runs on a 2-core VM.`,
  '',
  '| category | score |',
  '|---|---|',
  ...cats.map((c) => `| ${c} | ${scores[c]} |`),
  '',
  `Per run: first contentful paint ${metric('first-contentful-paint')}; largest contentful paint ${metric('largest-contentful-paint')};`,
  `total blocking time ${metric('total-blocking-time')}.`,
  '',
];
writeFileSync(join(root, 'docs/lighthouse.md'), lines.join('\n'));
console.log(lines.join('\n'));
