/**
 * Smoke test that the benchmark code runs end to end (not a timed test): `bench/run.ts --quick --scenario c`
 * starts a real Parley server and a plain Hocuspocus baseline in child processes, connects 200 idle clients
 * to each, prints the table and exits 0. Needs PostgreSQL on 127.0.0.1:5432 like the integration tests.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('bench smoke', () => {
  it('runs the idle-connections scenario at quick size and prints the table', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--quick', '--scenario', 'c', '--no-write'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 110_000,
    });
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toContain('(c) Idle connections');
    expect(r.stdout).toMatch(/connected and synced\s+200\/200\s+200\/200/);
  }, 120_000);
});
