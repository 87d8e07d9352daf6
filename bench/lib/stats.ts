/** Small statistics helpers. */
import v8 from 'node:v8';
import vm from 'node:vm';

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export interface Dist {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export function dist(values: readonly number[]): Dist {
  const s = [...values].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / Math.max(1, s.length);
  return { n: s.length, p50: percentile(s, 50), p95: percentile(s, 95), p99: percentile(s, 99), max: s.at(-1) ?? NaN, mean };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `check` every `every` ms until true or `ms` elapsed; returns whether it became true. */
export async function waitFor(check: () => boolean, ms: number, every = 25): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await sleep(every);
  }
  return check();
}

/**
 * Like `waitFor` with an asynchronous check (e.g. a question to a child process): polls every `every` ms
 * until true or `ms` elapsed. A check that throws ends the wait with that error.
 */
export async function waitForAsync(check: () => Promise<boolean>, ms: number, every = 25): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return true;
    await sleep(every);
  }
  return check();
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function pool<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SYL = ['ka', 'lo', 'mi', 'ra', 'ten', 'vo', 'shi', 'qu', 'zen', 'pa', 'dor', 'li', 'nu', 'bex', 'tor', 'sa', 'fi', 'mon', 'gri', 'yel'];
/** A fixed vocabulary of 3,000 pseudo-words (plus some real ones with accents) for message texts and queries. */
export function vocabulary(): string[] {
  const r = rng(7);
  const words = new Set<string>(['café', 'naïve', 'résumé', 'meeting', 'tomorrow', 'deploy', 'coffee', 'lunch', 'release', 'invoice']);
  while (words.size < 3000) {
    const n = 2 + Math.floor(r() * 3);
    let w = '';
    for (let i = 0; i < n; i++) w += SYL[Math.floor(r() * SYL.length)];
    words.add(w);
  }
  return [...words];
}

/** A chat-like message text of 4..16 words (Zipf-ish word choice). */
export function makeText(r: () => number, vocab: readonly string[], i: number): string {
  const n = 4 + Math.floor(r() * 13);
  const words: string[] = [];
  for (let k = 0; k < n; k++) words.push(vocab[Math.floor(vocab.length * r() ** 2.5)]!);
  return `${words.join(' ')} #${i}`;
}

let gcNow: (() => void) | undefined;

/**
 * A full garbage collection of the bench process now (V8's `gc`, exposed at run time). Each scenario, and each
 * fresh-device open of (d), starts on a clean heap: a fresh device is a fresh page, and no open should pay for
 * the garbage of the run before it (a 100,000-message open leaves up to ~300 MB).
 */
export function fullGc(): void {
  if (!gcNow) {
    v8.setFlagsFromString('--expose-gc');
    gcNow = vm.runInNewContext('gc') as () => void;
  }
  gcNow();
}
