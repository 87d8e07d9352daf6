/**
 * (e) On-device search over the decrypted history: MiniSearch (prefix + fuzzy, accent folding), index
 * build time and query latency. Baseline: a linear substring scan of the same plaintext (no index).
 */
import MiniSearch from 'minisearch';
import type { Ctx } from '../lib/context.ts';
import { round, row, type ScenarioResult } from '../lib/result.ts';
import { dist, rng, vocabulary } from '../lib/stats.ts';
import { historyTexts, lastHistoryTexts } from './history.ts';

const fold = (t: string) => t.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();

export async function search(ctx: Ctx): Promise<ScenarioResult> {
  const n = ctx.quick ? 20_000 : 100_000;
  const fromHistory = lastHistoryTexts !== undefined && lastHistoryTexts.length >= n;
  const texts = fromHistory ? lastHistoryTexts!.slice(0, n) : historyTexts(n);
  const docs = texts.map((text, i) => ({ id: i, text }));
  const t0 = performance.now();
  const ms = new MiniSearch<{ id: number; text: string }>({
    fields: ['text'],
    processTerm: (term) => fold(term),
    searchOptions: { prefix: true, fuzzy: 0.2, combineWith: 'AND' },
  });
  ms.addAll(docs);
  const buildMs = performance.now() - t0;
  const folded = texts.map(fold);
  const foldMs = performance.now() - t0 - buildMs;

  const r = rng(5);
  const vocab = vocabulary();
  const queries: string[] = [];
  for (let i = 0; i < 300; i++) {
    const w = vocab[Math.floor(vocab.length * r() ** 1.5)]!;
    const kind = i % 3;
    queries.push(kind === 0 ? w : kind === 1 ? w.slice(0, Math.max(3, w.length - 2)) : `${w} ${vocab[Math.floor(vocab.length * r())]!.slice(0, 4)}`);
  }
  for (const q of queries.slice(0, 20)) ms.search(q); // warm-up
  const idx: number[] = [];
  let hits = 0;
  for (const q of queries) {
    const s = performance.now();
    hits += ms.search(q).length;
    idx.push(performance.now() - s);
  }
  const scan: number[] = [];
  let scanHits = 0;
  for (const q of queries) {
    const s = performance.now();
    const terms = fold(q).split(' ');
    let c = 0;
    for (const t of folded) if (terms.every((x) => t.includes(x))) c++;
    scanHits += c;
    scan.push(performance.now() - s);
  }
  const a = dist(idx);
  const b = dist(scan);
  return {
    id: 'e',
    title: 'Search',
    setup: `${n.toLocaleString('en-US')} messages (${fromHistory ? "the decrypted history from (d)" : 'the same generated texts as (d)'}), ${queries.length} queries (whole words, prefixes, two-term AND with a prefix)`,
    rows: [
      row('index build', round(buildMs, 0), round(foldMs, 0), 'ms'),
      row('query p50', round(a.p50, 2), round(b.p50, 2), 'ms'),
      row('query p95', round(a.p95, 2), round(b.p95, 2), 'ms', { text: '≤ 5 ms', met: a.p95 <= 5 }),
    ],
    notes: [
      `Parley column = MiniSearch (prefix, fuzzy 0.2, AND), baseline column = linear scan of the lower-cased plaintext (its "build" is the folding pass). Mean results per query: index ${round(hits / queries.length, 0)}, scan ${round(scanHits / queries.length, 0)} (fuzzy and prefix matching find more). The app builds the index in a Web Worker, so the build does not block the UI; here it runs on the bench main thread.`,
    ],
  };
}
