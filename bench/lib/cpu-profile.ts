/**
 * Diagnostics, not part of any result: with `BENCH_CPU_PROFILE=<dir>`, every child process the bench starts
 * (servers, receiver children) runs with `--cpu-prof` and writes `<label>-<time>.cpuprofile` into `<dir>` when
 * it exits (each child exits on SIGTERM or when its IPC channel closes, so the profile is written). The
 * bench process itself is profiled with `node --cpu-prof --import tsx bench/run.ts …`.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';

/** Node flags that profile a child labelled `label`, or none when `BENCH_CPU_PROFILE` is unset. */
export function cpuProfileFlags(label: string): string[] {
  const dir = process.env['BENCH_CPU_PROFILE'];
  if (!dir) return [];
  const abs = resolve(dir);
  mkdirSync(abs, { recursive: true });
  return ['--cpu-prof', `--cpu-prof-dir=${abs}`, `--cpu-prof-name=${label}-${Date.now()}.cpuprofile`];
}
