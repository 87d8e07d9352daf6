/**
 * `runPeriodically` (blob GC and session pruning run on it): passes never overlap, a failed pass is logged and
 * the next tick runs again, and stop waits for the pass in progress and ends the ticks.
 */
import { expect, it } from 'vitest';
import { createLogger } from '../src/log.ts';
import { runPeriodically } from '../src/periodic.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

it('never overlaps, survives a failing pass, and stop waits for the pass in progress', async () => {
  const lines: string[] = [];
  const log = createLogger({ level: 'debug', sink: (l) => lines.push(l) });
  let active = 0;
  let maxActive = 0;
  let passes = 0;
  let finished = 0;
  const stop = runPeriodically('test job', 10, log, async () => {
    passes += 1;
    active += 1;
    maxActive = Math.max(maxActive, active);
    try {
      if (passes === 2) throw new Error('second pass fails');
      await sleep(35); // longer than the interval: ticks during it must be skipped
    } finally {
      active -= 1;
      finished += 1;
    }
  });
  await sleep(200);
  expect(maxActive).toBe(1);
  expect(passes).toBeGreaterThanOrEqual(3); // the failure did not stop the job
  expect(lines.some((l) => l.includes('"test job failed"'))).toBe(true);
  await stop();
  expect(active).toBe(0); // stop waited for the pass that was running
  const after = passes;
  await sleep(60);
  expect(passes).toBe(after);
  expect(finished).toBe(passes);
});
