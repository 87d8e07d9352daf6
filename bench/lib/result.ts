/** The shape every scenario returns; run.ts turns it into the console table and docs/benchmarks.md. */
export interface Row {
  metric: string;
  parley: number | string;
  baseline: number | string;
  /** Unit shown after the numbers (ms, MiB, kB, %…). */
  unit: string;
  /** Parley / baseline (computed when both are numbers and the baseline is not 0). */
  ratio?: number;
  /** Target text, and whether it was met (undefined: no target). */
  target?: string;
  met?: boolean;
}

export interface ScenarioResult {
  id: string;
  title: string;
  /** What exactly ran (sizes, durations). */
  setup: string;
  rows: Row[];
  notes: string[];
}

export interface Sizes {
  quick: boolean;
}

export function row(metric: string, parley: number | string, baseline: number | string, unit: string, target?: { text: string; met: boolean }): Row {
  const r: Row = { metric, parley, baseline, unit };
  if (typeof parley === 'number' && typeof baseline === 'number' && baseline !== 0 && Number.isFinite(parley) && Number.isFinite(baseline))
    r.ratio = parley / baseline;
  if (target) {
    r.target = target.text;
    r.met = target.met;
  }
  return r;
}

export const MiB = 1024 * 1024;
export const round = (x: number, d = 1) => (Number.isFinite(x) ? Math.round(x * 10 ** d) / 10 ** d : x);
