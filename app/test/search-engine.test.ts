/**
 * The on-device search engine (app/src/search/engine.ts): the product rules of message search (typos,
 * accents, prefixes, filters, results that name the message) and the index bookkeeping (replace, remove,
 * persistence), plus a model test of the top-k ranking against a linear scan.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_QUERY_TERMS, MessageIndex, planQuery, terms, transpositions, typoBudget, TYPO_FALLBACK_BELOW } from '../src/search/engine.ts';
import type { SearchDoc } from '../src/search/protocol.ts';

const ANN = 'user-ann';
const BOB = 'user-bob';

function doc(id: string, text: string, over: Partial<SearchDoc> = {}): SearchDoc {
  return { id, convId: 'conv-1', author: ANN, ts: 1_700_000_000_000 + Number(id.replace(/\D/g, '') || 0), text, ...over };
}

function indexOf(docs: SearchDoc[]): MessageIndex {
  const index = new MessageIndex();
  index.addAll(docs);
  return index;
}

const ids = (index: MessageIndex, q: string, filters = {}, limit = 50) => index.search(q, filters, limit).hits.map((h) => h.id);

const chat = () =>
  indexOf([
    doc('m1', 'Meet me at the Café Noir on Friday'),
    doc('m2', 'The meeting moved to tomorrow', { author: BOB }),
    doc('m3', 'Her résumé is naïve about deployments', { convId: 'conv-2' }),
    doc('m4', 'filler message number four', { author: BOB, convId: 'conv-2' }),
    doc('m5', 'Invoice for the coffee order'),
  ]);

describe('search rules (issue 4)', () => {
  it('finds a word of five or more letters despite one typo: substitution, insertion, deletion, swap', () => {
    const index = chat();
    for (const q of ['meating', 'meetting', 'meetng', 'meetnig', 'tomorow', 'Firday']) {
      const out = index.search(q);
      expect(out.pass, q).toBe('typo');
      expect(out.hits.length, q).toBeGreaterThan(0);
    }
    expect(ids(index, 'meating')).toEqual(['m2']);
    expect(ids(index, 'Firday')).toEqual(['m1']);
    expect(ids(index, 'invioce')).toEqual(['m5']);
  });

  it('finds a swapped four-letter word next to an exact one ("Cafe Nior")', () => {
    expect(ids(chat(), 'Cafe Nior')).toEqual(['m1']);
  });

  it('does not guess typos in words under four letters', () => {
    const index = indexOf([doc('m1', 'the cat sat')]);
    expect(ids(index, 'cst')).toEqual([]);
    expect(ids(index, 'cat')).toEqual(['m1']);
  });

  it('is accent- and case-insensitive in both directions', () => {
    const index = chat();
    expect(ids(index, 'cafe')).toEqual(['m1']);
    expect(ids(index, 'CAFÉ noir')).toEqual(['m1']);
    expect(ids(index, 'resume naive')).toEqual(['m3']);
    const plain = indexOf([doc('m9', 'my resume is naive')]);
    expect(ids(plain, 'résumé NAÏVE')).toEqual(['m9']);
  });

  it('completes the last term as a prefix, and highlights the completed word', () => {
    const index = chat();
    const out = index.search('fri');
    expect(out.hits.map((h) => h.id)).toEqual(['m1']);
    expect(out.hits[0]!.terms).toEqual(['friday']);
    expect(ids(index, 'moved tomo')).toEqual(['m2']);
    expect(ids(index, 'depl')).toEqual(['m3']);
  });

  it('treats a finished last word (trailing space) as a whole word in the exact pass', () => {
    const toms = Array.from({ length: 12 }, (_, i) => doc(`m${i}`, `tom says hi ${i}`));
    const tomorrows = Array.from({ length: 12 }, (_, i) => doc(`m${100 + i}`, `tomorrow plan ${i}`));
    const index = indexOf([...toms, ...tomorrows]);
    expect(index.search('tom').total).toBe(24);
    const finished = index.search('tom ');
    expect(finished.pass).toBe('exact');
    expect(finished.total).toBe(12);
  });

  it('runs the typo pass only when the exact pass finds too few messages', () => {
    const many = Array.from({ length: TYPO_FALLBACK_BELOW }, (_, i) => doc(`m${i}`, `deploy number ${i}`));
    const index = indexOf([...many, doc('m50', 'deplyo typo')]);
    const out = index.search('deploy ');
    expect(out.pass).toBe('exact');
    expect(out.total).toBe(TYPO_FALLBACK_BELOW);
    expect(out.hits.map((h) => h.id)).not.toContain('m50');
    // With fewer exact matches the typo pass adds the misspelt one, ranked after the exact ones.
    index.remove('m0');
    const fewer = index.search('deploy ');
    expect(fewer.pass).toBe('typo');
    expect(fewer.hits.map((h) => h.id)).toContain('m50');
    expect(fewer.hits.at(-1)!.id).toBe('m50');
  });

  it('filters by conversation and by sender, excluding everyone else', () => {
    const index = chat();
    expect(ids(index, 'the').sort()).toEqual(['m1', 'm2', 'm5']);
    expect(ids(index, 'the', { author: BOB })).toEqual(['m2']);
    expect(ids(index, 'the', { author: ANN }).sort()).toEqual(['m1', 'm5']);
    expect(ids(index, 'the', { convId: 'conv-2' })).toEqual([]);
    expect(ids(index, 'number', { convId: 'conv-2', author: ANN })).toEqual([]);
    expect(ids(index, 'number', { convId: 'conv-2', author: BOB })).toEqual(['m4']);
    // Filters apply to the typo pass too.
    expect(ids(index, 'meating', { author: ANN })).toEqual([]);
  });

  it('returns what the UI needs to jump to the message', () => {
    const [hit] = chat().search('noir').hits;
    expect(hit).toMatchObject({ id: 'm1', convId: 'conv-1', author: ANN, text: 'Meet me at the Café Noir on Friday', terms: ['noir'] });
    expect(hit!.score).toBeGreaterThan(0);
  });

  it('ranks exact words above completions and typos, and the newest first on ties', () => {
    const index = indexOf([doc('m1', 'noirs'), doc('m2', 'noir'), doc('m3', 'noir'), doc('m4', 'nori')]);
    // Few exact matches, so the typo pass runs: the completion "noirs" and the swap "nori" come after.
    const out = index.search('noir');
    expect(out.pass).toBe('typo');
    expect(out.hits.map((h) => h.id)).toEqual(['m3', 'm2', 'm1', 'm4']);
  });

  it('ignores queries without words and never throws on odd input', () => {
    const index = chat();
    for (const q of ['', '   ', '!!!', '#', '\u0301']) expect(index.search(q)).toEqual({ hits: [], total: 0, pass: 'none' });
    for (const q of ['a', '💥', 'x'.repeat(500), 'é'.repeat(50), '\u0000']) expect(() => index.search(q)).not.toThrow();
  });
});

describe('query planning', () => {
  it('gives typo budgets by length and lists swapped spellings', () => {
    expect([1, 3, 4, 7, 8, 12].map((n) => typoBudget('x'.repeat(n)))).toEqual([0, 0, 1, 1, 2, 2]);
    expect(transpositions('nior').sort()).toEqual(['inor', 'niro', 'noir']);
    expect(transpositions('aab')).toEqual(['aba']);
    expect(terms('Café—NOIR, on Friday!')).toEqual(['cafe', 'noir', 'on', 'friday']);
  });

  it('prefixes only the last term in the exact pass, and skips a typo pass that would add nothing', () => {
    const plan = planQuery('cafe no')!;
    expect(plan.exact.map((t) => t.prefix)).toEqual([false, true]);
    expect(plan.typo!.map((t) => [t.prefix, t.typos])).toEqual([
      [true, 1],
      [true, 0],
    ]);
    expect(planQuery('ab')!.typo).toBeNull();
    expect(planQuery('  ')).toBeNull();
    // A two-letter earlier word stays whole even in the typo pass; at most MAX_QUERY_TERMS distinct words.
    expect(planQuery('ka lo')!.typo).toBeNull();
    expect(planQuery('kal lo')!.typo!.map((t) => t.prefix)).toEqual([true, true]);
    expect(planQuery('one two three four five six seven eight nine ten one')!.exact.map((t) => t.term)).toHaveLength(MAX_QUERY_TERMS);
  });
});

describe('index bookkeeping', () => {
  it('replaces a message added again under the same id, and forgets removed ones', () => {
    const index = chat();
    index.add(doc('m1', 'Meet me at the Blue Door instead'));
    expect(index.documentCount).toBe(5);
    expect(ids(index, 'noir ')).toEqual([]);
    expect(ids(index, 'blue door')).toEqual(['m1']);
    expect(index.remove('m1')).toBe(true);
    expect(index.remove('m1')).toBe(false);
    expect(ids(index, 'blue')).toEqual([]);
    expect(index.has('m1')).toBe(false);
    expect(index.documentCount).toBe(4);
  });

  it('keeps answering correctly across compaction after many removals', () => {
    const index = indexOf(Array.from({ length: 3000 }, (_, i) => doc(`m${i}`, i % 2 === 0 ? `even word${i}` : `odd word${i}`)));
    for (let i = 0; i < 2500; i++) index.remove(`m${i}`);
    expect(index.documentCount).toBe(500);
    expect(index.search('even', {}, 1000).total).toBe(250);
    expect(ids(index, 'word2999 ')[0]).toBe('m2999');
    expect(ids(index, 'word10 ', {}, 1000)).not.toContain('m10');
    expect(index.get('m10')).toBeUndefined();
    expect(index.get('m2999')?.text).toBe('odd word2999');
  });

  it('round-trips through JSON and refuses anything that is not a format-2 index', () => {
    const index = chat();
    const back = MessageIndex.fromJSON(JSON.parse(JSON.stringify(index)))!;
    expect(back.documentCount).toBe(5);
    for (const q of ['cafe nior', 'fri', 'the', 'meating']) expect(back.search(q)).toEqual(index.search(q));
    for (const bad of [null, {}, { v: 1, rows: [] }, { v: 2, rows: [['id', 'c', 'a', 'not a number', 't']] }, { v: 2, rows: [], extra: 1 }])
      expect(MessageIndex.fromJSON(bad)).toBeNull();
  });
});

describe('top-k ranking (model test against a full scan)', () => {
  const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf'];
  it('returns exactly the messages containing every query word, best `limit` first, consistent with a larger limit', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.constantFrom(...WORDS), { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 60 }),
        fc.uniqueArray(fc.constantFrom(...WORDS), { minLength: 1, maxLength: 2 }),
        fc.integer({ min: 1, max: 10 }),
        (texts, query, limit) => {
          const index = indexOf(texts.map((t, i) => doc(`m${i}`, t.join(' '), { author: i % 2 ? BOB : ANN })));
          const q = `${query.join(' ')} `; // finished words: no prefix (WORDS are ≥ 2 edits apart, so typos add nothing)
          const expected = texts.flatMap((t, i) => (query.every((w) => t.includes(w)) ? [`m${i}`] : []));
          const all = index.search(q, {}, 1000);
          expect(all.hits.map((h) => h.id).sort()).toEqual(expected.sort());
          expect(all.total).toBe(expected.length);
          const top = index.search(q, {}, limit);
          expect(top.hits.map((h) => h.id)).toEqual(all.hits.slice(0, limit).map((h) => h.id));
          const scores = all.hits.map((h) => h.score);
          expect(scores).toEqual([...scores].sort((a, b) => b - a));
        },
      ),
      { numRuns: 200 },
    );
  });
});
