/**
 * (e) On-device search over the decrypted history: the app's own engine (app/src/search/engine.ts, the
 * `MessageIndex` and query plan the search worker runs), index build time and query latency.
 * Baseline: a linear substring scan of the same plaintext (no index).
 */
import { MessageIndex, type SearchOutcome } from '../../app/src/search/engine.ts';
import { foldTerm, type SearchDoc } from '../../app/src/search/protocol.ts';
import type { Ctx } from '../lib/context.ts';
import { round, row, type ScenarioResult } from '../lib/result.ts';
import { dist, rng, vocabulary } from '../lib/stats.ts';
import { historyTexts, lastHistoryTexts } from './history.ts';

/** The app asks for 50 hits (search-client.ts). */
const LIMIT = 50;
const CLASSES = ['word', 'prefix', 'two terms'] as const;
type QueryClass = (typeof CLASSES)[number];

interface Timed {
  q: string;
  cls: QueryClass;
  ms: number;
  pass: SearchOutcome['pass'];
  total: number;
}

/** Which classes (and passes) the slowest 5% of queries belong to, and each class's p95. */
function slowestNote(label: string, timed: readonly Timed[]): string {
  const sorted = [...timed].sort((a, b) => b.ms - a.ms);
  const tail = sorted.slice(0, Math.max(1, Math.ceil(timed.length * 0.05)));
  const count = new Map<string, number>();
  for (const t of tail) count.set(`${t.cls} (${t.pass} pass)`, (count.get(`${t.cls} (${t.pass} pass)`) ?? 0) + 1);
  const parts = [...count].sort((a, b) => b[1] - a[1]).map(([k, c]) => `${c} ${k}`);
  const perClass = CLASSES.map((c) => `${c} ${round(dist(timed.filter((t) => t.cls === c).map((t) => t.ms)).p95, 2)} ms`);
  const typo = timed.filter((t) => t.pass === 'typo').length;
  const worst = sorted.slice(0, 3).map((t) => `"${t.q}" ${round(t.ms, 1)} ms / ${t.total.toLocaleString('en-US')} matches`);
  return `${label}: slowest 5% (${tail.length} queries) = ${parts.join(', ')}; p95 by class: ${perClass.join(', ')}; typo pass ran for ${typo}/${timed.length} queries; slowest: ${worst.join(', ')}.`;
}

export async function search(ctx: Ctx): Promise<ScenarioResult> {
  const n = ctx.quick ? 20_000 : 100_000;
  const fromHistory = lastHistoryTexts !== undefined && lastHistoryTexts.length >= n;
  const texts = fromHistory ? lastHistoryTexts!.slice(0, n) : historyTexts(n);
  // Shaped like the app's documents: string ids, one conversation (as in (d)), four senders for the filter run.
  const docs: SearchDoc[] = texts.map((text, i) => ({ id: `m${i}`, convId: 'history', author: `u${i % 4}`, ts: 1_700_000_000_000 + i * 1000, text }));
  const t0 = performance.now();
  const index = new MessageIndex();
  index.addAll(docs);
  const buildMs = performance.now() - t0;
  const folded = texts.map((t) => foldTerm(t));
  const foldMs = performance.now() - t0 - buildMs;

  const r = rng(5);
  const vocab = vocabulary();
  const queries: Array<{ q: string; cls: QueryClass }> = [];
  for (let i = 0; i < 300; i++) {
    const w = vocab[Math.floor(vocab.length * r() ** 1.5)]!;
    const kind = i % 3;
    const q = kind === 0 ? w : kind === 1 ? w.slice(0, Math.max(3, w.length - 2)) : `${w} ${vocab[Math.floor(vocab.length * r())]!.slice(0, 4)}`;
    queries.push({ q, cls: CLASSES[kind]! });
  }
  const run = (filters: { author?: string }): Timed[] =>
    queries.map(({ q, cls }) => {
      const s = performance.now();
      const out = index.search(q, filters, LIMIT);
      return { q, cls, ms: performance.now() - s, pass: out.pass, total: out.total };
    });
  // The first pass over the queries doubles as the JIT warm-up (the typo pass's code is cold until typo
  // queries come); it is reported as a note, the table shows the second pass.
  const cold = dist(run({}).map((t) => t.ms));
  const timed = run({});
  const filtered = run({ author: 'u1' });
  // The CPU cost without scheduling noise (the bench shares its cores): each query's best of 5 runs.
  const best = queries.map(({ q }) => {
    let min = Infinity;
    for (let k = 0; k < 5; k++) {
      const s = performance.now();
      index.search(q, {}, LIMIT);
      min = Math.min(min, performance.now() - s);
    }
    return min;
  });
  const scan: number[] = [];
  let scanHits = 0;
  for (const { q } of queries) {
    const s = performance.now();
    const terms = foldTerm(q).split(' ');
    let c = 0;
    for (const t of folded) if (terms.every((x) => t.includes(x))) c++;
    scanHits += c;
    scan.push(performance.now() - s);
  }
  const a = dist(timed.map((t) => t.ms));
  const f = dist(filtered.map((t) => t.ms));
  const m = dist(best);
  const b = dist(scan);
  const matches = timed.reduce((s, t) => s + t.total, 0);
  return {
    id: 'e',
    title: 'Search',
    setup: `${n.toLocaleString('en-US')} messages (${fromHistory ? 'the decrypted history from (d)' : 'the same generated texts as (d)'}), ${queries.length} queries (whole words, prefixes, two-term AND with a prefix), ${LIMIT} hits each, as the app asks; timed on a second pass over the queries (the first warms the JIT)`,
    rows: [
      row('index build', round(buildMs, 0), round(foldMs, 0), 'ms'),
      row('query p50', round(a.p50, 2), round(b.p50, 2), 'ms'),
      row('query p95', round(a.p95, 2), round(b.p95, 2), 'ms', { text: '≤ 5 ms', met: a.p95 <= 5 }),
    ],
    notes: [
      `Parley column = the app's engine (app/src/search/engine.ts: MiniSearch's radix tree as the dictionary, own postings, BM25 top-${LIMIT}): every word AND, exact words plus a prefix on the last term; a typo pass (prefixes, 1 edit from 4 letters, 2 from 8, swapped neighbours) only when that finds < 10 hits. Baseline column = linear scan of the lower-cased plaintext (its "build" is the folding pass). Mean matches per query: index ${round(matches / queries.length, 0)}, scan ${round(scanHits / queries.length, 0)}. The app builds the index in a Web Worker, so the build does not block the UI; here it runs on the bench main thread.`,
      slowestNote('Unfiltered', timed),
      `First (cold) pass: p50 ${round(cold.p50, 2)} ms, p95 ${round(cold.p95, 2)} ms. With a sender filter (a quarter of the messages): p50 ${round(f.p50, 2)} ms, p95 ${round(f.p95, 2)} ms. Best of 5 runs per query (CPU cost without scheduling noise; the table above is one run each): p50 ${round(m.p50, 2)} ms, p95 ${round(m.p95, 2)} ms, max ${round(m.max, 2)} ms.`,
    ],
  };
}
